package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tia-platform/tia/services/platform/prototable"
)

// MIMECSV is the media type of spreadsheet downloads and uploads.
const MIMECSV = "text/csv"

// CSVMarshaler serves every response of the platform as CSV to clients that
// ask for it (`Accept: text/csv` or `?format=csv`), and reads a
// `Content-Type: text/csv` body as a streamed import: the first message is
// the header naming the snapshot (from the `snapshot` query parameter), the
// rest carry the body in pieces as csv_data, so the service reads the file
// as it arrives and names the line and column of any mistake. Errors it
// hands to JSON.
//
// What a response becomes (csvTable): a list or report gives one line per
// element of its first repeated message field (with the response's other
// fields of that row type, such as a total, as further lines); a single
// resource gives one line. Columns are the row's fields by their JSON names;
// nested messages are flattened into `a.b` columns, repeated values and map
// entries are joined with `|` in one cell, enums are written by name,
// timestamps in RFC 3339, durations and wrappers as in JSON. A service that
// renders its own document (statistics' Swedish spreadsheets) has it served
// as it is instead (download.go, documentOf).
//
// Every cell is neutralised against formula injection (neutralise), and the
// dialect (Dialect) decides separator, decimal mark and byte-order mark.
type CSVMarshaler struct {
	// JSON marshals what is not a table.
	JSON runtime.Marshaler
	// ChunkSize is the size of the csv_data pieces; 256 kB when 0.
	ChunkSize int
}

var _ runtime.Marshaler = (*CSVMarshaler)(nil)

// ContentType is text/csv for downloads (csvDocument, made by the response
// rewriter when the client asked for CSV) and JSON's for the rest.
func (m *CSVMarshaler) ContentType(v any) string {
	switch v.(type) {
	case *csvDocument, rawDocument:
		return MIMECSV + "; charset=utf-8"
	}
	return m.JSON.ContentType(v)
}

// Marshal writes downloads as CSV and anything else as JSON.
func (m *CSVMarshaler) Marshal(v any) ([]byte, error) {
	switch v := v.(type) {
	case rawDocument:
		return v.data, nil
	case *csvDocument:
		return marshalCSV(v.msg.ProtoReflect(), v.dialect, v.table)
	}
	// Not asked for as a download: the answer to a CSV upload (which picks
	// this marshaler by its Content-Type) or an error.
	return m.JSON.Marshal(v)
}

// Unmarshal refuses a whole CSV body: only the streamed imports take CSV.
func (m *CSVMarshaler) Unmarshal([]byte, any) error {
	return errors.New("text/csv is accepted only by the imports (POST /v1/snapshots:importPersons, :importCells)")
}

