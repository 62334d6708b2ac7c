package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const testDossier = "12-345678"

// validPrincipals holds one correctly scoped principal per role.
var validPrincipals = []Principal{
	{Subject: "mv-handlaggare-1", Role: RoleMigrationsverket},
	{Subject: "lst-ab-7", Role: RoleCountyBoard, Lan: "01"},
	{Subject: "fbr-2", Role: RoleFolkbildningsradet},
	{Subject: "org-user-3", Role: RoleOrganiser, Org: "8020016281"},
	{Subject: "person-4", Role: RoleAsylumSeeker, Dossier: testDossier},
}

// invalidPrincipals are rejected by validate; wantInErr names the field the
// error must point at.
var invalidPrincipals = []struct {
	name      string
	p         Principal
	wantInErr string
}{
	{"missing subject", Principal{Role: RoleMigrationsverket}, "subject"},
	{"missing role", Principal{Subject: "s"}, "missing role"},
	{"unknown role", Principal{Subject: "s", Role: "admin"}, "unknown role"},
	{"role wrong case", Principal{Subject: "s", Role: "Organiser", Org: "8020016281"}, "unknown role"},
	{"county board without lan", Principal{Subject: "s", Role: RoleCountyBoard}, "requires lan"},
	{"county board one-digit lan", Principal{Subject: "s", Role: RoleCountyBoard, Lan: "1"}, "malformed lan"},
	{"county board letters", Principal{Subject: "s", Role: RoleCountyBoard, Lan: "AB"}, "malformed lan"},
	{"county board abolished lan 02", Principal{Subject: "s", Role: RoleCountyBoard, Lan: "02"}, "malformed lan"},
	{"county board non-existent lan 26", Principal{Subject: "s", Role: RoleCountyBoard, Lan: "26"}, "malformed lan"},
	{"county board with org", Principal{Subject: "s", Role: RoleCountyBoard, Lan: "01", Org: "8020016281"}, "must not have org"},
	{"organiser without org", Principal{Subject: "s", Role: RoleOrganiser}, "requires org"},
	{"organiser hyphenated org", Principal{Subject: "s", Role: RoleOrganiser, Org: "802001-6281"}, "malformed org"},
	{"organiser nine digits", Principal{Subject: "s", Role: RoleOrganiser, Org: "802001628"}, "malformed org"},
	{"organiser with dossier", Principal{Subject: "s", Role: RoleOrganiser, Org: "8020016281", Dossier: testDossier}, "must not have dossier"},
	{"asylum seeker without dossier", Principal{Subject: "s", Role: RoleAsylumSeeker}, "requires dossier"},
	{"asylum seeker dossier without hyphen", Principal{Subject: "s", Role: RoleAsylumSeeker, Dossier: "12345678"}, "malformed dossier"},
	{"asylum seeker dossier misplaced hyphen", Principal{Subject: "s", Role: RoleAsylumSeeker, Dossier: "123-45678"}, "malformed dossier"},
	{"asylum seeker dossier letter", Principal{Subject: "s", Role: RoleAsylumSeeker, Dossier: "12-34567x"}, "malformed dossier"},
	{"asylum seeker dossier too long", Principal{Subject: "s", Role: RoleAsylumSeeker, Dossier: "12-3456789"}, "malformed dossier"},
	{"asylum seeker with lan", Principal{Subject: "s", Role: RoleAsylumSeeker, Dossier: testDossier, Lan: "01"}, "must not have lan"},
	{"migrationsverket with lan", Principal{Subject: "s", Role: RoleMigrationsverket, Lan: "01"}, "must not have lan"},
	{"folkbildningsradet with dossier", Principal{Subject: "s", Role: RoleFolkbildningsradet, Dossier: testDossier}, "must not have dossier"},
}

func TestPrincipalValidate(t *testing.T) {
	for _, p := range validPrincipals {
		if err := p.validate(); err != nil {
			t.Errorf("validate(%v) = %v, want nil", p, err)
		}
	}
	for _, tt := range invalidPrincipals {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.validate()
			if !errors.Is(err, ErrInvalidPrincipal) {
				t.Fatalf("validate() = %v, want ErrInvalidPrincipal", err)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantInErr)
			}
			assertNoDossier(t, err.Error())
		})
	}
}

func assertNoDossier(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(s, testDossier) || strings.Contains(s, "345678") {
		t.Errorf("output leaks the dossier number: %q", s)
	}
}

func TestPrincipalRedaction(t *testing.T) {
	seeker := Principal{Subject: "person-4", Role: RoleAsylumSeeker, Dossier: testDossier}
	organiser := Principal{Subject: "org-user-3", Role: RoleOrganiser, Org: "8020016281"}

	var jsonLog, textLog bytes.Buffer
	slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("call", "principal", seeker)
	slog.New(slog.NewTextHandler(&textLog, nil)).Info("call", "principal", seeker)

	outputs := map[string]string{
		"String": seeker.String(),
		"%v":     fmt.Sprintf("%v", seeker),
		"%+v":    fmt.Sprintf("%+v", seeker),
		"%#v":    fmt.Sprintf("%#v", seeker),
		"%s ptr": fmt.Sprintf("%s", &seeker),
		"json":   jsonLog.String(),
		"text":   textLog.String(),
	}
	for name, out := range outputs {
		assertNoDossier(t, out)
		if strings.Contains(out, "person-4") {
			t.Errorf("%s: asylum seeker subject not redacted: %q", name, out)
		}
		if !strings.Contains(out, "asylum_seeker") || !strings.Contains(out, redacted) {
			t.Errorf("%s: want role and redaction marker, got %q", name, out)
		}
	}

	if got, want := organiser.String(), `role="organiser" org="8020016281" sub="org-user-3"`; got != want {
		t.Errorf("organiser String() = %s, want %s", got, want)
	}
	if got, want := (Principal{Subject: "lst", Role: RoleCountyBoard, Lan: "14"}).String(), `role="lansstyrelse" lan="14" sub="lst"`; got != want {
		t.Errorf("county board String() = %s, want %s", got, want)
	}
	// %q on the subject keeps a crafted subject from forging log lines.
	if got := (Principal{Subject: "x\nrole=migrationsverket", Role: RoleOrganiser}).String(); strings.Contains(got, "\n") {
		t.Errorf("String() contains a raw newline: %q", got)
	}
}

func TestContext(t *testing.T) {
	if _, ok := FromContext(context.Background()); ok {
		t.Error("FromContext(Background) reported a principal")
	}
	want := validPrincipals[1]
	got, ok := FromContext(WithPrincipal(context.Background(), want))
	if !ok || got != want {
		t.Errorf("FromContext = %v, %v; want %v, true", got, ok, want)
	}
}
