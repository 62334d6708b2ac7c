# TIA platform. Two commands on a fresh machine: `make run` and `make test`.
# Everything else is built with the Go toolchain alone: buf and the protoc
# plugins are pinned in proto/tools/go.mod and built into .cache/bin.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

GO        ?= go
BIN       := .cache/bin
BUF       := $(BIN)/buf
MODULES   := proto services/platform services/activity services/statistics services/travel services/notification services/embedded gateway deploy
# protovalidate's validate.proto comes from the Go module proxy: the buf schema
# registry is not reachable from the build machines.
PROTOVALIDATE := github.com/bufbuild/protovalidate@v1.2.2
# buf breaking compares the protos with this git revision.
BREAKING_AGAINST ?= HEAD~1
# tia_build_info{version,commit} of the binaries `make build` and `make images` make.
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
VERSION_LDFLAGS := -X github.com/tia-platform/tia/services/platform/telemetry.Version=$(VERSION) -X github.com/tia-platform/tia/services/platform/telemetry.Commit=$(COMMIT)

.PHONY: run test unit fuzz e2e outage-test deploy-test images bench profile proto proto-deps tools lint vet fmt-check check-generated breaking build clean

## run: start the embedded default (all services + REST edge) with demo data
run:
	$(GO) run ./services/embedded/cmd/tia -data-dir data

## test: every test (generated code, lint, unit and integration, end to end)
test: check-generated lint breaking clients-npm unit fuzz

## unit: the Go tests of every module, including the embedded and production-path tests
unit:
	$(GO) test -count=1 -timeout 20m $(addprefix ./,$(addsuffix /...,$(MODULES)))

## fuzz: every go test -fuzz target (parsers: CSV imports, filters, page tokens, resource names, dates,
## dossier and organisation numbers, tokens) for a short bounded time; FUZZTIME=30s for longer runs
fuzz:
	FUZZTIME=$${FUZZTIME:-4s} bash .ci/fuzz.sh

## e2e: only the production-path test (separate binaries, PostgreSQL, NATS)
e2e:
	$(GO) test -count=1 -timeout 10m -run 'TestProduction' -v ./services/embedded/e2e/

## outage-test: the production path through a 30 s NATS outage (make test runs it with 5 s)
outage-test:
	TIA_TEST_NATS_OUTAGE=30s $(GO) test -count=1 -timeout 10m -run 'TestNATSOutage' -v ./deploy/

## deploy-test: the deployment checks (compose, kustomize), TLS and the independent upgrade under load
deploy-test:
	$(GO) test -count=1 -timeout 10m -v ./deploy/

## images: build the container images (needs a Docker engine; none runs on the build machines)
images:
	for b in activity statistics travel notification gateway; do \
		docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) --target $$b -t tia-$$b . ; done

## bench: benchmarks; prints BENCH lines
bench:
	$(GO) run ./services/embedded/cmd/tia-bench
	$(GO) run ./services/statistics/cmd/statistics-bench
	$(GO) run ./services/embedded/cmd/activity-bench
	$(GO) run ./services/travel/cmd/travel-bench
	$(GO) run ./services/embedded/cmd/travel-bench
	$(GO) run ./services/notification/cmd/notification-bench -duration 60s
	$(GO) run ./services/embedded/pagestest/cmd/pages-bench

