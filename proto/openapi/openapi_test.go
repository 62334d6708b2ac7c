package openapi

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/tia-platform/tia/proto/access"
	_ "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	_ "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	_ "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	_ "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
)

type document struct {
	OpenAPI    string                          `json:"openapi"`
	Paths      map[string]map[string]operation `json:"paths"`
	Components struct {
		Schemas         map[string]schema          `json:"schemas"`
		SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
	} `json:"components"`
}

type operation struct {
	OperationID string                 `json:"operationId"`
	Security    *[]map[string][]string `json:"security"`
	Responses   map[string]struct {
		Ref     string                     `json:"$ref"`
		Content map[string]json.RawMessage `json:"content"`
	} `json:"responses"`
	RequestBody struct {
		Content map[string]json.RawMessage `json:"content"`
	} `json:"requestBody"`
}

type schema struct {
	Type       any               `json:"type"`
	Format     string            `json:"format"`
	Properties map[string]schema `json:"properties"`
	AnyOf      []schema          `json:"anyOf"`
	Items      *struct {
		OneOf []struct {
			Ref string `json:"$ref"`
		} `json:"oneOf"`
	} `json:"items"`
}

func load(t *testing.T) document {
	t.Helper()
	var d document
	if err := json.Unmarshal(JSON, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

var methods = []string{"get", "post", "put", "patch", "delete"}

func TestDocumentVersionAndPaths(t *testing.T) {
	d := load(t)
	if d.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", d.OpenAPI)
	}
	for _, want := range []string{
		"/v1/organisers/{organiser}/activities/{activity}",
		"/v1/organisers/{organiser}/activities/{activity}/certificates/{certificate}:renew",
		"/v1/recipients/{recipient}/messages/{message}/deliveries/{delivery}:replay",
		"/v1/lan/{lan}/meetings.ics", "/v1/kommuner/{kommun}/activities.atom",
		"/v1/lan", "/v1/lan/{lan}", "/v1/kommuner", "/v1/kommuner/{kommun}", "/healthz", "/readyz",
	} {
		if d.Paths[want] == nil {
			t.Errorf("no path %s", want)
		}
	}
	bad := regexp.MustCompile(`\{name(_[0-9]+)?\}|\{parent\}|ie\}|\{[a-z]+\.`)
	for path := range d.Paths {
		if bad.MatchString(path) {
			t.Errorf("path %s does not read like a resource", path)
		}
	}
}

// Every operation states its security; exactly the public methods of
// proto/access (and the edge's own public routes) need no token.
func TestDocumentSecurity(t *testing.T) {
	d := load(t)
	public := map[string]bool{}
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				m := sd.Methods().Get(j)
				if access.IsPublic("/" + string(sd.FullName()) + "/" + string(m.Name())) {
					public[strings.ToLower(string(m.Name()[:1]))+string(m.Name()[1:])] = true
				}
			}
		}
		return true
	})
	for _, edge := range []string{"getLiveness", "getReadiness", "getServiceReadiness", "getOpenApiDocument", "getApiReference", "listLan", "getLan", "listKommuner", "getKommun"} {
		public[edge] = true
	}
	if d.Components.SecuritySchemes["bearer"] == nil {
		t.Fatal("no bearer security scheme")
	}
	seenPublic := 0
	for path, item := range d.Paths {
		for _, m := range methods {
			op, ok := item[m]
			if !ok {
				continue
			}
			if op.Security == nil {
				t.Errorf("%s %s states no security", m, path)
				continue
			}
			isPublic := len(*op.Security) == 0
			if isPublic != public[op.OperationID] {
				t.Errorf("%s %s (%s): public %v, proto/access says %v", m, path, op.OperationID, isPublic, public[op.OperationID])
			}
			if isPublic {
				seenPublic++
			} else if len(*op.Security) != 1 || (*op.Security)[0]["bearer"] == nil {
				t.Errorf("%s %s: security %v", m, path, *op.Security)
			}
		}
	}
	if seenPublic < 12 {
		t.Errorf("only %d public operations", seenPublic)
	}
}

// Errors are typed google.rpc.Status with the details clients act on.
func TestDocumentErrors(t *testing.T) {
	d := load(t)
	status := d.Components.Schemas["google.rpc.Status"]
	details := status.Properties["details"]
	var refs []string
	if details.Items != nil {
		for _, o := range details.Items.OneOf {
			refs = append(refs, o.Ref)
		}
	}
	for _, want := range []string{"BadRequest", "ErrorInfo", "RetryInfo"} {
		if !strings.Contains(strings.Join(refs, " "), "google.rpc."+want) {
			t.Errorf("Status details %v lack %s", refs, want)
		}
		if d.Components.Schemas["google.rpc."+want].Properties["@type"].Type != "string" {
			t.Errorf("google.rpc.%s has no @type", want)
		}
	}
	for path, item := range d.Paths {
		if !strings.HasPrefix(path, "/v1/") || strings.HasSuffix(path, ".ics") || strings.HasSuffix(path, ".atom") {
			continue
		}
		for _, m := range methods {
			op, ok := item[m]
			if !ok {
				continue
			}
			// GET /v1/lan takes no input that could be wrong.
			if (op.Responses["400"].Ref != "#/components/responses/InvalidArgument" && op.OperationID != "listLan") ||
				op.Responses["default"].Ref != "#/components/responses/Error" {
				t.Errorf("%s %s: error responses %v", m, path, op.Responses)
			}
			if len(*op.Security) > 0 && op.Responses["401"].Ref == "" {
				t.Errorf("%s %s needs a token but has no 401", m, path)
			}
		}
	}
}

