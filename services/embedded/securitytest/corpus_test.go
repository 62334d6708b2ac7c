package securitytest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tia-platform/tia/services/embedded/resttest"
	"github.com/tia-platform/tia/services/platform/auth"
)

// oddStrings are values no field should choke on.
var oddStrings = map[string]string{
	"invalid-utf8": "\xff\xfe\xfd",
	"nul":          "a\x00b",
	"rtl-override": "abc\u202edcba",
	"traversal":    "../../etc/passwd",
	"pct-nul":      "%00",
	"crlf":         "a\r\nX-Injected: 1",
	"huge":         strings.Repeat("å", 50<<10), // 100 KiB of UTF-8
}

// corpusCase is one malformed request.
type corpusCase struct {
	op, what    string
	method, url string
	body        []byte
	ctype       string
	token       string
	field       string // the field or parameter mutated ("" when none)
}

// strict reports whether c's value is invalid whatever the field (a bad
// enum, an impossible date, an unknown län or kommun code, a bad filter or
// a forged page token, issue 11.6), so a 2xx answer is a failure.
func (c corpusCase) strict() bool {
	for _, k := range []string{"bad enum", "impossible date", "bad län", "bad kommun", "bad code", "bad filter", "forged", "overflow", "not a number", "not a boolean"} {
		if strings.HasSuffix(c.what, k) {
			return true
		}
	}
	return false
}

type openAPI struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas    map[string]*schema         `json:"schemas"`
		Parameters map[string]json.RawMessage `json:"parameters"`
	} `json:"components"`
}

type schema struct {
	Ref        string             `json:"$ref"`
	Type       any                `json:"type"`
	Format     string             `json:"format"`
	Enum       []any              `json:"enum"`
	Properties map[string]*schema `json:"properties"`
	Items      *schema            `json:"items"`
	ReadOnly   bool               `json:"readOnly"`
}

