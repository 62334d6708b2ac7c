// Package clienttest checks the REST API's document the way a client
// developer meets it, with third-party tools from npm (installed by `make`
// into clients/typescript with `npm ci`): Redocly's linter finds no error in
// /openapi.json, and a TypeScript client generated from the running
// platform's /openapi.json by openapi-typescript, called through
// openapi-fetch, drives a scenario through the embedded platform
// (clients/typescript/scenario.ts).
package clienttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tia-platform/tia/services/embedded"
	"github.com/tia-platform/tia/services/platform/auth"
)

// npmDir is the folder of the npm tooling, from this package's folder.
const npmDir = "../../../clients/typescript"

// tools returns the folder of the npm tooling, failing the test (never
// skipping it) when the packages are not installed.
func tools(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(npmDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err != nil {
		t.Fatalf("the npm packages are not installed in %s: run `make clients-npm` (npm ci)", dir)
	}
	return dir
}

// run runs a command of the npm tooling in dir and returns its output.
func run(t *testing.T, dir string, env []string, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s\n%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.Bytes()
}

func bin(dir, name string) string { return filepath.Join(dir, "node_modules", ".bin", name) }

// TestLintOpenAPI lints the committed document with Redocly's recommended
// rules (clients/typescript/redocly.yaml): no errors.
func TestLintOpenAPI(t *testing.T) {
	dir := tools(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin(dir, "redocly"), "lint", "--config", "redocly.yaml", "--format", "json",
		"../../proto/openapi/openapi.json")
	cmd.Dir = dir
	// The CLI would otherwise ask a server whether it is the newest version.
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("redocly: %v\n%s", err, stderr.String())
	}
	var report struct {
		Totals struct {
			Errors, Warnings, Ignored int
		} `json:"totals"`
		Problems []struct {
			RuleID   string `json:"ruleId"`
			Severity string `json:"severity"`
			Message  string `json:"message"`
			Location []struct {
				Pointer string `json:"pointer"`
			} `json:"location"`
		} `json:"problems"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		t.Fatalf("redocly's report: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	for _, p := range report.Problems {
		where := ""
		if len(p.Location) > 0 {
			where = p.Location[0].Pointer
		}
		t.Logf("%s %s at %s: %s", p.Severity, p.RuleID, where, p.Message)
	}
	t.Logf("redocly lint: %d errors, %d warnings", report.Totals.Errors, report.Totals.Warnings)
	if report.Totals.Errors != 0 || exit != nil {
		t.Fatalf("redocly lint: %d errors (exit %v)", report.Totals.Errors, err)
	}
}

// TestGeneratedClientScenario generates the client from the running
// platform's /openapi.json, type-checks the scenario against it and runs it:
// an organiser, an agreement, an activity and a certificate; a claim by the
// asylum seeker; the county board's inbox; a CSV download. Every JSON answer
// is also validated against the document's schema with ajv (formats on:
// dates, date-times) and must carry no null.
func TestGeneratedClientScenario(t *testing.T) {
	dir := tools(t)
	p, err := embedded.Start(context.Background(), embedded.Options{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	base := "http://" + p.HTTPAddr

	token := func(pr auth.Principal) string {
		tok, err := p.Token(pr)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	organiser := embedded.DemoStudyAssociation
	env := []string{
		"TIA_BASE_URL=" + base,
		"TIA_ORG_NUMBER=" + organiser.Org,
		"TIA_TODAY=" + time.Now().Format(time.DateOnly),
		"TIA_DOSSIER_NUMBER=" + embedded.DemoAsylumSeeker.Dossier,
		"TIA_TOKEN_ORGANISER=" + token(organiser),
		"TIA_TOKEN_COUNTY_BOARD=" + token(embedded.DemoCountyBoard),
		"TIA_TOKEN_ASYLUM_SEEKER=" + token(embedded.DemoAsylumSeeker),
	}

	generated := filepath.Join(dir, "generated")
	if err := os.MkdirAll(generated, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, dir, nil, bin(dir, "openapi-typescript"), base+"/openapi.json", "-o", filepath.Join(generated, "tia.ts"))
	run(t, dir, nil, bin(dir, "tsc"), "-p", ".")
	out := run(t, dir, env, bin(dir, "tsx"), "scenario.ts")
	t.Logf("scenario.ts:\n%s", out)
	if !strings.Contains(string(out), "scenario passed") {
		t.Fatalf("the scenario did not finish:\n%s", out)
	}
}

// TestRedocBundleIsInstalledVersion: the Redoc bundle served at /docs
// (gateway/third_party/redoc) is the one of the redoc package that package-lock.json pins
// (`make docs-assets` copies it).
func TestRedocBundleIsInstalledVersion(t *testing.T) {
	dir := tools(t)
	installed, err := os.ReadFile(filepath.Join(dir, "node_modules", "redoc", "bundles", "redoc.standalone.js"))
	if err != nil {
		t.Fatal(err)
	}
	served, err := os.ReadFile(filepath.Join(dir, "..", "..", "gateway", "third_party", "redoc", "redoc.standalone.js"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(installed, served) {
		t.Fatal("gateway/third_party/redoc/redoc.standalone.js is not the installed redoc bundle: run `make docs-assets`")
	}
}
