package main

import (
	"bytes"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tia-platform/tia/services/platform/auth"
)

func TestRun(t *testing.T) {
	keyPath := filepath.Join(t.TempDir(), "keys", "dev.pem")
	tests := []struct {
		name      string
		args      []string
		want      *auth.Principal // nil means the command must fail
		wantInErr string
	}{
		{"county board", []string{"-role", "lansstyrelse", "-lan", "01"},
			&auth.Principal{Subject: "dev-lansstyrelse", Role: auth.RoleCountyBoard, Lan: "01"}, ""},
		{"organiser with subject", []string{"-role", "organiser", "-org", "8020016281", "-sub", "anna"},
			&auth.Principal{Subject: "anna", Role: auth.RoleOrganiser, Org: "8020016281"}, ""},
		{"asylum seeker", []string{"-role", "asylum_seeker", "-dossier", "12-345678", "-ttl", "1h"},
			&auth.Principal{Subject: "dev-asylum_seeker", Role: auth.RoleAsylumSeeker, Dossier: "12-345678"}, ""},
		{"explicit kid", []string{"-role", "migrationsverket", "-kid", "dev"},
			&auth.Principal{Subject: "dev-migrationsverket", Role: auth.RoleMigrationsverket}, ""},
		{"missing role", nil, nil, "-role is required"},
		{"unknown role", []string{"-role", "admin"}, nil, "unknown role"},
		{"missing scope", []string{"-role", "lansstyrelse"}, nil, "requires lan"},
		{"negative ttl", []string{"-role", "migrationsverket", "-ttl", "-1h"}, nil, "ttl"},
		{"positional argument", []string{"-role", "migrationsverket", "extra"}, nil, "unexpected arguments"},
		{"unknown flag", []string{"-nope"}, nil, "not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(append([]string{"-key", keyPath}, tt.args...), &stdout, &stderr)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("run succeeded, printed %q", stdout.String())
				}
				if !strings.Contains(err.Error(), tt.wantInErr) {
					t.Errorf("error %q does not mention %q", err, tt.wantInErr)
				}
				if stdout.Len() != 0 {
					t.Errorf("printed %q on failure", stdout.String())
				}
				return
			}
			if err != nil {
				t.Fatalf("run: %v (stderr %q)", err, stderr.String())
			}
			// A service pointed at the .pub file must accept the token.
			v, err := auth.LoadVerifier(keyPath + ".pub")
			if err != nil {
				t.Fatal(err)
			}
			out := stdout.String()
			if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
				t.Errorf("output %q is not a single line", out)
			}
			p, err := v.Verify(strings.TrimSpace(out))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if p != *tt.want {
				t.Errorf("token principal = %#v, want %#v", p, *tt.want)
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run([]string{"-h"}, &stdout, &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("run(-h) = %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(stderr.String(), "-role") {
		t.Errorf("usage does not list -role: %q", stderr.String())
	}
}
