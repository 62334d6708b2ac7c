// Command openapi3 turns the Swagger 2.0 document that protoc-gen-openapiv2
// writes for the REST edge into the OpenAPI 3.1 document the gateway serves
// at /openapi.json, and adds what the plugin cannot know:
//
//   - who may call an operation (proto/access: public ones get `security: []`);
//   - the error responses, typed as google.rpc.Status with its details;
//   - `format: date` on the protos' YYYY-MM-DD strings, and the patterns of
//     the path parameters (from the protovalidate rules of resource names);
//   - the representations that are not JSON: CSV downloads and uploads,
//     newline-delimited JSON streaming imports, the pain.001 XML payment file;
//   - the gateway's own routes (probes, feeds, reference data), from edge.yaml;
//   - operationIds that read well in generated clients (`getActivity`).
//
// It runs in `make proto` and `make check-generated`; the output is committed.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"maps"
	"os"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3conv"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func main() {
	in := flag.String("in", "", "Swagger 2.0 document written by protoc-gen-openapiv2")
	edge := flag.String("edge", "", "OpenAPI 3.1 fragment with the gateway's own routes and shared components")
	rules := flag.String("http", "", "the google.api.Service file with the HTTP rules (proto/http.yaml)")
	out := flag.String("out", "", "where to write the OpenAPI 3.1 document")
	flag.Parse()
	if *in == "" || *edge == "" || *rules == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	doc, err := build(*in, *edge, *rules)
	if err != nil {
		log.Fatalf("openapi3: %v", err)
	}
	if err := os.WriteFile(*out, doc, 0o644); err != nil {
		log.Fatalf("openapi3: %v", err)
	}
}

// build converts, completes and validates the document and returns it as
// indented JSON.
func build(swaggerPath, edgePath, rulesPath string) ([]byte, error) {
	raw, err := os.ReadFile(swaggerPath)
	if err != nil {
		return nil, err
	}
	var doc2 openapi2.T
	if err := json.Unmarshal(raw, &doc2); err != nil {
		return nil, fmt.Errorf("%s: %w", swaggerPath, err)
	}
	doc, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		return nil, fmt.Errorf("converting to OpenAPI 3: %w", err)
	}
	loader := openapi3.NewLoader()
	edge, err := loader.LoadFromFile(edgePath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", edgePath, err)
	}
	httpRules, err := loadRules(rulesPath)
	if err != nil {
		return nil, err
	}
	c := &completer{doc: doc, edge: edge, rules: httpRules, protos: indexProtos()}
	if err := c.run(); err != nil {
		return nil, err
	}
	openapi3conv.Upgrade(doc)
	doc.OpenAPI = "3.1.0"
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the completed document is invalid: %w", err)
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, js, "", "  "); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// rule is one HTTP binding of a gRPC method.
type rule struct {
	verb, template, body string
}

