// Package auth authenticates callers of the TIA platform and carries the
// verified caller through request contexts.
//
// Callers present a JWT (EdDSA or RS256) as a gRPC bearer token. The token
// names one of five roles and, for the roles whose access is limited to part
// of the data, the scope of that access: a län for a county board, an
// organisation number for an organiser and a dossier number for an asylum
// seeker. Dossier numbers are personal data, so this package never includes
// them in errors, log output or gRPC status messages.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/tia-platform/tia/services/platform/dossier"
	"github.com/tia-platform/tia/services/platform/refdata"
)

// Role is the kind of actor a caller acts as. The string values are the ones
// carried in the token's "role" claim.
type Role string

// The roles known to the platform. A token with any other role is rejected.
const (
	// RoleMigrationsverket is the Swedish Migration Agency, which sees all
	// dossiers nationally.
	RoleMigrationsverket Role = "migrationsverket"
	// RoleCountyBoard is a länsstyrelse, limited to its own län (Principal.Lan).
	RoleCountyBoard Role = "lansstyrelse"
	// RoleFolkbildningsradet is the Swedish National Council of Adult
	// Education, which works nationally.
	RoleFolkbildningsradet Role = "folkbildningsradet"
	// RoleOrganiser is an organisation running activities, limited to its own
	// organisation number (Principal.Org).
	RoleOrganiser Role = "organiser"
	// RoleAsylumSeeker is an individual, limited to their own dossier
	// (Principal.Dossier).
	RoleAsylumSeeker Role = "asylum_seeker"
)

// Principal is the verified caller. Scope fields are set according to role:
// Lan for county boards, Org for organisers, Dossier for asylum seekers; the
// others are empty. Verify and Issue enforce this, so handlers can rely on,
// for example, a county board principal always having a known län.
type Principal struct {
	// Subject identifies the user or service (the token's "sub").
	Subject string
	Role    Role
	// Lan is the two-digit län code of a county board.
	Lan string
	// Org is the 10-digit organisation number of an organiser.
	Org string
	// Dossier is an asylum seeker's dossier number (NN-NNNNNN). It is
	// personal data: never log it or put it in an error.
	Dossier string
}

const redacted = "[redacted]"

// String describes the principal for logs: role, scope and subject, with the
// dossier number redacted. An asylum seeker's subject is omitted too, because
// it identifies the same person the dossier does.
func (p Principal) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "role=%q", string(p.Role))
	if p.Lan != "" {
		fmt.Fprintf(&b, " lan=%q", p.Lan)
	}
	if p.Org != "" {
		fmt.Fprintf(&b, " org=%q", p.Org)
	}
	if p.Dossier != "" {
		b.WriteString(" dossier=" + redacted)
	}
	if p.Subject != "" {
		if p.identifiesPerson() {
			b.WriteString(" sub=" + redacted)
		} else {
			fmt.Fprintf(&b, " sub=%q", p.Subject)
		}
	}
	return b.String()
}

// GoString keeps the %#v verb, which would otherwise print every field, from
// leaking the dossier number.
func (p Principal) GoString() string {
	return "auth.Principal{" + p.String() + "}"
}

// LogValue implements slog.LogValuer. Without it, structured handlers such
// as slog.JSONHandler would serialise the struct fields, dossier included.
func (p Principal) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("role", string(p.Role))}
	if p.Lan != "" {
		attrs = append(attrs, slog.String("lan", p.Lan))
	}
	if p.Org != "" {
		attrs = append(attrs, slog.String("org", p.Org))
	}
	if p.Dossier != "" {
		attrs = append(attrs, slog.String("dossier", redacted))
	}
	if p.Subject != "" {
		sub := p.Subject
		if p.identifiesPerson() {
			sub = redacted
		}
		attrs = append(attrs, slog.String("sub", sub))
	}
	return slog.GroupValue(attrs...)
}

// identifiesPerson reports whether the subject must be treated as personal
// data.
func (p Principal) identifiesPerson() bool {
	return p.Role == RoleAsylumSeeker || p.Dossier != ""
}

// ErrInvalidPrincipal is wrapped by errors reporting a principal whose role
// or scope is unknown, missing or malformed.
var ErrInvalidPrincipal = errors.New("invalid principal")

// validate checks that the role is known and that exactly the scope field
// belonging to the role is set and well formed. Rejecting scope fields a role
// does not use (such as a lan on an organiser) keeps a mis-issued token from
// being interpreted differently by handlers that check different fields.
//
// The messages name the offending field but never its value: the values come
// from tokens and one of them is personal data.
func (p Principal) validate() error {
	if p.Subject == "" {
		return fmt.Errorf("%w: missing subject", ErrInvalidPrincipal)
	}
	var wantLan, wantOrg, wantDossier bool
	switch p.Role {
	case RoleMigrationsverket, RoleFolkbildningsradet:
	case RoleCountyBoard:
		wantLan = true
	case RoleOrganiser:
		wantOrg = true
	case RoleAsylumSeeker:
		wantDossier = true
	case "":
		return fmt.Errorf("%w: missing role", ErrInvalidPrincipal)
	default:
		return fmt.Errorf("%w: unknown role", ErrInvalidPrincipal)
	}
	checks := []struct {
		name  string
		value string
		want  bool
		valid func(string) bool
	}{
		{"lan", p.Lan, wantLan, validLan},
		{"org", p.Org, wantOrg, validOrg},
		{"dossier", p.Dossier, wantDossier, dossier.Valid},
	}
	for _, c := range checks {
		switch {
		case c.want && c.value == "":
			return fmt.Errorf("%w: role %s requires %s", ErrInvalidPrincipal, p.Role, c.name)
		case c.want && !c.valid(c.value):
			return fmt.Errorf("%w: malformed %s for role %s", ErrInvalidPrincipal, c.name, p.Role)
		case !c.want && c.value != "":
			return fmt.Errorf("%w: role %s must not have %s", ErrInvalidPrincipal, p.Role, c.name)
		}
	}
	return nil
}

// validLan accepts the two-digit code of an existing län. Checking against
// the reference data rather than just the shape rejects codes such as "02"
// (abolished) that would otherwise scope a county board to nothing.
func validLan(s string) bool {
	if !refdata.Digits(s, 2) {
		return false
	}
	_, ok := refdata.LanByCode(s)
	return ok
}

// validOrg accepts a 10-digit organisation number without a hyphen. The Luhn
// check digit is deliberately not verified: test and legacy data in the
// platform use numbers that fail it, and the organiser's identity is
// established by whoever issued the token, not by this check.
func validOrg(s string) bool { return refdata.Digits(s, 10) }

type principalKey struct{}

// WithPrincipal returns a context carrying p. The interceptors call it after
// verifying a token; tests and in-process callers may call it directly.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal stored by WithPrincipal. The boolean is
// false for unauthenticated calls, including anonymous calls to public
// methods.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
