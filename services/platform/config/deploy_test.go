package config

import (
	"flag"
	"slices"
	"strings"
	"testing"
)

func TestEnvVarsNameEveryFlag(t *testing.T) {
	var s Service
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	s.Register(fs, "", "activity")
	vars := EnvVars(fs)
	for _, want := range []string{"TIA_GRPC_ADDR", "TIA_DATABASE_DSN", "TIA_TLS_CLIENT_CERT", "TIA_HEALTH_ADDR", "TIA_MIGRATE_ONLY", "TIA_ACTIVITY_ADDR"} {
		if !slices.Contains(vars, want) {
			t.Errorf("%s missing from %v", want, vars)
		}
	}
	var g Gateway
	gfs := flag.NewFlagSet("g", flag.ContinueOnError)
	g.Register(gfs)
	for _, want := range []string{"TIA_HTTP_ADDR", "TIA_TLS_CERT", "TIA_NOTIFICATION_ADDR", "TIA_LOG_LEVEL"} {
		if !slices.Contains(EnvVars(gfs), want) {
			t.Errorf("gateway: %s missing", want)
		}
	}
}

func TestMigrateOnlyNeedsTheDatabaseOnly(t *testing.T) {
	var s Service
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	s.Register(fs, "", "activity")
	if err := Parse(fs, []string{"-migrate-only", "-database-dsn", "sqlite:x.db"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); err != nil {
		t.Errorf("migrate-only without token key or peers: %v", err)
	}
}

func TestGatewayCheck(t *testing.T) {
	var g Gateway
	fs := flag.NewFlagSet("g", flag.ContinueOnError)
	g.Register(fs)
	t.Setenv("TIA_ACTIVITY_ADDR", "127.0.0.1:1,127.0.0.1:2")
	if err := Parse(fs, []string{"-statistics-addr", "s:1", "-travel-addr", "t:1"}); err != nil {
		t.Fatal(err)
	}
	if err := g.Check(); err == nil || !strings.Contains(err.Error(), "TIA_NOTIFICATION_ADDR") {
		t.Errorf("Check = %v, want TIA_NOTIFICATION_ADDR missing", err)
	}
	*g.Backends["notification"] = "n:1"
	g.TLS.Cert = "edge.crt"
	if err := g.Check(); err == nil {
		t.Error("a certificate without its key passed")
	}
	g.TLS.Key = "edge.key"
	if err := g.Check(); err != nil {
		t.Error(err)
	}
	if *g.Backends["activity"] != "127.0.0.1:1,127.0.0.1:2" {
		t.Errorf("activity = %q", *g.Backends["activity"])
	}
}