// NewEncoder writes each value as Marshal does.
func (m *CSVMarshaler) NewEncoder(w io.Writer) runtime.Encoder {
	return runtime.EncoderFunc(func(v any) error {
		b, err := m.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
}

// csvDocument is a response on its way to CSV with the request's dialect
// and table choice (set by the response rewriter, download.go).
type csvDocument struct {
	msg     proto.Message
	dialect Dialect
	table   string
}

// isPlatformMessage: only the platform's own messages are documents (not
// google.rpc.Status, nor google.protobuf.Empty).
func isPlatformMessage(m proto.Message) bool {
	return m != nil && strings.HasPrefix(string(m.ProtoReflect().Descriptor().FullName()), "tia.")
}

// Dialect is how a CSV file is spelled for the program that opens it.
type Dialect struct {
	// Name as in `?dialect=`.
	Name string
	// Comma separates cells.
	Comma rune
	// DecimalComma writes 2,5 instead of 2.5.
	DecimalComma bool
	// BOM starts the file with a UTF-8 byte-order mark, without which Excel
	// reads å, ä and ö as Latin-1.
	BOM bool
}

var (
	// DialectExcel opens right in a spreadsheet program with an English
	// locale: comma, decimal point, byte-order mark. The default.
	DialectExcel = Dialect{Name: "excel", Comma: ',', BOM: true}
	// DialectExcelSv opens right in a Swedish Excel, which expects `;`
	// between cells because `,` is its decimal mark. The default for
	// requests that prefer Swedish (Accept-Language: sv).
	DialectExcelSv = Dialect{Name: "excel-sv", Comma: ';', DecimalComma: true, BOM: true}
	// DialectRFC4180 is the plain format for programs: comma, decimal
	// point, no byte-order mark.
	DialectRFC4180 = Dialect{Name: "rfc4180", Comma: ','}
)

// Dialects by their `?dialect=` names.
var Dialects = map[string]Dialect{
	DialectExcel.Name: DialectExcel, DialectExcelSv.Name: DialectExcelSv, DialectRFC4180.Name: DialectRFC4180,
}

// number writes a decimal in the dialect.
func (d Dialect) number(s string) string {
	if d.DecimalComma {
		return strings.Replace(s, ".", ",", 1)
	}
	return s
}

// csvWriter writes lines in a dialect with every cell neutralised.
type csvWriter struct {
	w       *csv.Writer
	dialect Dialect
}

func newCSVWriter(w io.Writer, d Dialect) (*csvWriter, error) {
	if d.BOM {
		if _, err := io.WriteString(w, "\ufeff"); err != nil {
			return nil, err
		}
	}
	cw := csv.NewWriter(w)
	cw.Comma = d.Comma
	cw.UseCRLF = true
	return &csvWriter{w: cw, dialect: d}, nil
}

func (c *csvWriter) write(cells []string) error {
	for i, s := range cells {
		cells[i] = prototable.Neutralise(s)
	}
	return c.w.Write(cells)
}

func (c *csvWriter) flush() error {
	c.w.Flush()
	return c.w.Error()
}

// marshalCSV writes m as a CSV file in the dialect. table picks the repeated
// field that makes the lines (by JSON name) when a report has several.
func marshalCSV(m protoreflect.Message, d Dialect, table string) ([]byte, error) {
	var buf bytes.Buffer
	w, err := newCSVWriter(&buf, d)
	if err != nil {
		return nil, err
	}
	if err := writeTable(w, m, table); err != nil {
		return nil, err
	}
	if err := w.flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// errNoSuchTable is a `?table=` that names no table of the response.
type errNoSuchTable struct {
	table  string
	tables []string
}

func (e *errNoSuchTable) Error() string {
	return fmt.Sprintf("table %q: this response has the tables %s", e.table, strings.Join(e.tables, ", "))
}

// tableLine is one line of a table: the message and, when the lines come
// from several fields of the response, that field's JSON name.
type tableLine struct {
	kind string
	row  protoreflect.Message
}

// tableOf finds the lines of m: the elements of its table field and, after
// them, its other fields of the same message type (a report's totals). A
// single resource (a message with a name and a create time) is one line of
// its own, as is a message with no repeated message field.
func tableOf(m protoreflect.Message, table string) (protoreflect.MessageDescriptor, []tableLine, error) {
	md := m.Descriptor()
	var lists []protoreflect.FieldDescriptor
	fs := md.Fields()
	for i := range fs.Len() {
		if f := fs.Get(i); f.IsList() && f.Message() != nil && !opaque(f.Message()) {
			lists = append(lists, f)
		}
	}
	resource := fs.ByName("name") != nil && fs.ByName("create_time") != nil
	if table != "" {
		var names []string
		for _, f := range lists {
			names = append(names, f.JSONName())
			if f.JSONName() == table || string(f.Name()) == table {
				lists = []protoreflect.FieldDescriptor{f}
				resource = false
				names = nil
				break
			}
		}
		if names != nil || len(lists) == 0 {
			return nil, nil, &errNoSuchTable{table: table, tables: names}
		}
	}
	if len(lists) == 0 || resource {
		return md, []tableLine{{row: m}}, nil
	}
	sources, found := prototable.Lines(m, lists[0], table == "")
	lines := make([]tableLine, len(found))
	for i, l := range found {
		lines[i].row = l.Row
		if len(sources) > 1 {
			lines[i].kind = l.Field.JSONName()
		}
	}
	return lists[0].Message(), lines, nil
}

// writeTable writes the generic table of m: a header of JSON names, a line
// per row.
func writeTable(w *csvWriter, m protoreflect.Message, table string) error {
	rowType, lines, err := tableOf(m, table)
	if err != nil {
		return err
	}
	cols := columnsOf(rowType, "", nil, w.dialect)
	withKind := len(lines) > 0 && lines[0].kind != ""
	header := make([]string, 0, len(cols)+1)
	if withKind {
		header = append(header, "row")
	}
	for _, c := range cols {
		header = append(header, c.title)
	}
	if err := w.write(header); err != nil {
		return err
	}
	line := make([]string, len(header))
	for _, l := range lines {
		i := 0
		if withKind {
			line[0] = l.kind
			i = 1
		}
		for _, c := range cols {
			line[i] = c.value(l.row)
			i++
		}
		if err := w.write(line); err != nil {
			return err
		}
	}
	return nil
}

// column is one CSV column of a row type.
type column struct {
	title string
	value func(protoreflect.Message) string
}

// maxFlatten is how deep nested messages become columns of their own; deeper
// ones (and recursive types) are written as JSON in one cell.
const maxFlatten = 3

// columnsOf lists the columns of md: one per scalar, enum, repeated or map
// field, and the columns of a nested message under its name ("total.count").
func columnsOf(md protoreflect.MessageDescriptor, prefix string, seen []protoreflect.FullName, d Dialect) []column {
	seen = append(seen, md.FullName())
	var cols []column
	fs := md.Fields()
	for i := range fs.Len() {
		fd := fs.Get(i)
		title := prefix + fd.JSONName()
		if fd.Message() != nil && !fd.IsList() && !fd.IsMap() && !opaque(fd.Message()) &&
			len(seen) < maxFlatten && !slices.Contains(seen, fd.Message().FullName()) {
			for _, c := range columnsOf(fd.Message(), title+".", seen, d) {
				cols = append(cols, column{c.title, func(r protoreflect.Message) string {
					if !r.Has(fd) {
						return ""
					}
					return c.value(r.Get(fd).Message())
				}})
			}
			continue
		}
		if fd.IsList() && fd.Message() != nil && !opaque(fd.Message()) &&
			len(seen) < maxFlatten && !slices.Contains(seen, fd.Message().FullName()) {
			// A list of messages: a column per field of the element, the
			// elements' values joined in the same order.
			for _, c := range columnsOf(fd.Message(), title+".", seen, d) {
				cols = append(cols, column{c.title, func(r protoreflect.Message) string {
					l := r.Get(fd).List()
					parts := make([]string, l.Len())
					for j := range l.Len() {
						parts[j] = c.value(l.Get(j).Message())
					}
					return strings.Join(parts, "|")
				}})
			}
			continue
		}
		cols = append(cols, column{title, func(r protoreflect.Message) string {
			return fieldText(fd, r.Get(fd), d)
		}})
	}
	return cols
}

// fieldText writes a field's value: a list's elements and a map's key=value
// entries (by key) joined with `|`.
func fieldText(fd protoreflect.FieldDescriptor, v protoreflect.Value, d Dialect) string {
	switch {
	case fd.IsList():
		l := v.List()
		parts := make([]string, l.Len())
		for i := range l.Len() {
			parts[i] = valueText(fd, l.Get(i), d)
		}
		return strings.Join(parts, "|")
	case fd.IsMap():
		type entry struct{ k, v string }
		var es []entry
		v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			es = append(es, entry{valueText(fd.MapKey(), k.Value(), d), valueText(fd.MapValue(), mv, d)})
			return true
		})
		slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.k, b.k) })
		parts := make([]string, len(es))
		for i, e := range es {
			parts[i] = e.k + "=" + e.v
		}
		return strings.Join(parts, "|")
	}
	return valueText(fd, v, d)
}

