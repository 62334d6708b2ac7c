package gateway

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"golang.org/x/text/language"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tia-platform/tia/services/platform/clock"
)

// Downloads: what a client asked for with `Accept` (or `?format=`), read once
// at the edge (csvUploads) and kept in the request's context for the mux's
// response rewriter and response option below.
//
//   - `Accept: text/csv` / `?format=csv`: every response as a CSV file, in
//     the dialect of `?dialect=` (excel, excel-sv, rfc4180) or, without one,
//     excel-sv when the request's Accept-Language prefers Swedish and excel
//     otherwise; `?table=` picks another table of a report with several.
//   - A response that is a document already (a message with a content_type
//     and the bytes: coverage:export's CSV, the payment file's pain.001 XML),
//     or that carries the document its service rendered of it on request
//     (a set `document` field of that shape: statistics' spreadsheets, asked
//     for by the Accept header the edge passes on), is served as those bytes
//     with their own media type when the client accepts it, instead of
//     inside JSON.
//   - Every download is an attachment with a file name:
//     `<resource>-<YYYY-MM-DD>.csv` (the date in Stockholm).
//
// JSON stays the default.

// MIMEXML is the media type of XML documents (the pain.001 payment file).
const MIMEXML = "application/xml"

// downloadVerb ends the routes that stream a file (the payment file's
// `paymentRuns/{run}/file:download`): their default is the file, not JSON.
const downloadVerb = ":download"

type downloadKey struct{}

// downloadRequest is what the client asked for.
type downloadRequest struct {
	mediaType string // MIMECSV or MIMEXML
	dialect   Dialect
	table     string
}

// readDownloadRequest reads a request's wishes into its context and sets the
// single media type the mux picks its marshaler by (grpc-gateway matches the
// Accept header exactly, so `text/csv;q=0.9, */*;q=0.1` would get JSON).
func readDownloadRequest(r *http.Request) (*http.Request, error) {
	q := r.URL.Query()
	format, dialectName, table := q.Get("format"), q.Get("dialect"), q.Get("table")
	if format != "" || dialectName != "" || table != "" {
		q.Del("format")
		q.Del("dialect")
		q.Del("table")
		r.URL.RawQuery = q.Encode()
	}
	if _, ok := Dialects[strings.ToLower(dialectName)]; dialectName != "" && !ok {
		// Refused whatever the format, so a typo is caught before the
		// client asks for the CSV it meant.
		return r, fieldError("dialect", fmt.Sprintf("%q is not a CSV dialect; use excel, excel-sv or rfc4180", dialectName))
	}
	download := strings.HasSuffix(r.URL.Path, downloadVerb)
	want := ""
	switch strings.ToLower(format) {
	case "":
		want = preferredMediaType(r.Header.Values("Accept"))
		if download {
			// A download route serves the file itself whatever the
			// client accepts (a browser's Accept names neither).
			want = MIMEXML
		}
	case "csv":
		want = MIMECSV
	case "xml":
		want = MIMEXML
	case "json":
		want = "application/json"
	default:
		return r, fieldError("format", fmt.Sprintf("%q is not a format; use csv, xml or json", format))
	}
	if download && want != MIMEXML {
		// The route streams the file as it is written: it has no other
		// representation (the resource's own route has JSON).
		return r, fieldError("format", fmt.Sprintf("%q: this download is the XML file itself; use xml or leave format out", format))
	}
	if want == "" {
		return r, nil
	}
	r.Header.Set("Accept", want)
	if want != MIMECSV && want != MIMEXML {
		return r, nil
	}
	d := DialectExcel
	if dialectName != "" {
		var ok bool
		if d, ok = Dialects[strings.ToLower(dialectName)]; !ok {
			return r, fieldError("dialect", fmt.Sprintf("%q is not a CSV dialect; use excel, excel-sv or rfc4180", dialectName))
		}
	} else if prefersSwedish(r.Header.Values("Accept-Language")) {
		d = DialectExcelSv
	}
	dr := &downloadRequest{mediaType: want, dialect: d, table: table}
	return r.WithContext(context.WithValue(r.Context(), downloadKey{}, dr)), nil
}

