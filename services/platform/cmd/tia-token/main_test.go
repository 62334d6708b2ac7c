package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// TestPublicOfAnExistingKey: -public derives the PEM public key and a JWKS
// from an existing private key (Ed25519 and RSA) without creating or
// changing it, and services verify the key's tokens with either.
func TestPublicOfAnExistingKey(t *testing.T) {
	dir := t.TempDir()
	edPath := filepath.Join(dir, "ed.pem")
	edKey, err := auth.DevKey(edPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(edPath + ".pub"); err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaPath := filepath.Join(dir, "rsa.pem")
	if err := os.WriteFile(rsaPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), 0o600); err != nil {
		t.Fatal(err)
	}
	edToken, err := auth.NewIssuer(edKey, "").Issue(auth.Principal{Subject: "s", Role: auth.RoleMigrationsverket}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"pem", "jwks"} {
		var out, errOut bytes.Buffer
		if err := run([]string{"-key", edPath, "-public", format}, &out, &errOut); err != nil {
			t.Fatalf("-public %s: %v", format, err)
		}
		file := filepath.Join(dir, "ed-public."+format)
		if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		v, err := auth.LoadVerifier(file)
		if err != nil {
			t.Fatalf("-public %s output: %v\n%s", format, err, out.String())
		}
		if _, err := v.Verify(edToken); err != nil {
			t.Errorf("token of the key with its -public %s: %v", format, err)
		}
		var rsaOut bytes.Buffer
		if err := run([]string{"-key", rsaPath, "-public", format}, &rsaOut, &errOut); err != nil {
			t.Fatalf("RSA -public %s: %v", format, err)
		}
		if format == "jwks" && !strings.Contains(rsaOut.String(), `"alg": "RS256"`) {
			t.Errorf("RSA JWKS lacks alg RS256:\n%s", rsaOut.String())
		}
	}
	if _, err := os.Stat(edPath + ".pub"); err == nil {
		t.Error("-public wrote a .pub file")
	}
	var out, errOut bytes.Buffer
	if err := run([]string{"-key", filepath.Join(dir, "missing.pem"), "-public", "jwks"}, &out, &errOut); err == nil {
		t.Error("-public of a missing key created one or succeeded")
	}
	if err := run([]string{"-key", edPath, "-public", "der"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), `"der"`) {
		t.Errorf("-public der = %v", err)
	}
}
