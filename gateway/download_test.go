package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/badrequest"
)

// formatsActivity answers as the activity service would, for the edge's
// formats and errors.
type formatsActivity struct {
	activityv1.UnimplementedActivityServiceServer
	got *activityv1.CreateActivityRequest
}

func (f *formatsActivity) CreateActivity(_ context.Context, req *activityv1.CreateActivityRequest) (*activityv1.Activity, error) {
	f.got = req
	var v badrequest.Violations
	v.Add("activity.kommun_code", "must be an SCB kommun code")
	v.Add("end_date", "must not be before start_date")
	v.Add("activity.focus[1]", "duplicate")
	return nil, v.Err()
}

func (f *formatsActivity) ListActivities(context.Context, *activityv1.ListActivitiesRequest) (*activityv1.ListActivitiesResponse, error) {
	return &activityv1.ListActivitiesResponse{Activities: []*activityv1.Activity{{
		Name: "organisers/8020038884/activities/a1", Title: "=HYPERLINK(\"http://evil\")", Capacity: -3,
		Focus: []activityv1.Focus{activityv1.Focus_FOCUS_SWEDISH, activityv1.Focus_FOCUS_HEALTH},
	}}, NextPageToken: "next"}, nil
}

func (f *formatsActivity) ExportCoverage(context.Context, *activityv1.ExportCoverageRequest) (*activityv1.ExportCoverageResponse, error) {
	return &activityv1.ExportCoverageResponse{ContentType: "text/csv; charset=utf-8", Csv: "kommun_code,kommun_name,utilisation\n0381,Enköping,0.25\n"}, nil
}

type formatsTravel struct {
	travelv1.UnimplementedTravelServiceServer
}

const painXML = `<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.10"/>`

func (formatsTravel) GetPaymentFile(_ context.Context, req *travelv1.GetPaymentFileRequest) (*travelv1.PaymentFile, error) {
	return &travelv1.PaymentFile{Name: req.GetName(), ContentType: "application/xml", Content: []byte(painXML)}, nil
}

// formatsEdge is the mux with the options gateway.New gives it for formats
// and errors, over in-process services.
func formatsEdge(t *testing.T) (http.Handler, *formatsActivity) {
	t.Helper()
	now = func() time.Time { return time.Date(2026, 12, 1, 23, 30, 0, 0, time.UTC) } // 2 December in Stockholm
	t.Cleanup(func() { now = time.Now })
	jsonMarshaler := &runtime.HTTPBodyMarshaler{Marshaler: &runtime.JSONPb{MarshalOptions: protojson.MarshalOptions{EmitUnpopulated: true}}}
	mux := runtime.NewServeMux(formatOptions(jsonMarshaler)...)
	act := &formatsActivity{}
	if err := activityv1.RegisterActivityServiceHandlerServer(context.Background(), mux, act); err != nil {
		t.Fatal(err)
	}
	if err := travelv1.RegisterTravelServiceHandlerServer(context.Background(), mux, formatsTravel{}); err != nil {
		t.Fatal(err)
	}
	return csvUploads(mux), act
}

// call is serve without a token, with the body as a string.
func call(h http.Handler, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	return serve(h, method, path, rd, headers...)
}