// loadRules reads the HTTP rules of proto/http.yaml: selector → bindings, the
// additional bindings after the main one (the order protoc-gen-openapiv2
// numbers them in: QuerySnapshot, QuerySnapshot2…).
func loadRules(path string) (map[string][]rule, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	type binding struct {
		Get, Post, Patch, Put, Delete string
		Body                          string
		AdditionalBindings            []binding `yaml:"additional_bindings"`
	}
	var svc struct {
		HTTP struct {
			Rules []struct {
				Selector string
				binding  `yaml:",inline"`
			}
		}
	}
	if err := yaml.Unmarshal(raw, &svc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	toRule := func(b binding) rule {
		for verb, t := range map[string]string{"get": b.Get, "post": b.Post, "patch": b.Patch, "put": b.Put, "delete": b.Delete} {
			if t != "" {
				return rule{verb: verb, template: t, body: b.Body}
			}
		}
		return rule{}
	}
	out := map[string][]rule{}
	for _, r := range svc.HTTP.Rules {
		out[r.Selector] = append(out[r.Selector], toRule(r.binding))
		for _, ab := range r.AdditionalBindings {
			out[r.Selector] = append(out[r.Selector], toRule(ab))
		}
	}
	return out, nil
}

// completer adds to the converted document what the plugin cannot know.
type completer struct {
	doc    *openapi3.T
	edge   *openapi3.T
	rules  map[string][]rule
	protos *protoIndex
}

// operation is a generated operation with the gRPC method behind it.
type operation struct {
	path, verb string
	op         *openapi3.Operation
	method     protoreflect.MethodDescriptor
	rule       rule
	// shared: another service has a method of the same name.
	shared bool
}

var serviceOpID = regexp.MustCompile(`^([A-Za-z]+Service)_([A-Za-z]+?)([0-9]*)$`)

func (c *completer) run() error {
	c.doc.Servers = openapi3.Servers{{URL: "/", Description: "the gateway that serves this document"}}
	c.doc.Components.SecuritySchemes = c.edge.Components.SecuritySchemes
	c.doc.Security = openapi3.SecurityRequirements{{"bearer": {}}}
	c.renamePathParams()
	ops, err := c.operations()
	if err != nil {
		return err
	}
	// A method name that several services share (SearchAuditEntries) is
	// prefixed with its service: travelSearchAuditEntries.
	services := map[string]map[string]bool{}
	for _, o := range ops {
		name := string(o.method.Name())
		if services[name] == nil {
			services[name] = map[string]bool{}
		}
		services[name][string(o.method.Parent().Name())] = true
	}
	for _, o := range ops {
		o.shared = len(services[string(o.method.Name())]) > 1
		if err := c.describeOperation(o); err != nil {
			return fmt.Errorf("%s %s: %w", o.verb, o.path, err)
		}
	}
	c.formatSchemas()
	c.mergeEdge()
	c.addWebhooks()
	c.tags()
	return nil
}

// operations pairs every generated operation with its gRPC method and HTTP
// rule.
func (c *completer) operations() ([]*operation, error) {
	var ops []*operation
	for _, path := range c.doc.Paths.InMatchingOrder() {
		for verb, op := range c.doc.Paths.Value(path).Operations() {
			m := serviceOpID.FindStringSubmatch(op.OperationID)
			if m == nil {
				return nil, fmt.Errorf("%s %s: unexpected operationId %q", verb, path, op.OperationID)
			}
			md := c.protos.method(m[1], m[2])
			if md == nil {
				return nil, fmt.Errorf("%s %s: no gRPC method %s.%s", verb, path, m[1], m[2])
			}
			bindings := c.rules[string(md.FullName())]
			idx := 0
			if m[3] != "" {
				fmt.Sscan(m[3], &idx)
				idx--
			}
			if idx >= len(bindings) {
				return nil, fmt.Errorf("%s %s: no HTTP rule #%d for %s", verb, path, idx+1, md.FullName())
			}
			ops = append(ops, &operation{path: path, verb: strings.ToLower(verb), op: op, method: md, rule: bindings[idx]})
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].path != ops[j].path {
			return ops[i].path < ops[j].path
		}
		return ops[i].verb < ops[j].verb
	})
	return ops, nil
}

// renamePathParams repairs the singular protoc-gen-openapiv2 derives from
// a collection ending in "ies" (activities/{activitie}).
func (c *completer) renamePathParams() {
	ie := regexp.MustCompile(`\{([a-zA-Z]+)ie\}`)
	for _, path := range c.doc.Paths.InMatchingOrder() {
		if !ie.MatchString(path) {
			continue
		}
		item := c.doc.Paths.Value(path)
		c.doc.Paths.Delete(path)
		c.doc.Paths.Set(ie.ReplaceAllString(path, "{${1}y}"), item)
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				if p.Value != nil && p.Value.In == openapi3.ParameterInPath && strings.HasSuffix(p.Value.Name, "ie") {
					p.Value.Name = strings.TrimSuffix(p.Value.Name, "ie") + "y"
				}
			}
		}
	}
}

