package gateway

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tia-platform/tia/services/platform/testkit"
)

// TestEveryRuleReachesItsRoute: a path written after each rule of the REST
// mapping (proto/http.yaml), with the rule's method, reaches that rule's
// route and no other. So no two services' paths overlap, and the order in
// which New registers the services (the registry's last, for speed) changes
// no route.
func TestEveryRuleReachesItsRoute(t *testing.T) {
	raw, err := os.ReadFile("../proto/http.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type binding struct {
		Get, Post, Patch, Delete string
	}
	var cfg struct {
		HTTP struct {
			Rules []struct {
				Selector           string
				binding            `yaml:",inline"`
				AdditionalBindings []binding `yaml:"additional_bindings"`
			}
		}
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	type route struct{ method, template string }
	var routes []route
	add := func(b binding) {
		for method, template := range map[string]string{"GET": b.Get, "POST": b.Post, "PATCH": b.Patch, "DELETE": b.Delete} {
			if template != "" {
				routes = append(routes, route{method, template})
			}
		}
	}
	for _, r := range cfg.HTTP.Rules {
		add(r.binding)
		for _, b := range r.AdditionalBindings {
			add(b)
		}
	}
	if len(routes) < 80 {
		t.Fatalf("only %d routes read from http.yaml", len(routes))
	}

	var logs testkit.LogBuffer
	h, _ := edgeFor(t, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	variable := regexp.MustCompile(`\{[a-z_.]+(=([^}]*))?\}`)
	bare := regexp.MustCompile(`\{([a-z_.]+)\}`)
	for _, r := range routes {
		// {name=organisers/*/activities/*} is organisers/x1/activities/x1,
		// {projection_date} is x1.
		path := variable.ReplaceAllStringFunc(r.template, func(v string) string {
			m := variable.FindStringSubmatch(v)
			if m[2] == "" {
				return "x1"
			}
			return strings.ReplaceAll(m[2], "*", "x1")
		})
		var body io.Reader
		if r.method == "POST" || r.method == "PATCH" {
			body = strings.NewReader("{}")
		}
		edgeCall(t, h, r.method, path, "tok", body)
		// The last request line is this request's.
		var line struct{ Msg, Route string }
		for l := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
			var m struct{ Msg, Route string }
			if json.Unmarshal([]byte(l), &m) == nil && m.Msg == "request" {
				line = m
			}
		}
		// grpc-gateway writes {projection_date} as {projection_date=*}.
		want := bare.ReplaceAllString(r.template, "{$1=*}")
		if line.Route != want {
			t.Errorf("%s %s reached route %q, want %q", r.method, path, line.Route, want)
		}
	}
}
