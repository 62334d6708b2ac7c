package deploy

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tia-platform/tia/services/activity"
	"github.com/tia-platform/tia/services/notification"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/config"
	"github.com/tia-platform/tia/services/statistics"
	"github.com/tia-platform/tia/services/travel"
)

// components are the services as their binaries host them: their own
// settings (Component.Config) are flags of the binary too.
var components = map[string]app.Component{
	"activity":     activity.Component,
	"statistics":   statistics.Component,
	"travel":       travel.Component,
	"notification": notification.Component,
}

// services are the four service binaries; gateway is the REST edge.
var services = []string{"activity", "statistics", "travel", "notification"}

const gateway = "gateway"

// repoRoot is the repository root, relative to this package.
const repoRoot = ".."

// peersOf reads which services a service binary calls from its main.go: the
// string arguments after the component in app.Main(x.Component, "activity"),
// which become -activity-addr (TIA_ACTIVITY_ADDR).
func peersOf(t *testing.T, service string) []string {
	t.Helper()
	path := filepath.Join(repoRoot, "services", service, "cmd", service, "main.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	var peers []string
	found := false
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Main" {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "app" {
			return true
		}
		found = true
		for _, arg := range call.Args[1:] {
			lit, ok := arg.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Fatalf("%s: app.Main's peers must be string literals for this test to read them", path)
			}
			p, _ := strconv.Unquote(lit.Value)
			peers = append(peers, p)
		}
		return true
	})
	if !found {
		t.Fatalf("%s: no app.Main call", path)
	}
	return peers
}

// binaryVars returns the TIA_* variables a binary reads: those of the flag
// set it builds (config.Service and the service's own Config for the
// services, config.Gateway for the edge), exactly what -h lists.
func binaryVars(t *testing.T, binary string) []string {
	t.Helper()
	fs := flag.NewFlagSet(binary, flag.ContinueOnError)
	if binary == gateway {
		var g config.Gateway
		g.Register(fs)
		return config.EnvVars(fs)
	}
	var s config.Service
	s.Register(fs, "", peersOf(t, binary)...)
	if c := components[binary]; c.Config != nil {
		c.Config().Register(fs)
	}
	return config.EnvVars(fs)
}

// TestServicesReadSettingsOnlyThroughConfig: every TIA_* name in a
// service's code is a setting of its binary's flag set, so nothing is read
// from the environment behind the configuration's back (and so without a
// flag, a check and a line in the guide).
func TestServicesReadSettingsOnlyThroughConfig(t *testing.T) {
	for _, b := range services {
		vars := binaryVars(t, b)
		for _, v := range ownVars(t, b) {
			if !slices.Contains(vars, v) {
				t.Errorf("%s reads %s outside its Config", b, v)
			}
		}
	}
}

var envName = regexp.MustCompile(`^TIA_[A-Z0-9_]+$`)

// ownVars finds the TIA_* variables a service's code reads itself (with
// os.Getenv, in its options): every string literal that is such a name, in
// the non-test Go files of the service's module outside its benchmark
// commands.
func ownVars(t *testing.T, service string) []string {
	t.Helper()
	var vars []string
	dir := filepath.Join(repoRoot, "services", service)
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasSuffix(d.Name(), "-bench") || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if v, err := strconv.Unquote(lit.Value); err == nil && envName.MatchString(v) && !slices.Contains(vars, v) {
					vars = append(vars, v)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(vars)
	return vars
}

// secretValue reports whether a variable holds a secret itself: it must
// come from a Secret when set.
func secretValue(v string) bool {
	return strings.HasSuffix(v, "_PASSWORD") || v == "TIA_SERVICE_TOKEN" || strings.HasPrefix(v, "TIA_PSEUDONYM_KEY")
}

// secretFile reports whether a variable names a file of key material: it
// must lie in a volume mounted from a Secret when set.
func secretFile(v string) bool {
	return v == "TIA_TOKEN_KEY" || v == "TIA_SERVICE_KEY" || strings.HasPrefix(v, "TIA_TLS_")
}

// peerVar reports whether a variable names another service's address, and which.
func peerVar(v string) (string, bool) {
	for _, s := range services {
		if v == config.EnvVar(s+"-addr") {
			return s, true
		}
	}
	return "", false
}

// listenVar reports whether a variable is a listen address of the binary.
func listenVar(v string) bool {
	switch v {
	case "TIA_GRPC_ADDR", "TIA_HTTP_ADDR", "TIA_METRICS_ADDR", "TIA_HEALTH_ADDR":
		return true
	}
	return false
}

// requiredVars must have a non-empty value in every deployment.
func requiredVar(binary, v string) bool {
	if _, ok := peerVar(v); ok {
		return true
	}
	switch v {
	case "TIA_GRPC_ADDR", "TIA_DATABASE_DSN", "TIA_NATS_URL", "TIA_TOKEN_KEY", "TIA_METRICS_ADDR", "TIA_HTTP_ADDR":
		return true
	case "TIA_HEALTH_ADDR":
		return binary != gateway
	}
	return false
}

func TestBinaryVarsAreDerived(t *testing.T) {
	// A sanity check of the derivation itself: the variables the README
	// documents are among those the flag sets declare.
	for _, b := range append(append([]string(nil), services...), gateway) {
		vars := strings.Join(binaryVars(t, b), " ")
		want := []string{"TIA_METRICS_ADDR", "TIA_TLS_CERT", "TIA_TLS_CA"}
		if b == gateway {
			want = append(want, "TIA_HTTP_ADDR", "TIA_ACTIVITY_ADDR", "TIA_NOTIFICATION_ADDR")
		} else {
			want = append(want, "TIA_GRPC_ADDR", "TIA_DATABASE_DSN", "TIA_NATS_URL", "TIA_TOKEN_KEY", "TIA_HEALTH_ADDR", "TIA_MIGRATE_ONLY")
		}
		for _, w := range want {
			if !strings.Contains(" "+vars+" ", " "+w+" ") {
				t.Errorf("%s: %s not among the variables read: %s", b, w, vars)
			}
		}
	}
}

// TestREADMEDocumentsEveryVariable: the operations guide names every
// variable a binary reads.
func TestREADMEDocumentsEveryVariable(t *testing.T) {
	guide, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range append(append([]string(nil), services...), gateway) {
		for _, v := range binaryVars(t, b) {
			if _, peer := peerVar(v); peer && b != gateway {
				continue // documented as TIA_<PEER>_ADDR
			}
			if !strings.Contains(string(guide), "`"+v+"`") {
				t.Errorf("deploy/README.md does not document %s (%s)", v, b)
			}
		}
	}
}

// TestRootREADMEDocumentsEveryVariable: the README's production table
// names every variable a binary reads, as the Config structs and flag sets
// declare them.
func TestRootREADMEDocumentsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range append(append([]string(nil), services...), gateway) {
		for _, v := range binaryVars(t, b) {
			if !strings.Contains(string(readme), "`"+v+"`") {
				t.Errorf("README.md does not document %s (%s)", v, b)
			}
		}
	}
}