// describeOperation sets the operation's id, summary, security, parameters,
// error responses and other media types.
func (c *completer) describeOperation(o *operation) error {
	op := o.op
	name := string(o.method.Name())
	op.OperationID = lowerFirst(name)
	if o.shared {
		op.OperationID = lowerFirst(strings.TrimSuffix(string(o.method.Parent().Name()), "Service")) + name
	}
	if o.rule.verb == "get" && len(c.rules[string(o.method.FullName())]) > 1 && o.rule != c.rules[string(o.method.FullName())][0] {
		op.OperationID += "WithQuery"
	}
	delete(op.Extensions, "x-originalParamName")
	summary, description := splitComment(op.Summary, op.Description)
	op.Summary, op.Description = summary, description

	public := isPublic(o.method)
	if public {
		op.Security = &openapi3.SecurityRequirements{}
		if !strings.Contains(op.Summary+op.Description, "Public") {
			op.Description = strings.TrimSpace(op.Description + "\n\nPublic: no token needed.")
		}
	} else {
		op.Security = &openapi3.SecurityRequirements{{"bearer": {}}}
	}

	if err := c.pathParams(o); err != nil {
		return err
	}
	c.queryParams(o)
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		for _, mt := range op.RequestBody.Value.Content {
			c.formatInlineBody(o, mt.Schema)
			if mt.Schema != nil && mt.Schema.Value != nil {
				mt.Schema.Value.Description = strings.ReplaceAll(mt.Schema.Value.Description, " (streaming inputs)", "")
			}
		}
		op.RequestBody.Value.Description = strings.ReplaceAll(op.RequestBody.Value.Description, " (streaming inputs)", "")
	}
	c.representations(o)
	c.errors(o, public)
	return nil
}

// errors adds the error responses the operation can give.
func (c *completer) errors(o *operation, public bool) {
	ref := func(name string) *openapi3.ResponseRef {
		if c.edge.Components.Responses[name] == nil {
			panic("edge.yaml has no response " + name)
		}
		return &openapi3.ResponseRef{Ref: "#/components/responses/" + name, Value: c.edge.Components.Responses[name].Value}
	}
	r := o.op.Responses
	r.Set("400", ref("InvalidArgument"))
	if !public {
		r.Set("401", ref("Unauthenticated"))
		r.Set("403", ref("PermissionDenied"))
	}
	hasResource := false
	for _, p := range o.op.Parameters {
		if p.Value != nil && p.Value.In == openapi3.ParameterInPath {
			hasResource = true
		}
	}
	if hasResource {
		r.Set("404", ref("NotFound"))
	}
	if o.verb != "get" {
		r.Set("409", ref("Conflict"))
	}
	r.Set("429", ref("ResourceExhausted"))
	r.Set("503", ref("Unavailable"))
	r.Set("default", ref("Error"))
}

// representations describes the media types other than JSON.
func (c *completer) representations(o *operation) {
	name := string(o.method.Name())
	ok := o.op.Responses.Status(200)
	switch {
	case name == "ImportPersons" || name == "ImportCells":
		// Client-streaming: newline-delimited JSON messages, or the CSV file
		// itself with the snapshot in the query (gateway/csv.go).
		body := o.op.RequestBody.Value
		js := body.Content.Get("application/json")
		body.Content = openapi3.Content{
			"application/x-ndjson": &openapi3.MediaType{Schema: js.Schema},
			"text/csv":             &openapi3.MediaType{Schema: openapi3.NewStringSchema().NewRef()},
		}
		header := "`kommunkod,boendeform,kön,födelsedatum`"
		if name == "ImportCells" {
			header = "`kommunkod,boendeform,kön,åldersgrupp,antal`"
		}
		body.Description = "A stream of messages: as `application/x-ndjson`, one JSON message per line, the first " +
			"with `header`, the rest with `persons`/`cells` or `csvData`; or as `text/csv`, the extract itself " +
			"(header line " + header + ") with the snapshot named in the `snapshot` query parameter."
		o.op.Parameters = append(o.op.Parameters, &openapi3.ParameterRef{Value: &openapi3.Parameter{
			Name: "snapshot", In: openapi3.ParameterInQuery,
			Description: "With a `text/csv` body: the snapshot the file is imported into, `snapshots/{YYYY-MM-DD}`.",
			Schema:      &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{"string"}, Pattern: `^snapshots/[0-9]{4}-[0-9]{2}-[0-9]{2}$`}},
		}})
	case name == "ExportCoverage":
		c.addCSV(o, ok, "The coverage picture as a spreadsheet file.")
	case name == "GetPaymentFile":
		ok.Value.Content["application/xml"] = &openapi3.MediaType{Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{
			Type: &openapi3.Types{"string"}, Description: "The ISO 20022 pain.001 credit transfer file itself.",
		}}}
		ok.Value.Description = ptr("The payment file: as JSON with the file inside, or with `Accept: application/xml` (or `?format=xml`) the pain.001 XML itself, as an attachment.")
		o.op.Parameters = append(o.op.Parameters, c.parameter("DocumentFormat"))
	case name == "DownloadPaymentFile":
		// Server-streaming: the pieces are the file's bytes, sent as they
		// are written (gateway/download.go), never JSON.
		ok.Value.Content = openapi3.Content{"application/xml": &openapi3.MediaType{Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{
			Type: &openapi3.Types{"string"}, Description: "The ISO 20022 pain.001 credit transfer file itself.",
		}}}}
		ok.Value.Description = ptr("The payment file itself (pain.001 XML), as an attachment, in chunked transfer encoding: " +
			"sent as it is written, so a file of any size can be downloaded.")
		ok.Value.Headers = openapi3.Headers{"Content-Disposition": &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
			Description: "`attachment; filename=\"payment-file-{YYYY-MM-DD}.xml\"`",
			Schema:      openapi3.NewStringSchema().NewRef(),
		}}}}
	case ok != nil && isReport(o.method) && c.isTable(ok):
		c.addCSV(o, ok, "The rows as a spreadsheet file.")
	}
}

