#!/usr/bin/env bash
# Runs every go test -fuzz target of the project for a short, bounded time
# (FUZZTIME, default 4s each). Each target's committed corpus is in its
# package's testdata/fuzz/<Target>/ and runs as a plain test in `make unit`
# too. With SAVE_CORPUS=1, new inputs the fuzzer found interesting are copied
# from the Go cache into testdata so they can be committed.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-4s}
cache=$(go env GOCACHE)/fuzz
targets=(
	services/platform/listing:FuzzParseFilter
	services/platform/listing:FuzzParsePage
	services/platform/resname:FuzzMatch
	services/platform/clock:FuzzParseDate
	services/platform/dossier:FuzzParse
	services/platform/pseudonym:FuzzOf
	services/platform/pseudonym:FuzzParseKey
	services/platform/auth:FuzzVerify
	services/activity/internal/domain:FuzzOrgNumber
	services/travel/internal/domain:FuzzParseClaimName
	services/statistics/internal/domain:FuzzReadCSV
)
for t in "${targets[@]}"; do
	dir=${t%%:*} name=${t##*:}
	echo "fuzz $dir $name ($FUZZTIME)"
	for try in 1 2; do
		if out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "./$dir" 2>&1); then
			break
		fi
		# The fuzzing engine itself sometimes stops with "context deadline
		# exceeded" as its time runs out, without a failing input (no
		# testdata/fuzz file is written then): run that target once more.
		if [ "$try" = 1 ] && grep -q 'context deadline exceeded' <<<"$out" && ! grep -q 'Failing input written' <<<"$out"; then
			echo "  (the fuzzing engine timed out without a failing input; once more)"
			continue
		fi
		echo "$out"
		exit 1
	done
	if [ "${SAVE_CORPUS:-}" = 1 ]; then
		pkg=$(cd "$dir" && go list .)
		mkdir -p "$dir/testdata/fuzz/$name"
		{ find "$cache/$pkg/$name" -type f 2>/dev/null || true; } | head -n 25 | xargs -r cp -t "$dir/testdata/fuzz/$name/" || true
	fi
done
echo "fuzz: ${#targets[@]} targets passed"
