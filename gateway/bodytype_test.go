package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A body of a type the API does not read is 415 naming Content-Type, and an
// unknown CSV dialect is 400 whatever the format asked for.
func TestBodyTypesAndDialects(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := csvUploads(next)
	tests := []struct {
		method, target, ctype string
		want                  int
		field                 string
	}{
		{"POST", "/v1/organisers", "application/xml", http.StatusUnsupportedMediaType, "Content-Type"},
		{"POST", "/v1/organisers", "image/png", http.StatusUnsupportedMediaType, "Content-Type"},
		{"POST", "/v1/organisers", "application/json; charset=utf-8", http.StatusNoContent, ""},
		{"POST", "/v1/organisers", "", http.StatusNoContent, ""},
		{"POST", "/v1/snapshots/2026-01-01:importCells", "text/csv", http.StatusNoContent, ""},
		{"GET", "/v1/organisers?dialect=NOT_A_VALUE", "", http.StatusBadRequest, "dialect"},
		{"GET", "/v1/organisers?dialect=excel-sv&format=csv", "", http.StatusNoContent, ""},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.target, strings.NewReader("<x/>"))
		if tt.ctype != "" {
			r.Header.Set("Content-Type", tt.ctype)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("%s %s (%s): %d, want %d: %s", tt.method, tt.target, tt.ctype, w.Code, tt.want, w.Body)
		}
		if tt.field != "" && !strings.Contains(w.Body.String(), `"field":"`+tt.field+`"`) {
			t.Errorf("%s %s: body %s does not name %s", tt.method, tt.target, w.Body, tt.field)
		}
	}
}