// isReport tells the lists, searches, queries and reports, whose rows the
// gateway serves as CSV; a single resource with a list inside is not a table.
func isReport(md protoreflect.MethodDescriptor) bool {
	name := string(md.Name())
	for _, prefix := range []string{"List", "Search", "Query", "Compare"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	out := string(md.Output().Name())
	return strings.HasSuffix(out, "Report") || out == "Coverage" || out == "Projection"
}

// isTable reports whether a response's JSON schema has a list of objects,
// which the gateway can serve as CSV (gateway/csv.go).
func (c *completer) isTable(resp *openapi3.ResponseRef) bool {
	mt := resp.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return false
	}
	for _, p := range mt.Schema.Value.Properties {
		if p.Value == nil || !p.Value.Type.Is("array") || p.Value.Items == nil || p.Value.Items.Value == nil {
			continue
		}
		items := p.Value.Items.Value
		if items.Type.Is("object") && !strings.HasSuffix(p.Value.Items.Ref, "Timestamp") {
			return true
		}
	}
	return false
}

func (c *completer) addCSV(o *operation, ok *openapi3.ResponseRef, what string) {
	ok.Value.Content["text/csv"] = &openapi3.MediaType{Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{
		Type: &openapi3.Types{"string"}, Description: what + " UTF-8 with a byte-order mark, one line per row.",
	}}}
	if ok.Value.Headers == nil {
		ok.Value.Headers = openapi3.Headers{}
	}
	ok.Value.Headers["Content-Disposition"] = &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
		Description: "`attachment; filename=…` on CSV downloads.",
		Schema:      openapi3.NewStringSchema().NewRef(),
	}}}
	o.op.Parameters = append(o.op.Parameters, c.parameter("Format"), c.parameter("Dialect"))
}

// parameter refers to a parameter of edge.yaml.
func (c *completer) parameter(name string) *openapi3.ParameterRef {
	p := c.edge.Components.Parameters[name]
	if p == nil {
		panic("edge.yaml has no parameter " + name)
	}
	return &openapi3.ParameterRef{Ref: "#/components/parameters/" + name, Value: p.Value}
}

// Path parameter descriptions by name.
var pathParamDescriptions = map[string]string{
	"organiser":     "Organisation number of the organiser (10 digits).",
	"activity":      "Id of the activity within its organiser.",
	"certificate":   "Id of the participation certificate.",
	"lan":           "Two-digit SCB code of the län.",
	"agreement":     "Id of the agreement.",
	"recipient":     "Id of the inbox; `me` is the caller's own.",
	"message":       "Id of the message.",
	"delivery":      "Id of the delivery.",
	"subscription":  "Id of the subscription.",
	"webhook":       "Id of the webhook.",
	"meeting":       "Id of the meeting.",
	"member":        "Id of the forum member.",
	"contact":       "Id of the contact.",
	"snapshot":      "Reference date of the snapshot, YYYY-MM-DD.",
	"plannedChange": "Id of the planned change.",
	"route":         "Id of the route decision.",
	"consultation":  "Id of the consultation.",
	"claim":         "Id of the claim.",
	"paymentRun":    "Id of the payment run.",
}