type operation struct {
	OperationID string            `json:"operationId"`
	Parameters  []json.RawMessage `json:"parameters"`
	Security    *[]any            `json:"security"`
	RequestBody *struct {
		Content map[string]struct {
			Schema *schema `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

type parameter struct {
	Ref    string  `json:"$ref"`
	Name   string  `json:"name"`
	In     string  `json:"in"`
	Schema *schema `json:"schema"`
}

func (d *openAPI) resolve(s *schema) *schema {
	for s != nil && s.Ref != "" {
		s = d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	}
	return s
}

func (d *openAPI) param(raw json.RawMessage) parameter {
	var p parameter
	_ = json.Unmarshal(raw, &p)
	if p.Ref != "" {
		_ = json.Unmarshal(d.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")], &p)
	}
	return p
}

func typeOf(s *schema) string {
	switch t := s.Type.(type) {
	case string:
		return t
	case []any:
		for _, x := range t {
			if x != "null" {
				return fmt.Sprint(x)
			}
		}
	}
	if s.Properties != nil {
		return "object"
	}
	return "string"
}

// sample is a plausible valid value for a field of schema s.
func (d *openAPI) sample(s *schema, depth int) any {
	s = d.resolve(s)
	if s == nil || depth > 4 {
		return nil
	}
	if len(s.Enum) > 0 {
		return s.Enum[len(s.Enum)-1]
	}
	switch typeOf(s) {
	case "object":
		out := map[string]any{}
		for k, p := range s.Properties {
			if p.ReadOnly || d.resolve(p) == nil || d.resolve(p).ReadOnly {
				continue
			}
			if v := d.sample(p, depth+1); v != nil {
				out[k] = v
			}
		}
		return out
	case "array":
		if v := d.sample(s.Items, depth+1); v != nil {
			return []any{v}
		}
		return []any{}
	case "integer":
		if s.Format == "int64" || s.Format == "uint64" {
			return "1"
		}
		return 1
	case "number":
		return 1.5
	case "boolean":
		return true
	}
	switch s.Format {
	case "date":
		return time.Now().AddDate(0, 0, 3).Format("2006-01-02")
	case "date-time":
		return time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	case "byte":
		return base64.StdEncoding.EncodeToString([]byte("0180;ABE;KVINNA;25-34;12\n"))
	}
	return "0180"
}

// wrongType is a JSON value of another type than s.
func wrongType(s *schema) []any {
	switch typeOf(s) {
	case "string":
		return []any{12345, map[string]any{"x": 1}, []any{"a"}}
	case "integer", "number":
		return []any{"not-a-number", 1e300, map[string]any{}}
	case "boolean":
		return []any{"maybe", 2}
	case "array":
		return []any{"not-an-array", map[string]any{"a": 1}}
	case "object":
		return []any{"not-an-object", 7}
	}
	return []any{nil}
}

func TestBadInputCorpus(t *testing.T) {
	e := startPlatform(t)
	w := seed(t, e)
	base := "http://" + e.p.HTTPAddr

	resp, err := http.Get(base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPI
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("/openapi.json: %v", err)
	}

	before := storedState(t, e, w)
	cases := corpus(t, e, w, &doc)
	if len(cases) < 500 {
		t.Fatalf("the corpus has %d requests, want at least 500", len(cases))
	}

	client := &http.Client{Timeout: 20 * time.Second}
	byStatus := map[int]int{}
	ops := map[string]bool{}
	accepted := 0
	for _, c := range cases {
		ops[c.op] = true
		ctype := ""
		if c.body != nil {
			ctype = c.ctype
		}
		res, raw, err := resttest.Client{Base: base, Token: c.token, HTTP: client}.Try(c.method, c.url, bytes.NewReader(c.body), "Content-Type", ctype)
		if res == nil {
			t.Errorf("%s %s (%s %s): no response: %v", c.op, c.what, c.method, short(c.url), err)
			continue
		}
		byStatus[res.StatusCode]++
		switch {
		case res.StatusCode >= 500:
			t.Errorf("%s %s (%s %s): HTTP %d: %s", c.op, c.what, c.method, short(c.url), res.StatusCode, short(string(raw)))
		case res.StatusCode == http.StatusMethodNotAllowed && res.Header.Get("Allow") == "":
			t.Errorf("%s %s (%s %s): 405 without Allow", c.op, c.what, c.method, short(c.url))
		case res.StatusCode == http.StatusBadRequest:
			if !namesField(raw, c.field) {
				t.Errorf("%s %s (%s %s): 400 names no field: %s", c.op, c.what, c.method, short(c.url), short(string(raw)))
			}
		case res.StatusCode < 300 && c.strict():
			t.Errorf("%s %s (%s %s): invalid input accepted: HTTP %d", c.op, c.what, c.method, short(c.url), res.StatusCode)
		case res.StatusCode < 300 && c.method != http.MethodGet:
			accepted++
		}
	}
	if p := e.panics(); len(p) > 0 {
		t.Errorf("the platform log reports %d panics, the first: %s", len(p), short(p[0]))
	}
	after := storedState(t, e, w)
	for name, b := range before {
		if a := after[name]; a != b {
			t.Errorf("%s changed during the corpus:\nbefore %s\nafter  %s", name, short(b), short(a))
		}
	}
	var statuses []string
	for s, n := range byStatus {
		statuses = append(statuses, fmt.Sprintf("%d×%d", s, n))
	}
	sort.Strings(statuses)
	t.Logf("bad-input corpus: %d requests over %d operations; by status: %s; %d writes answered 2xx", len(cases), len(ops), strings.Join(statuses, " "), accepted)
}

func short(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// namesField: a 400 names the field in a BadRequest field violation (no
// empty field) or in its message.
func namesField(raw []byte, field string) bool {
	var body map[string]any
	if json.Unmarshal(raw, &body) != nil {
		return false
	}
	fields := resttest.ViolatedFields(body)
	if len(fields) > 0 {
		for _, f := range fields {
			if f == "" {
				return false
			}
		}
		return true
	}
	msg, _ := body["message"].(string)
	return field != "" && (strings.Contains(msg, field) || strings.Contains(msg, snake(field)))
}

var upper = regexp.MustCompile(`[A-Z]`)

func snake(s string) string {
	return upper.ReplaceAllStringFunc(s, func(u string) string { return "_" + strings.ToLower(u) })
}

// storedState reads the seeded resources as their owners (Migrationsverket
// where it may see all), without the times a no-op write touches.
func storedState(t *testing.T, e *env, w *world) map[string]string {
	t.Helper()
	reads := map[string]auth.Principal{
		w.activity: principalOrgA, "organisers/" + orgA: principalOrgA, w.agreement: principalCB01,
		w.certificate: principalOrgA, w.claim: principalMV, w.consultation: principalMV, w.route: principalMV,
		w.snapshot: principalMV, w.meeting: principalCB01, "lan/01/contacts": principalCB01, "lan/01/members": principalCB01,
		"recipients/lansstyrelse-01/webhooks": principalCB01, "plannedChanges": principalMV,
		"lan/01/folkbildningReportSchedule": principalCB01, "recipients/lansstyrelse-01/subscriptions": principalCB01,
	}
	out := map[string]string{}
	for name, pr := range reads {
		c := resttest.Client{T: t, Base: "http://" + e.p.HTTPAddr, Token: e.token(t, pr)}
		code, body := c.Do("GET", "/v1/"+name, nil)
		if code != http.StatusOK {
			t.Fatalf("read %s: HTTP %d %v", name, code, body)
		}
		delete(body, "updateTime")
		b, _ := json.Marshal(body)
		out[name] = string(b)
	}
	return out
}

// callerFor is a caller allowed to call op, so its malformed requests reach
// validation (Migrationsverket unless another role owns the operation).
func callerFor(op string) auth.Principal {
	switch op {
	case "createActivity", "updateActivity", "createCertificate", "listCertificates", "getCertificate", "endParticipation",
		"renewCertificate", "startParticipation", "updateOrganiser", "createOrganiser":
		return principalOrgA
	case "createAgreement", "endAgreement", "listAgreements", "getAgreement", "createContact", "deleteContact", "createMeeting",
		"updateMeeting", "recordFeedback", "createForumMember", "deleteForumMember", "updateReportSchedule", "getCoverage",
		"exportCoverage", "listMeetings", "getMeeting", "proposeAgendaItem", "listMessages", "getMessage", "markMessageRead",
		"countUnreadMessages", "listDeadLetters", "replayDelivery", "listSubscriptions", "getSubscription", "updateSubscription",
		"listWebhooks", "createWebhook", "deleteWebhook", "createConsultationResponse", "getFolkbildningReport", "getReportSchedule",
		"listLanContacts":
		return principalCB01
	case "createClaim":
		return principalSeekA
	}
	return principalMV
}

// last is the last segment of a resource name.
func last(name string) string { return name[strings.LastIndex(name, "/")+1:] }

// corpus generates the malformed requests from the document.
func corpus(t *testing.T, e *env, w *world, doc *openAPI) []corpusCase {
	t.Helper()
	// Path parameters name the seeded ("own") resources. Writes that
	// change or consume their target (updates, custom methods, deletes)
	// are pointed at an id that does not exist (the request is still
	// validated first), so a request the platform rightly accepts cannot
	// change what the unchanged-check reads.
	own := map[string]string{
		"organiser": orgA, "activity": last(w.activity), "certificate": last(w.certificate), "lan": "01",
		"agreement": last(w.agreement), "contact": last(w.contact), "meeting": last(w.meeting), "member": last(w.member),
		"recipient": "lansstyrelse-01", "message": last(w.boardMsg), "delivery": "00000000-0000-0000-0000-000000000000",
		"subscription": "activity.registered", "webhook": last(w.webhook), "claim": last(w.claim), "consultation": last(w.consultation),
		"paymentRun": "absent", "plannedChange": last(w.planned), "projectionDate": w.date(60), "snapshot": last(w.snapshot),
		"route": last(w.route), "kommun": "0180", "service": "activity",
	}
	pathParam := regexp.MustCompile(`\{([a-zA-Z]+)\}`)
	tokens := map[string]string{}
	tok := func(pr auth.Principal) string {
		if tokens[pr.Subject] == "" {
			tokens[pr.Subject] = e.token(t, pr)
		}
		return tokens[pr.Subject]
	}

	var out []corpusCase
	paths := make([]string, 0, len(doc.Paths))
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, path := range paths {
		methods := doc.Paths[path]
		for method, raw := range methods {
			var op operation
			if json.Unmarshal(raw, &op) != nil || op.OperationID == "" {
				continue
			}
			method = strings.ToUpper(method)
			id := op.OperationID
			token := tok(callerFor(id))
			consuming := method == http.MethodDelete || method == http.MethodPatch ||
				(method == http.MethodPost && strings.Contains(path, "}:") && !strings.HasSuffix(path, ":query") && !strings.HasSuffix(path, ":check")) ||
				(method == http.MethodPost && strings.HasSuffix(path, "}/responses"))
			fill := func(override map[string]string) string {
				names := pathParam.FindAllStringSubmatch(path, -1)
				u := path
				for i, m := range names {
					v := own[m[1]]
					if consuming && i == len(names)-1 {
						v = "corpus-absent"
					}
					if o, ok := override[m[1]]; ok {
						v = o
					}
					u = strings.Replace(u, m[0], v, 1)
				}
				return u
			}
			add := func(what, field, u string, body []byte, ctype, token string) {
				out = append(out, corpusCase{op: id, what: what, method: method, url: u, body: body, ctype: ctype, token: token, field: field})
			}
			// Path parameters.
			for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
				for what, v := range map[string]string{"bad utf-8": "%ff%fe", "traversal": "..%2F..%2Fetc", "nul": "%00", "short id": "99", "huge": strings.Repeat("a", 4096)} {
					add("path "+m[1]+" "+what, m[1], fill(map[string]string{m[1]: v}), bodyFor(doc, op, method), "application/json", token)
				}
			}
			// Query parameters.
			for _, rawp := range op.Parameters {
				p := doc.param(rawp)
				if p.In != "query" {
					continue
				}
				for what, v := range queryValues(p) {
					q := url.Values{p.Name: {v}}
					add("query "+p.Name+" "+what, p.Name, fill(nil)+"?"+q.Encode(), bodyFor(doc, op, method), "application/json", token)
				}
			}
			// Bodies.
			if op.RequestBody != nil {
				for ctype, content := range op.RequestBody.Content {
					if ctype != "application/json" {
						for what, b := range map[string]string{"garbage": "\xff\x00garbage;;;\n", "empty": "", "huge line": strings.Repeat("9", 100<<10)} {
							add("body "+ctype+" "+what, "", fill(nil)+"?snapshot=snapshots/2026-02-30", []byte(b), ctype, token)
						}
						continue
					}
					s := doc.resolve(content.Schema)
					baseBody, _ := doc.sample(s, 0).(map[string]any)
					enc := func(v any) []byte { b, _ := json.Marshal(v); return b }
					add("body not JSON", "body", fill(nil), []byte("{not json"), ctype, token)
					add("body array", "body", fill(nil), []byte("[1,2]"), ctype, token)
					// A body the JSON decoder would refuse too (an unknown
					// field), so a server that ignores the media type
					// cannot store anything.
					add("wrong content type", "corpusUnknownField", fill(nil), enc(merge(baseBody, "corpusUnknownField", 1)), "text/plain", token)
					add("xml content type", "body", fill(nil), []byte("<a/>"), "application/xml", token)
					add("unknown field", "corpusUnknownField", fill(nil), enc(merge(baseBody, "corpusUnknownField", 1)), ctype, token)
					add("anonymous", "", fill(nil), enc(baseBody), ctype, "")
					for _, name := range sortedKeys(s.Properties) {
						fs := doc.resolve(s.Properties[name])
						if fs == nil || fs.ReadOnly {
							continue
						}
						for i, v := range wrongType(fs) {
							add(fmt.Sprintf("body %s wrong type %d", name, i), name, fill(nil), enc(merge(baseBody, name, v)), ctype, token)
						}
						if typeOf(fs) == "string" {
							for what, v := range oddStrings {
								add("body "+name+" "+what, name, fill(nil), jsonRaw(merge(baseBody, name, "PLACEHOLDER"), v), ctype, token)
							}
						}
						if len(fs.Enum) > 0 {
							add("body "+name+" bad enum", name, fill(nil), enc(merge(baseBody, name, "NOT_A_VALUE")), ctype, token)
						}
						if fs.Format == "date" {
							add("body "+name+" impossible date", name, fill(nil), enc(merge(baseBody, name, "2026-02-30")), ctype, token)
						}
						if fs.Format == "int64" || fs.Format == "uint64" {
							add("body "+name+" overflow", name, fill(nil), enc(merge(baseBody, name, "9223372036854775808")), ctype, token)
						}
						if strings.Contains(strings.ToLower(name), "kommun") {
							add("body "+name+" bad kommun", name, fill(nil), enc(merge(baseBody, name, "9999")), ctype, token)
						}
						if strings.Contains(strings.ToLower(name), "lan") && typeOf(fs) == "string" {
							add("body "+name+" bad län", name, fill(nil), enc(merge(baseBody, name, "99")), ctype, token)
						}
					}
				}
			}
			// Wrong HTTP method, as a signed-in caller and anonymously.
			if method == http.MethodGet && methods["put"] == nil {
				out = append(out, corpusCase{op: id, what: "wrong method PUT", method: http.MethodPut, url: fill(nil), body: []byte("{}"), ctype: "application/json", token: token})
				out = append(out, corpusCase{op: id, what: "wrong method PUT anonymous", method: http.MethodPut, url: fill(nil), body: []byte("{}"), ctype: "application/json"})
			}
		}
	}
	return out
}

// bodyFor is an empty JSON object for operations that take a body.
func bodyFor(doc *openAPI, op operation, method string) []byte {
	if op.RequestBody == nil || method == http.MethodGet {
		return nil
	}
	return []byte("{}")
}

// queryValues are malformed values for a query parameter.
func queryValues(p parameter) map[string]string {
	s := p.Schema
	out := map[string]string{"bad utf-8": "\xff\xfe", "nul": "a\x00b", "crlf": "a\r\nb", "rtl": "\u202e0180", "huge": strings.Repeat("x", 100<<10)}
	if s != nil {
		switch typeOf(s) {
		case "integer", "number":
			out["not a number"], out["negative"], out["overflow"], out["fraction"] = "abc", "-1", "99999999999999999999", "1.5"
		case "boolean":
			out["not a boolean"] = "maybe"
		}
		if len(s.Enum) > 0 {
			out["bad enum"] = "NOT_A_VALUE"
		}
	}
	name := strings.ToLower(p.Name)
	switch {
	case name == "filter":
		out["bad filter"], out["unknown field"], out["bad code"] = `kommun_code = `, `secret = "x"`, `kommun_code = "9999"`
	case name == "pagetoken":
		forged := base64.RawURLEncoding.EncodeToString([]byte(`{"offset":-1}`))
		out["forged"], out["garbage"] = forged, "!!!"
	case strings.Contains(name, "date"):
		out["impossible date"] = "2026-02-30"
	case strings.Contains(name, "lancode"):
		out["bad län"] = "99"
	case strings.Contains(name, "kommun"):
		out["bad kommun"] = "9999"
	case strings.Contains(name, "snapshot"):
		out["impossible date"] = "snapshots/2026-02-30"
	}
	return out
}

func merge(base map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(base)+1)
	for bk, bv := range base {
		out[bk] = bv
	}
	out[k] = v
	return out
}

// jsonRaw encodes m with the PLACEHOLDER value replaced by s written as raw
// bytes inside the JSON string (so invalid UTF-8 reaches the server as is).
func jsonRaw(m map[string]any, s string) []byte {
	b, _ := json.Marshal(m)
	esc := strings.NewReplacer("\\", `\\`, `"`, `\"`, "\r", `\r`, "\n", `\n`, "\x00", `\u0000`).Replace(s)
	return bytes.Replace(b, []byte(`"PLACEHOLDER"`), []byte(`"`+esc+`"`), 1)
}

func sortedKeys(m map[string]*schema) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