## profile: CPU and allocation profiles (pprof) of each benchmarked path into .cache/profiles/, and their top
## entries (REST GET and catalogue through the embedded edge, statistics service process, payment run, event path)
PROFILES := .cache/profiles
profile:
	mkdir -p $(PROFILES)
	$(GO) run ./services/embedded/cmd/tia-bench -skip-production -profile-dir $(PROFILES)
	$(GO) run ./services/embedded/cmd/activity-bench -profile-dir $(PROFILES)
	$(GO) run ./services/statistics/cmd/statistics-bench -profile-dir $(PROFILES)
	$(GO) run ./services/travel/cmd/travel-bench -profile-dir $(PROFILES)
	$(GO) run ./services/notification/cmd/notification-bench -duration 20s -profile-dir $(PROFILES)
	for p in $(PROFILES)/*.cpu.pprof; do echo "== $$p (CPU, cumulative)"; \
		$(GO) tool pprof -top -cum -nodecount=30 $$p 2>/dev/null | tail -n +5; done
	for p in $(PROFILES)/*.allocs.pprof; do echo "== $$p (bytes allocated)"; \
		$(GO) tool pprof -sample_index=alloc_space -base $${p%.allocs.pprof}.allocs-base.pprof -top -nodecount=20 $$p 2>/dev/null | tail -n +5; done

## build: one binary per service, the gateway, and the embedded default into bin/
build:
	$(GO) build -ldflags "$(VERSION_LDFLAGS)" -o bin/ ./services/activity/cmd/activity ./services/statistics/cmd/statistics \
		./services/travel/cmd/travel ./services/notification/cmd/notification ./gateway/cmd/gateway \
		./services/embedded/cmd/tia ./services/platform/cmd/tia-token

tools: $(BUF)
$(BUF): proto/tools/go.mod proto/tools/go.sum
	cd proto/tools && GOWORK=off $(GO) build -o ../../$(BIN)/ \
		github.com/bufbuild/buf/cmd/buf \
		google.golang.org/protobuf/cmd/protoc-gen-go \
		google.golang.org/grpc/cmd/protoc-gen-go-grpc \
		github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway \
		github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2
	touch $(BUF)

# openapi3 converts protoc-gen-openapiv2's Swagger 2.0 output into the
# OpenAPI 3.1 document (proto/openapi/openapi3, a module of its own so that
# its dependencies stay out of the API module). Rebuilt each time: it reads
# the descriptors compiled into proto/gen.
.PHONY: openapi3
OPENAPI3 := $(BIN)/openapi3 -edge proto/openapi/edge.yaml -http proto/http.yaml
openapi3:
	cd proto/openapi/openapi3 && GOWORK=off $(GO) build -o $(CURDIR)/$(BIN)/openapi3 .

## clients-npm: install the npm tooling of the API document (clients/typescript: redocly lint,
## openapi-typescript + openapi-fetch for the client test in services/embedded/clienttest, Redoc)
.PHONY: clients-npm docs-assets
CLIENTS := clients/typescript
clients-npm: $(CLIENTS)/node_modules/.package-lock.json
$(CLIENTS)/node_modules/.package-lock.json: $(CLIENTS)/package.json $(CLIENTS)/package-lock.json
	cd $(CLIENTS) && npm ci --no-audit --no-fund

## docs-assets: copy the Redoc bundle that package-lock.json pins into the gateway (served at /docs)
docs-assets: clients-npm
	install -m 0644 $(CLIENTS)/node_modules/redoc/bundles/redoc.standalone.js \
		$(CLIENTS)/node_modules/redoc/bundles/redoc.standalone.js.LICENSE.txt gateway/third_party/redoc/
	install -m 0644 $(CLIENTS)/node_modules/redoc/LICENSE gateway/third_party/redoc/redoc.LICENSE

proto-deps: .cache/proto/buf/validate/validate.proto
.cache/proto/buf/validate/validate.proto: Makefile
	dir=$$(cd proto/tools && GOWORK=off $(GO) mod download -json $(PROTOVALIDATE) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p'); \
	mkdir -p $(@D) && install -m 0644 "$$dir/proto/protovalidate/buf/validate/validate.proto" $@

## proto: format, lint and regenerate the API module from proto/
proto: tools proto-deps
	$(BUF) format -w
	$(BUF) lint
	flock .cache/proto.lock sh -c 'rm -rf proto/gen .cache/openapiv2 && $(BUF) generate && \
		$(MAKE) --no-print-directory openapi3 && \
		$(OPENAPI3) -in .cache/openapiv2/tia.swagger.json -out proto/openapi/openapi.json'

## check-generated: fail when the committed generated code differs from what `make proto` writes
check-generated: tools proto-deps
	rm -rf .cache/generated && mkdir -p .cache/generated
	$(BUF) generate -o .cache/generated
	diff -r proto/gen .cache/generated/proto/gen
	$(MAKE) --no-print-directory openapi3
	mkdir -p .cache/generated/proto/openapi
	$(OPENAPI3) -in .cache/generated/.cache/openapiv2/tia.swagger.json -out .cache/generated/proto/openapi/openapi.json
	diff proto/openapi/openapi.json .cache/generated/proto/openapi/openapi.json
	@echo "generated code is up to date"

## breaking: buf breaking against $(BREAKING_AGAINST) (skipped when that revision has no protos)
breaking: tools proto-deps
	rm -rf .cache/against && mkdir -p .cache/against
	if git cat-file -e $(BREAKING_AGAINST):proto/tia 2>/dev/null; then \
		git archive $(BREAKING_AGAINST) proto/tia buf.yaml | tar -x -C .cache/against; \
		mkdir -p .cache/against/.cache && cp -r .cache/proto .cache/against/.cache/; \
		(cd .cache/against && ../bin/buf build proto -o ../against.binpb); \
		$(BUF) breaking proto --against .cache/against.binpb; \
		echo "no breaking changes against $(BREAKING_AGAINST)"; \
	else echo "$(BREAKING_AGAINST) has no protos: nothing to compare"; fi

## lint: buf lint and format, go vet, gofmt
lint: tools proto-deps vet fmt-check
	$(BUF) lint
	$(BUF) format -d --exit-code

vet:
	$(GO) vet $(addprefix ./,$(addsuffix /...,$(MODULES)))

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v -E '\.pb(\.gw)?\.go$$')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

clean:
	rm -rf bin .cache/generated .cache/against .cache/against.binpb