// pathParams gives each path parameter the pattern of its segment, taken
// from the protovalidate pattern of the resource name it is part of.
func (c *completer) pathParams(o *operation) error {
	var params []*openapi3.Parameter
	kept := o.op.Parameters[:0]
	for _, p := range o.op.Parameters {
		if p.Value != nil && p.Value.In == openapi3.ParameterInPath {
			if !strings.Contains(o.path, "{"+p.Value.Name+"}") {
				// A variable bound to a literal path
				// (`{parent=auditTrails/travel}`): the gateway sets it.
				continue
			}
			params = append(params, p.Value)
		}
		kept = append(kept, p)
	}
	o.op.Parameters = kept
	patterns, err := c.segmentPatterns(o)
	if err != nil {
		return err
	}
	if len(patterns) != len(params) {
		log.Printf("openapi3: %s %s: %d path parameters but %d variable segments in %s; their patterns are left out",
			o.verb, o.path, len(params), len(patterns), o.rule.template)
		patterns = make([]string, len(params))
	}
	for i, p := range params {
		if d := pathParamDescriptions[p.Name]; d != "" && p.Description == "" {
			p.Description = d
		}
		if strings.Contains(patterns[i], "|-)") {
			p.Description = strings.TrimSpace(p.Description + " `-` stands for every one the caller may see.")
		}
		if patterns[i] == "" {
			continue
		}
		s := p.Schema.Value
		s.Pattern = "^" + patterns[i] + "$"
		if patterns[i] == datePattern {
			s.Format = "date"
		}
	}
	return nil
}

const datePattern = `[0-9]{4}-[0-9]{2}-[0-9]{2}`

var variable = regexp.MustCompile(`\{([a-z_.]+)(?:=([^}]*))?\}`)

// segmentPatterns returns, for each variable segment of the rule's template
// in order, the regular expression its value matches ("" when unknown).
func (c *completer) segmentPatterns(o *operation) ([]string, error) {
	var out []string
	for _, m := range variable.FindAllStringSubmatch(o.rule.template, -1) {
		fd := fieldByPath(o.method.Input(), strings.Split(m[1], "."), false)
		if fd == nil {
			return nil, fmt.Errorf("no field %s in %s", m[1], o.method.Input().FullName())
		}
		pattern := strings.TrimSuffix(strings.TrimPrefix(stringPattern(fd), "^"), "$")
		if m[2] == "" {
			if pattern == "" && dateKind(fd) != notDate {
				pattern = datePattern
			}
			out = append(out, pattern)
			continue
		}
		tsegs := strings.Split(m[2], "/")
		psegs := strings.Split(pattern, "/")
		if len(psegs) != len(tsegs) {
			psegs = make([]string, len(tsegs))
		}
		for i, t := range tsegs {
			if t == "*" {
				out = append(out, psegs[i])
			}
		}
	}
	return out, nil
}

// queryParams formats the query parameters that are dates.
func (c *completer) queryParams(o *operation) {
	for _, p := range o.op.Parameters {
		if p.Value == nil || p.Value.In != openapi3.ParameterInQuery || p.Value.Schema == nil || p.Value.Schema.Value == nil {
			continue
		}
		fd := fieldByPath(o.method.Input(), strings.Split(p.Value.Name, "."), true)
		if fd == nil {
			continue
		}
		s := p.Value.Schema.Value
		if k := dateKind(fd); k != notDate && s.Type.Is("string") {
			// An absent query parameter is the unset value.
			s.Format = "date"
		}
		if pat := stringPattern(fd); pat != "" && s.Pattern == "" && s.Format == "" {
			s.Pattern = pat
		}
	}
}

// formatInlineBody formats the dates of a request body that the plugin wrote
// inline (the body field of the request message, less its path fields).
func (c *completer) formatInlineBody(o *operation, s *openapi3.SchemaRef) {
	if s == nil || s.Ref != "" || s.Value == nil {
		return
	}
	md := o.method.Input()
	if o.rule.body != "" && o.rule.body != "*" {
		fd := fieldByPath(md, strings.Split(o.rule.body, "."), false)
		if fd == nil || fd.Message() == nil {
			return
		}
		md = fd.Message()
	}
	formatSchema(s.Value, md)
}

