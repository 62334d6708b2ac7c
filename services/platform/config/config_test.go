package config

import (
	"flag"
	"log/slog"
	"testing"
)

func TestEnvThenFlags(t *testing.T) {
	t.Setenv("TIA_GRPC_ADDR", "127.0.0.1:7000")
	t.Setenv("TIA_DATABASE_DSN", "sqlite:env.db")
	t.Setenv("TIA_LOG_LEVEL", "debug")
	t.Setenv("TIA_ACTIVITY_ADDR", "127.0.0.1:7001")

	var s Service
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	s.Register(fs, "127.0.0.1:9090", "activity")
	if err := Parse(fs, []string{"-database-dsn", "sqlite:flag.db"}); err != nil {
		t.Fatal(err)
	}
	if s.GRPCAddr != "127.0.0.1:7000" {
		t.Errorf("GRPCAddr = %q, want from env", s.GRPCAddr)
	}
	if s.DatabaseDSN != "sqlite:flag.db" {
		t.Errorf("DatabaseDSN = %q, want flag to win", s.DatabaseDSN)
	}
	if s.LogLevel != slog.LevelDebug {
		t.Errorf("LogLevel = %v", s.LogLevel)
	}
	if *s.Peers["activity"] != "127.0.0.1:7001" {
		t.Errorf("activity peer = %q", *s.Peers["activity"])
	}
	if err := s.Check(); err == nil {
		t.Error("Check passed without a token key")
	}
}