// valueText writes one value of fd's kind.
func valueText(fd protoreflect.FieldDescriptor, v protoreflect.Value, d Dialect) string {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return strconv.Itoa(int(v.Enum()))
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.BytesKind:
		return base64.StdEncoding.EncodeToString(v.Bytes())
	case protoreflect.BoolKind:
		return strconv.FormatBool(v.Bool())
	case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Sint32Kind, protoreflect.Sint64Kind,
		protoreflect.Sfixed32Kind, protoreflect.Sfixed64Kind:
		return strconv.FormatInt(v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
		return strconv.FormatUint(v.Uint(), 10)
	case protoreflect.FloatKind:
		return floatText(v.Float(), 32, d)
	case protoreflect.DoubleKind:
		return floatText(v.Float(), 64, d)
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return messageText(v.Message(), d)
	}
	return ""
}

func floatText(f float64, bits int, d Dialect) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, bits)
	}
	return d.number(strconv.FormatFloat(f, 'f', -1, bits))
}

// messageText writes a message in one cell: well-known types as in JSON
// (a timestamp in RFC 3339, a wrapper as its value), others as JSON.
func messageText(m protoreflect.Message, d Dialect) string {
	md := m.Descriptor()
	switch md.FullName() {
	case "google.protobuf.Timestamp":
		if !m.IsValid() {
			return ""
		}
		ts := m.Interface().(*timestamppb.Timestamp)
		if !ts.IsValid() {
			return ""
		}
		return ts.AsTime().UTC().Format(time.RFC3339Nano)
	case "google.protobuf.Duration":
		if !m.IsValid() {
			return ""
		}
		if du, ok := m.Interface().(*durationpb.Duration); ok && du.IsValid() {
			return d.number(strconv.FormatFloat(du.AsDuration().Seconds(), 'f', -1, 64)) + "s"
		}
		return ""
	case "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
		"google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
		"google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue":
		if !m.IsValid() {
			return ""
		}
		fd := md.Fields().ByName("value")
		return valueText(fd, m.Get(fd), d)
	case "google.protobuf.FieldMask":
		fd := md.Fields().ByName("paths")
		return fieldText(fd, m.Get(fd), d)
	}
	if !m.IsValid() {
		return ""
	}
	b, err := protojson.MarshalOptions{}.Marshal(m.Interface())
	if err != nil {
		return ""
	}
	return string(b)
}