// preferredMediaType is text/csv or application/xml when the client prefers
// it to JSON (by q-value, then order), else "".
func preferredMediaType(accept []string) string {
	best, bestQ := "", 0.0
	for _, h := range accept {
		for _, part := range strings.Split(h, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if s, ok := params["q"]; ok {
				if _, err := fmt.Sscanf(s, "%g", &q); err != nil {
					continue
				}
			}
			switch mt {
			case "text/csv":
			case "application/xml", "text/xml":
				mt = MIMEXML
			case "application/json", "*/*", "application/*":
				mt = "application/json"
			default:
				continue
			}
			if q > bestQ {
				best, bestQ = mt, q
			}
		}
	}
	if best == "application/json" {
		return ""
	}
	return best
}

// prefersSwedish: the request's most preferred language is Swedish.
func prefersSwedish(acceptLanguage []string) bool {
	tags, _, err := language.ParseAcceptLanguage(strings.Join(acceptLanguage, ","))
	if err != nil || len(tags) == 0 {
		return false
	}
	base, _ := tags[0].Base()
	return base.String() == "sv"
}

// fieldError is a 400 naming a query parameter.
func fieldError(field, desc string) error {
	st := status.New(codes.InvalidArgument, field+": "+desc)
	if d, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
		{Field: field, Description: desc},
	}}); err == nil {
		st = d
	}
	return st.Err()
}

func downloadOf(ctx context.Context) *downloadRequest {
	d, _ := ctx.Value(downloadKey{}).(*downloadRequest)
	return d
}

// rawDocument is a response that goes out as these bytes.
type rawDocument struct{ data []byte }

// documentOf finds a document in m: a content_type and the one bytes or
// string field beside it (besides the name) that holds it.
func documentOf(m proto.Message) (mediaType string, data []byte, ok bool) {
	if !isPlatformMessage(m) {
		return "", nil, false
	}
	r := m.ProtoReflect()
	fs := r.Descriptor().Fields()
	if d := fs.ByName("document"); d != nil && d.Message() != nil && !d.IsList() && !d.IsMap() && r.Has(d) {
		return documentOf(r.Get(d).Message().Interface())
	}
	ct := fs.ByName("content_type")
	if ct == nil || ct.Kind() != protoreflect.StringKind || ct.IsList() {
		return "", nil, false
	}
	var body protoreflect.FieldDescriptor
	for i := range fs.Len() {
		f := fs.Get(i)
		if f == ct || f.Name() == "name" || f.IsList() || f.IsMap() {
			continue
		}
		if f.Kind() != protoreflect.BytesKind && f.Kind() != protoreflect.StringKind || body != nil {
			return "", nil, false
		}
		body = f
	}
	if body == nil {
		return "", nil, false
	}
	mediaType, _, err := mime.ParseMediaType(r.Get(ct).String())
	if err != nil {
		return "", nil, false
	}
	if body.Kind() == protoreflect.BytesKind {
		return mediaType, r.Get(body).Bytes(), true
	}
	return mediaType, []byte(r.Get(body).String()), true
}

// rewriteDownload is the mux's response rewriter: a response to a download
// request becomes what the CSV or XML marshaler writes.
func rewriteDownload(ctx context.Context, resp proto.Message) (any, error) {
	d := downloadOf(ctx)
	if d == nil || !isPlatformMessage(resp) {
		return resp, nil
	}
	if mt, data, ok := documentOf(resp); ok && mt == d.mediaType {
		if mt == MIMECSV {
			b, err := redialect(data, d.dialect)
			if err != nil {
				return nil, status.Errorf(codes.Internal, "the service's CSV document: %v", err)
			}
			return rawDocument{b}, nil
		}
		return rawDocument{data}, nil
	}
	if d.mediaType == MIMECSV {
		return &csvDocument{msg: resp, dialect: d.dialect, table: d.table}, nil
	}
	return resp, nil
}

