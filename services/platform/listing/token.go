package listing

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"sync/atomic"
)

// tokenKey signs page tokens. Every instance of a service must share it, so
// the host sets it from the deployment's secret (SetTokenKey); until then a
// random key serves one process.
var tokenKey atomic.Pointer[[]byte]

func init() {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // never fails; see crypto/rand.Read
	tokenKey.Store(&k)
}

// SetTokenKey sets the key page tokens are signed with.
func SetTokenKey(key []byte) {
	k := append([]byte(nil), key...)
	tokenKey.Store(&k)
}

func tokenMAC(s string) string {
	m := hmac.New(sha256.New, *tokenKey.Load())
	m.Write([]byte("tia-page-token:" + s))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// signToken appends a MAC to an (unsigned) page token.
func signToken(s string) string {
	if s == "" {
		return ""
	}
	return s + "." + tokenMAC(s)
}

// verifyToken returns the token without its MAC if the MAC is right; ""
// (the first page) passes as it is.
func verifyToken(s string) (string, bool) {
	if s == "" {
		return "", true
	}
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return "", false
	}
	inner, mac := s[:i], s[i+1:]
	if !hmac.Equal([]byte(mac), []byte(tokenMAC(inner))) {
		return "", false
	}
	return inner, true
}
