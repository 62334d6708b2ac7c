package gateway

import (
	"encoding/json"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/tia-platform/tia/proto/openapi"
	"github.com/tia-platform/tia/services/platform/testkit"
)

// TestEveryOperationReachesARouteOfItsOwn: a request written after each
// operation of the API document (as TestRefdataDoesNotShadowRoutes reads
// it) reaches a route, and no two operations reach the same one. So no
// route shadows another, and the order in which New registers the services
// (the registry's last, for speed) changes no route.
func TestEveryOperationReachesARouteOfItsOwn(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openapi.JSON, &doc); err != nil {
		t.Fatal(err)
	}
	var logs testkit.LogBuffer
	h, _ := edgeFor(t, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	param := regexp.MustCompile(`\{[a-zA-Z_]+\}`)
	reached := map[string]string{} // method and route → the operation's path
	for path, item := range doc.Paths {
		if !strings.HasPrefix(path, "/v1/") {
			continue // health, readiness, the document and its page
		}
		for _, method := range []string{"GET", "POST", "PATCH", "PUT", "DELETE"} {
			if _, ok := item[strings.ToLower(method)]; !ok {
				continue
			}
			concrete := param.ReplaceAllString(path, "x1")
			var body io.Reader
			if method == "POST" || method == "PATCH" || method == "PUT" {
				body = strings.NewReader("{}")
			}
			edgeCall(t, h, method, concrete, "tok", body)
			// The last request line is this request's.
			var line struct{ Msg, Route string }
			for l := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
				var m struct{ Msg, Route string }
				if json.Unmarshal([]byte(l), &m) == nil && m.Msg == "request" {
					line = m
				}
			}
			if line.Route == "" {
				t.Errorf("%s %s reached no route", method, concrete)
				continue
			}
			key := method + " " + line.Route
			if other, dup := reached[key]; dup {
				t.Errorf("%s %s and %s %s both reached route %s", method, path, method, other, line.Route)
			}
			reached[key] = path
		}
	}
	if len(reached) < 90 {
		t.Fatalf("only %d operations reached a route", len(reached))
	}
}