// formatSchemas formats the dates of the component schemas.
func (c *completer) formatSchemas() {
	for name, s := range c.doc.Components.Schemas {
		md := c.protos.message(name)
		if md == nil || s.Value == nil {
			continue
		}
		formatSchema(s.Value, md)
	}
}

// formatSchema sets the formats of the date fields of a message's schema.
func formatSchema(s *openapi3.Schema, md protoreflect.MessageDescriptor) {
	for prop, ps := range s.Properties {
		fd := md.Fields().ByJSONName(prop)
		if fd == nil || ps.Value == nil {
			continue
		}
		if ps.Ref == "" && fd.Message() != nil && ps.Value.Type.Is("object") {
			formatSchema(ps.Value, fd.Message())
			continue
		}
		switch dateKind(fd) {
		case requiredDate:
			ps.Value.Format = "date"
		case optionalDate:
			// Sent as "" when unset (scalars are always emitted).
			desc := ps.Value.Description
			ps.Value.Description = ""
			s.Properties[prop] = &openapi3.SchemaRef{Value: &openapi3.Schema{
				Description: strings.TrimSpace(desc + " Empty when unset."),
				ReadOnly:    ps.Value.ReadOnly,
				AnyOf: openapi3.SchemaRefs{
					{Value: &openapi3.Schema{Type: &openapi3.Types{"string"}, Format: "date"}},
					{Value: &openapi3.Schema{Type: &openapi3.Types{"string"}, MaxLength: ptr(uint64(0))}},
				},
			}}
		}
	}
}

func ptr[T any](v T) *T { return &v }

// mergeEdge adds the gateway's own routes and the shared components.
func (c *completer) mergeEdge() {
	for _, path := range c.edge.Paths.InMatchingOrder() {
		c.doc.Paths.Set(path, c.edge.Paths.Value(path))
	}
	// OpenAPI 3.1 webhooks: what the platform POSTs to receivers.
	if len(c.edge.Webhooks) > 0 {
		copyInto(&c.doc.Webhooks, c.edge.Webhooks)
	}
	ec := c.edge.Components
	copyInto(&c.doc.Components.Schemas, ec.Schemas)
	copyInto(&c.doc.Components.Responses, ec.Responses)
	copyInto(&c.doc.Components.Parameters, ec.Parameters)
	copyInto(&c.doc.Components.Headers, ec.Headers)
}

// copyInto copies src's entries into *dst, making *dst first when it is nil.
func copyInto[M ~map[string]V, V any](dst *M, src M) {
	if *dst == nil {
		*dst = M{}
	}
	maps.Copy(*dst, src)
}

// tags declares every tag an operation uses.
func (c *completer) tags() {
	extra := openapi3.Tags{
		{Name: "ReferenceData", Description: "The 290 kommuner and 21 län with SCB codes, names and positions. Public and cacheable."},
		{Name: "Feeds", Description: "Documents for clients that do not speak JSON: iCalendar and Atom."},
		{Name: "Edge", Description: "The gateway itself: probes, this document and its reference page."},
	}
	for _, t := range extra {
		if c.doc.Tags.Get(t.Name) == nil {
			c.doc.Tags = append(c.doc.Tags, t)
		}
	}
	for _, t := range c.doc.Tags {
		t.Description = reflow(t.Description)
	}
}

// splitComment turns a proto comment (which the plugin puts in the summary)
// into a one-sentence summary and the full text as description.
func splitComment(summary, description string) (string, string) {
	text := strings.TrimSpace(summary)
	if description != "" {
		text = strings.TrimSpace(text + "\n\n" + description)
	}
	text = reflow(text)
	first := text
	if i := strings.Index(first, ". "); i >= 0 {
		first = first[:i]
	}
	first = strings.TrimSuffix(first, ".")
	if first == strings.TrimSuffix(text, ".") {
		return first, ""
	}
	return first, text
}

// reflow joins the lines of a comment's paragraphs.
func reflow(s string) string {
	paras := strings.Split(strings.TrimSpace(s), "\n\n")
	for i, p := range paras {
		paras[i] = strings.Join(strings.Fields(p), " ")
	}
	return strings.Join(paras, "\n\n")
}

func lowerFirst(s string) string {
	r := []rune(s)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}
