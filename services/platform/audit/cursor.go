package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
)

// cursorKey keys the trail's page tokens. A token only says where the next
// page starts and the caller's scope is checked on every page, so the MAC
// guards against edited tokens rather than against disclosure.
var cursorKey = []byte("tia-audit-cursor")

func cursor(seq int64) string {
	s := strconv.FormatInt(seq, 10)
	m := hmac.New(sha256.New, cursorKey)
	m.Write([]byte(s))
	return s + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:12])
}

func parseCursor(tok string) (int64, bool) {
	s, _, _ := strings.Cut(tok, ".")
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, hmac.Equal([]byte(tok), []byte(cursor(n)))
}