// downloadHeaders is the mux's response option: a download's media type,
// file name and, for a page of a list, the token of the next page (a CSV
// file has nowhere else to carry it).
func downloadHeaders(ctx context.Context, w http.ResponseWriter, resp proto.Message) error {
	d := downloadOf(ctx)
	if d == nil || !isPlatformMessage(resp) {
		return nil
	}
	ext := "csv"
	if mt, _, ok := documentOf(resp); ok && mt == d.mediaType {
		w.Header().Set("Content-Type", mt)
		if mt == MIMECSV {
			w.Header().Set("Content-Type", MIMECSV+"; charset=utf-8")
		} else {
			ext = "xml"
		}
	} else if d.mediaType == MIMECSV {
		if d.table != "" {
			if _, _, err := tableOf(resp.ProtoReflect(), d.table); err != nil {
				return fieldError("table", err.Error())
			}
		}
		w.Header().Set("Content-Type", MIMECSV+"; charset=utf-8")
		if tok := resp.ProtoReflect().Descriptor().Fields().ByName("next_page_token"); tok != nil && tok.Kind() == protoreflect.StringKind {
			if s := resp.ProtoReflect().Get(tok).String(); s != "" {
				w.Header().Set("X-Next-Page-Token", s)
			}
		}
	} else {
		return nil // XML asked of a response that is not an XML document: JSON
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.%s"`, downloadName(ctx), today(), ext))
	return nil
}

// now is the clock of download names (a variable for tests).
var now = time.Now

func today() string { return clock.Day(now()) }

var wordStart = regexp.MustCompile(`([a-z0-9])([A-Z])`)

// downloadName names a download after the method's resource: ListActivities
// → activities, ExportCoverage → coverage, QueryTimeSeries →
// query-time-series.
func downloadName(ctx context.Context) string {
	method, ok := runtime.RPCMethod(ctx)
	if !ok {
		return "download"
	}
	name := method[strings.LastIndex(method, "/")+1:]
	for _, verb := range []string{"List", "Get", "Export", "Search", "Download"} {
		if rest, ok := strings.CutPrefix(name, verb); ok && rest != "" {
			name = rest
			break
		}
	}
	return strings.ToLower(wordStart.ReplaceAllString(name, "$1-$2"))
}

// redialect rewrites a CSV document a service rendered (comma, decimal
// point) in the dialect the client asked for, every cell neutralised.
func redialect(data []byte, d Dialect) ([]byte, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	rd := csv.NewReader(bytes.NewReader(data))
	rd.FieldsPerRecord = -1
	var buf bytes.Buffer
	w, err := newCSVWriter(&buf, d)
	if err != nil {
		return nil, err
	}
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		for i, c := range rec {
			if decimal.MatchString(c) {
				rec[i] = d.number(c)
			}
		}
		if err := w.write(rec); err != nil {
			return nil, err
		}
	}
	if err := w.flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var decimal = regexp.MustCompile(`^-?[0-9]+\.[0-9]+$`)

// DocumentMarshaler serves documents of one media type (the payment file's
// XML) as their bytes, and hands everything else, errors included, to JSON.
type DocumentMarshaler struct {
	runtime.Marshaler // JSON
	MediaType         string
}

// Delimiter separates the pieces of a streamed response: nothing, as the
// pieces of a document are its bytes (grpc-gateway's runtime.Delimited).
func (m DocumentMarshaler) Delimiter() []byte { return nil }

// ContentType is the document's media type, or JSON's.
func (m DocumentMarshaler) ContentType(v any) string {
	switch v := v.(type) {
	case rawDocument:
		return m.MediaType
	case proto.Message:
		if mt, _, ok := documentOf(v); ok && mt == m.MediaType {
			return m.MediaType
		}
	}
	return m.Marshaler.ContentType(v)
}

// Marshal writes a document's bytes, or JSON. A piece of a streamed
// document comes as grpc-gateway's {"result": piece}, an error of the
// stream as {"error": status}.
func (m DocumentMarshaler) Marshal(v any) ([]byte, error) {
	if chunk, ok := v.(map[string]any); ok && len(chunk) == 1 {
		if doc, ok := chunk["result"].(rawDocument); ok {
			return doc.data, nil
		}
	}
	if chunk, ok := v.(map[string]proto.Message); ok && len(chunk) == 1 && chunk["error"] != nil {
		// A stream's error ({"error": status}): as the edge writes every
		// other error, the status itself.
		return m.Marshaler.Marshal(chunk["error"])
	}
	switch v := v.(type) {
	case rawDocument:
		return v.data, nil
	case proto.Message:
		if mt, data, ok := documentOf(v); ok && mt == m.MediaType {
			return data, nil
		}
	}
	return m.Marshaler.Marshal(v)
}
