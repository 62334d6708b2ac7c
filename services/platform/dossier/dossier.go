// Package dossier reads Migrationsverket dossier numbers (NN-NNNNNN), the
// person's identity throughout the platform. One package, so that a token's
// claim, a claim form, a certificate and a pseudonym agree on what the same
// number is however it is written: the LMA card prints the number followed
// by the card's serial ("12-345678/1"), and people copy it with spaces.
package dossier

import (
	"regexp"
	"strings"
)

// Valid reports whether s is a dossier number in its normal form NN-NNNNNN,
// as a token carries it: no serial, no spaces.
func Valid(s string) bool {
	if len(s) != 9 || s[2] != '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i != 2 && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

// Normalize drops a card serial after "/" and surrounding spaces
// ("12-345678/1" is "12-345678") without checking what remains: every way
// of writing one number gives the same string.
func Normalize(s string) string {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

var written = regexp.MustCompile(`^([0-9]{2}-[0-9]{6})(/[0-9]{1,3})?$`)

// Parse returns the dossier number written in s: NN-NNNNNN, optionally
// followed by the card's serial of one to three digits, with spaces around;
// "" and false for anything else.
func Parse(s string) (string, bool) {
	m := written.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", false
	}
	return m[1], true
}