// violations are the field violations of an error body, field → description.
func violations(t *testing.T, rec *httptest.ResponseRecorder) (string, map[string]string) {
	t.Helper()
	var body struct {
		Message string `json:"message"`
		Details []struct {
			FieldViolations []struct{ Field, Description string } `json:"fieldViolations"`
		} `json:"details"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("HTTP %d, not JSON: %s", rec.Code, rec.Body)
	}
	out := map[string]string{}
	for _, d := range body.Details {
		for _, fv := range d.FieldViolations {
			out[fv.Field] = fv.Description
		}
	}
	return body.Message, out
}

// TestJSONErrorsInClientWords: a body that does not decode is a 400 whose
// field violation names the JSON path (prefixed as the service's own
// violations are), says what the field takes, and suggests the field meant.
func TestJSONErrorsInClientWords(t *testing.T) {
	h, act := formatsEdge(t)
	const path = "/v1/organisers/8020038884/activities"
	for _, tt := range []struct {
		body, field, desc string
	}{
		{`{"title":"Svenska","langauges":["sv"]}`, "activity.langauges", `unknown field "langauges"; did you mean "languages"?`},
		{`{"kommuncode":"0180"}`, "activity.kommuncode", `did you mean "kommunCode"?`},
		{`{"xyzzy":1}`, "activity.xyzzy", "the fields are address, agreement,"},
		{`{"title":5}`, "activity.title", "must be a string, not 5"},
		{`{"createTime":1767225600}`, "activity.createTime", "must be an RFC 3339 timestamp"},
		{`{"createTime":"yesterday"}`, "activity.createTime", `not "yesterday"`},
		{`{"focus":["FOCUS_SWEDISH","FOCUS_NOPE"]}`, "activity.focus[1]", "must be one of FOCUS_SWEDISH,"},
		{`{"focus":"FOCUS_SWEDISH"}`, "activity.focus", "must be an array of values that are one of FOCUS_SWEDISH"},
		{`{"capacity":"many"}`, "activity.capacity", "must be a whole number"},
		{"{\n  \"title\": \"a\",\n  \"capacity\": true\n}", "activity.capacity", "not true"},
		{`{"title":"a","title":"b"}`, "activity.title", "given twice"},
		{"{\"title\":\"\xff\"}", "activity.title", "not valid UTF-8"},
		{`{"title":"a",}`, "activity", "not valid JSON"},
		{`{"title":`, "activity.title", "ends inside"},
	} {
		rec := call(h, "POST", path, tt.body)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: HTTP %d %s", tt.body, rec.Code, rec.Body)
			continue
		}
		msg, fvs := violations(t, rec)
		if desc, ok := fvs[tt.field]; !ok || !strings.Contains(desc, tt.desc) {
			t.Errorf("%s: violations %q, want %s: …%s…", tt.body, fvs, tt.field, tt.desc)
		}
		if strings.Contains(msg, "proto:") || strings.Contains(msg, "(line ") {
			t.Errorf("%s: message %q", tt.body, msg)
		}
	}
	// Other messages of a request: the organiser's contacts, by index.
	rec := call(h, "POST", "/v1/organisers", `{"contacts":[{"displayName":"a"},{"lanCodes":5}]}`)
	if _, fvs := violations(t, rec); rec.Code != http.StatusBadRequest || !strings.Contains(fvs["organiser.contacts[1].lanCodes"], "must be an array of strings") {
		t.Fatalf("nested: HTTP %d %q", rec.Code, fvs)
	}
	// A body that decodes reaches the service.
	if rec := call(h, "POST", path, `{"title":"Svenska","kommun_code":"0180"}`); rec.Code != http.StatusBadRequest || act.got.GetActivity().GetKommunCode() != "0180" {
		t.Fatalf("valid body: HTTP %d, service got %v", rec.Code, act.got)
	}
}

// TestViolationsInClientWords: the services' violations, named by proto
// paths, reach the client by JSON paths, consistently prefixed.
func TestViolationsInClientWords(t *testing.T) {
	h, _ := formatsEdge(t)
	rec := call(h, "POST", "/v1/organisers/8020038884/activities", `{"title":"Svenska"}`)
	msg, fvs := violations(t, rec)
	want := []string{"activity.endDate", "activity.focus[1]", "activity.kommunCode"}
	got := make([]string, 0, len(fvs))
	for f := range fvs {
		got = append(got, f)
	}
	slices.Sort(got)
	if rec.Code != http.StatusBadRequest || !slices.Equal(got, want) {
		t.Fatalf("HTTP %d, fields %q, want %q", rec.Code, got, want)
	}
	if !strings.Contains(msg, "activity.kommunCode: must be") || strings.Contains(msg, "kommun_code") {
		t.Fatalf("message %q", msg)
	}
}

// TestDownloads: CSV of a list as a named attachment in the dialect asked
// for, the cells neutralised; documents as their own media types; JSON
// stays the default; bad choices are 400s naming the parameter.
func TestDownloads(t *testing.T) {
	h, _ := formatsEdge(t)
	const list = "/v1/organisers/-/activities"

	rec := call(h, "GET", list+"?format=csv", "")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
		rec.Header().Get("Content-Disposition") != `attachment; filename="activities-2026-12-02.csv"` ||
		rec.Header().Get("X-Next-Page-Token") != "next" {
		t.Fatalf("format=csv: HTTP %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	recs := readCSV(t, rec.Body.Bytes(), DialectExcel)
	if recs[0][0] != "name" || recs[1][1] != `'=HYPERLINK("http://evil")` || recs[1][4] != "FOCUS_SWEDISH|FOCUS_HEALTH" || recs[1][5] != "-3" {
		t.Fatalf("csv %q", recs)
	}

	// Swedish: by Accept-Language, or asked for; rfc4180 forces the plain one.
	rec = call(h, "GET", list, "", "Accept", "text/csv", "Accept-Language", "sv-SE,sv;q=0.9,en;q=0.5")
	if readCSV(t, rec.Body.Bytes(), DialectExcelSv); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "name;title;") {
		t.Fatalf("sv: HTTP %d %q", rec.Code, rec.Body)
	}
	rec = call(h, "GET", list+"?dialect=rfc4180", "", "Accept", "text/csv", "Accept-Language", "sv")
	if readCSV(t, rec.Body.Bytes(), DialectRFC4180); rec.Code != http.StatusOK {
		t.Fatalf("rfc4180: HTTP %d", rec.Code)
	}
	rec = call(h, "GET", list+"?format=csv&dialect=excel-sv", "", "Accept-Language", "en")
	if readCSV(t, rec.Body.Bytes(), DialectExcelSv); rec.Code != http.StatusOK {
		t.Fatalf("excel-sv: HTTP %d", rec.Code)
	}
	// Accept with preferences: CSV where it is preferred, JSON otherwise.
	if rec = call(h, "GET", list, "", "Accept", "application/json;q=0.5, text/csv;q=0.9"); !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("preferred CSV: %v", rec.Header())
	}
	for _, accept := range []string{"", "application/json", "application/json, text/csv;q=0.5", "*/*"} {
		rec = call(h, "GET", list, "", "Accept", accept)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Content-Disposition") != "" {
			t.Fatalf("Accept %q: HTTP %d %v", accept, rec.Code, rec.Header())
		}
	}
	// Bad choices.
	for q, field := range map[string]string{"?format=csv&dialect=lotus": "dialect", "?format=pdf": "format", "?format=csv&table=nope": "table"} {
		rec = call(h, "GET", list+q, "")
		if _, fvs := violations(t, rec); rec.Code != http.StatusBadRequest || fvs[field] == "" || rec.Header().Get("Content-Disposition") != "" {
			t.Fatalf("%s: HTTP %d %q %v", q, rec.Code, fvs, rec.Header())
		}
	}

	// coverage:export: the service's CSV itself, not inside JSON.
	rec = call(h, "GET", "/v1/lan/03/coverage:export", "", "Accept", "text/csv", "Accept-Language", "sv")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
		rec.Header().Get("Content-Disposition") != `attachment; filename="coverage-2026-12-02.csv"` ||
		rec.Body.String() != "\ufeffkommun_code;kommun_name;utilisation\r\n0381;Enköping;0,25\r\n" {
		t.Fatalf("export: HTTP %d %v %q", rec.Code, rec.Header(), rec.Body)
	}
	if rec = call(h, "GET", "/v1/lan/03/coverage:export", ""); !strings.Contains(rec.Body.String(), `"csv":`) {
		t.Fatalf("export as JSON: %s", rec.Body)
	}

	// The payment file: pain.001 XML itself.
	rec = call(h, "GET", "/v1/paymentRuns/r1/file", "", "Accept", "application/xml")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/xml" || rec.Body.String() != painXML ||
		rec.Header().Get("Content-Disposition") != `attachment; filename="payment-file-2026-12-02.xml"` {
		t.Fatalf("payment file: HTTP %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	if rec = call(h, "GET", "/v1/paymentRuns/r1/file", ""); !strings.Contains(rec.Body.String(), `"content":`) {
		t.Fatalf("payment file as JSON: %s", rec.Body)
	}
	// XML of something that is no XML document: JSON.
	if rec = call(h, "GET", list, "", "Accept", "application/xml"); rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("list as XML: %v", rec.Header())
	}
	// An error asked for as CSV is JSON, and no attachment.
	rec = call(h, "POST", "/v1/organisers/8020038884/activities?format=csv", `{"title":5}`)
	if rec.Code != http.StatusBadRequest || rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Content-Disposition") != "" {
		t.Fatalf("error as CSV: HTTP %d %v", rec.Code, rec.Header())
	}
}