// Dates and timestamps have their formats.
func TestDocumentFormats(t *testing.T) {
	d := load(t)
	act := d.Components.Schemas["Activity"].Properties
	if act["startDate"].Format != "date" || act["endDate"].Format != "date" || act["createTime"].Format != "date-time" {
		t.Errorf("Activity: startDate %q, endDate %q, createTime %q", act["startDate"].Format, act["endDate"].Format, act["createTime"].Format)
	}
	// Output-only dates are "" until set (scalars are always sent).
	ended := d.Components.Schemas["Agreement"].Properties["endedDate"]
	if len(ended.AnyOf) != 2 || ended.AnyOf[0].Format != "date" {
		t.Errorf("Agreement.endedDate = %+v", ended)
	}
	if f := d.Components.Schemas["Route"].Properties["validFrom"].Format; f != "date" {
		t.Errorf("Route.validFrom format %q", f)
	}
}

// Every representation that is not JSON is there with its media type.
func TestDocumentMediaTypes(t *testing.T) {
	d := load(t)
	for _, tc := range []struct {
		path, method, status, mediaType string
		request                         bool
	}{
		{"/v1/snapshots:importPersons", "post", "", "text/csv", true},
		{"/v1/snapshots:importPersons", "post", "", "application/x-ndjson", true},
		{"/v1/snapshots:importCells", "post", "", "text/csv", true},
		{"/v1/organisers/{organiser}/activities", "get", "200", "text/csv", false},
		{"/v1/lan/{lan}/coverage:export", "get", "200", "text/csv", false},
		{"/v1/paymentRuns/{paymentRun}/file", "get", "200", "application/xml", false},
		{"/v1/lan/{lan}/meetings.ics", "get", "200", "text/calendar", false},
		{"/v1/kommuner/{kommun}/activities.atom", "get", "200", "application/atom+xml", false},
		{"/healthz", "get", "200", "text/plain", false},
		{"/readyz", "get", "503", "text/plain", false},
		{"/v1/kommuner", "get", "200", "application/json", false},
	} {
		op := d.Paths[tc.path][tc.method]
		content := op.RequestBody.Content
		if !tc.request {
			content = op.Responses[tc.status].Content
		}
		if content[tc.mediaType] == nil {
			t.Errorf("%s %s: no %s", tc.method, tc.path, tc.mediaType)
		}
	}
}

// operationIds are unique, lowerCamel and no reserved word of TypeScript.
func TestDocumentOperationIDs(t *testing.T) {
	d := load(t)
	reserved := map[string]bool{"import": true, "export": true, "delete": true, "default": true, "function": true, "new": true}
	lowerCamel := regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
	seen := map[string]string{}
	for path, item := range d.Paths {
		for _, m := range methods {
			op, ok := item[m]
			if !ok {
				continue
			}
			id := op.OperationID
			if !lowerCamel.MatchString(id) || reserved[id] {
				t.Errorf("%s %s: operationId %q", m, path, id)
			}
			if other, dup := seen[id]; dup {
				t.Errorf("operationId %s of %s %s and %s", id, m, path, other)
			}
			seen[id] = m + " " + path
		}
	}
	if len(seen) < 90 {
		t.Errorf("%d operations", len(seen))
	}
}

// The webhook deliveries are described (OpenAPI 3.1 webhooks) with the
// Standard Webhooks headers and the inbox message as body.
func TestDocumentWebhooks(t *testing.T) {
	var d struct {
		Webhooks map[string]map[string]struct {
			Parameters []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Ref string `json:"$ref"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"webhooks"`
	}
	if err := json.Unmarshal(JSON, &d); err != nil {
		t.Fatal(err)
	}
	post, ok := d.Webhooks["message"]["post"]
	if !ok {
		t.Fatal("no webhooks.message.post in the document")
	}
	headers := map[string]bool{}
	for _, p := range post.Parameters {
		if p.In == "header" {
			headers[p.Name] = true
		}
	}
	for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		if !headers[h] {
			t.Errorf("webhook does not describe the %s header", h)
		}
	}
	if ref := post.RequestBody.Content["application/json"].Schema.Ref; ref != "#/components/schemas/Message" {
		t.Errorf("webhook body = %q, want the Message schema", ref)
	}
}