// NewDecoder splits a streamed import's body into its messages.
func (m *CSVMarshaler) NewDecoder(r io.Reader) runtime.Decoder {
	snapshot := ""
	if s, ok := r.(*decodeSlot); ok {
		r = s.ReadCloser
	}
	if b, ok := r.(*csvBody); ok {
		snapshot = b.snapshot
	}
	size := m.ChunkSize
	if size <= 0 {
		size = 256 << 10
	}
	return &csvDecoder{r: r, snapshot: snapshot, size: size}
}

type csvDecoder struct {
	r        io.Reader
	snapshot string
	size     int
	started  bool
	done     bool
}

// Decode fills the header on the first call and csv_data after.
func (d *csvDecoder) Decode(v any) error {
	msg, ok := v.(proto.Message)
	if !ok {
		return errors.New("text/csv: not a protobuf message")
	}
	pr := msg.ProtoReflect()
	fields := pr.Descriptor().Fields()
	header, data := fields.ByName("header"), fields.ByName("csv_data")
	if header == nil || data == nil || header.Message() == nil || header.Message().Fields().ByName("snapshot") == nil {
		return errors.New("text/csv is accepted only by the imports (POST /v1/snapshots:importPersons, :importCells)")
	}
	if !d.started {
		d.started = true
		h := pr.NewField(header).Message()
		h.Set(header.Message().Fields().ByName("snapshot"), protoreflect.ValueOfString(d.snapshot))
		pr.Set(header, protoreflect.ValueOfMessage(h))
		return nil
	}
	if d.done {
		return io.EOF
	}
	buf := make([]byte, d.size)
	n, err := io.ReadFull(d.r, buf)
	switch {
	case errors.Is(err, io.EOF):
		return io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		d.done = true
	case err != nil:
		return fmt.Errorf("reading the CSV body: %w", err)
	}
	pr.Set(data, protoreflect.ValueOfBytes(buf[:n]))
	return nil
}

// csvBody carries the query parameters of a CSV upload to the decoder,
// which sees only the body.
type csvBody struct {
	io.ReadCloser
	snapshot string
}

// csvUploads wraps the body of every text/csv request so that the decoder
// can read the snapshot named in the query (`?snapshot=snapshots/2026-03-31`),
// and reads what a download asks for (download.go): `?format=csv`, for a
// link pasted into a spreadsheet program, which cannot set headers,
// `?dialect=`, `?table=`, Accept and Accept-Language.
func csvUploads(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && ct == MIMECSV && r.Body != nil {
			r.Body = &csvBody{ReadCloser: r.Body, snapshot: r.URL.Query().Get("snapshot")}
		} else if !acceptedBody(r) {
			// 415: the edge reads JSON (and CSV or NDJSON for imports);
			// another type would only fail later as a JSON syntax error.
			b, _ := protojson.Marshal(status.Convert(fieldError("Content-Type",
				fmt.Sprintf("%q is not a type this API reads; send application/json (text/csv or application/x-ndjson for imports)", r.Header.Get("Content-Type")))).Proto())
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnsupportedMediaType)
			_, _ = w.Write(b)
			return
		}
		r, err := readDownloadRequest(r)
		if err != nil {
			writeEdgeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// acceptedBody reports whether the request's body, if it declares a type,
// is one the edge reads: JSON (any +json type), NDJSON, CSV, or plain text
// or what curl sends by default (text/plain, form-urlencoded), which the
// JSON decoder then judges.
func acceptedBody(r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodDelete || r.Method == http.MethodOptions {
		return true
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch {
	case mt == "application/json", strings.HasSuffix(mt, "+json"), mt == "application/x-ndjson", mt == "application/jsonl",
		mt == MIMECSV, mt == "text/plain", mt == "application/x-www-form-urlencoded":
		return true
	}
	return false
}