// TestFieldPaths: proto paths to JSON paths, indexes and map keys kept,
// paths that are no fields left alone.
func TestFieldPaths(t *testing.T) {
	create := (&activityv1.CreateActivityRequest{}).ProtoReflect().Descriptor()
	org := (&activityv1.CreateOrganiserRequest{}).ProtoReflect().Descriptor()
	update := (&activityv1.UpdateActivityRequest{}).ProtoReflect().Descriptor()
	for _, tt := range []struct {
		in, want string
	}{
		{"activity.kommun_code", "activity.kommunCode"},
		{"activity.kommunCode", "activity.kommunCode"},
		{"end_date", "activity.endDate"},
		{"activity.focus[2]", "activity.focus[2]"},
		{"parent", "parent"},
		{"activity.no_such", "activity.no_such"},
		{"line 5", "line 5"},
		{"line 2, column kommunkod", "line 2, column kommunkod"},
		{"", ""},
	} {
		if got := jsonFieldPath(create, tt.in); got != tt.want {
			t.Errorf("CreateActivity %q → %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := jsonFieldPath(org, "organiser.contacts[1].lan_codes[0]"); got != "organiser.contacts[1].lanCodes[0]" {
		t.Errorf("contacts: %q", got)
	}
	if got := jsonFieldPath(update, "update_mask"); got != "updateMask" {
		t.Errorf("update_mask: %q", got)
	}
	segs := splitPath(`labels["a.b"].x_y[3]`)
	if len(segs) != 2 || segs[0] != (pathSeg{"labels", `["a.b"]`}) || segs[1] != (pathSeg{"x_y", "[3]"}) {
		t.Errorf("splitPath: %q", segs)
	}
}

// TestStreamedJSONDecoding: a streamed import's body is many JSON values;
// the decoder reads them one by one and names the field of a bad one.
func TestStreamedJSONDecoding(t *testing.T) {
	m := JSONInClientWords{&runtime.JSONPb{}}
	body := `{"title":"a"}` + "\n" + `{"title":"b"}` + "\n" + `{"title":"c","capasity":1}` + "\n"
	slot := &decodeSlot{ReadCloser: io.NopCloser(strings.NewReader(body))}
	dec := m.NewDecoder(slot)
	var titles []string
	for {
		var a activityv1.Activity
		err := dec.Decode(&a)
		if err != nil {
			if slot.failure == nil || slot.failure.field != "capasity" || !strings.Contains(err.Error(), `did you mean "capacity"`) {
				t.Fatalf("third value: %v (%+v)", err, slot.failure)
			}
			break
		}
		titles = append(titles, a.GetTitle())
	}
	if !slices.Equal(titles, []string{"a", "b"}) {
		t.Fatalf("titles %q", titles)
	}
}
