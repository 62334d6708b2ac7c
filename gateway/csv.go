package gateway

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tia-platform/tia/services/platform/refdata"
)

// MIMECSV is the media type of spreadsheet downloads and uploads.
const MIMECSV = "text/csv"

// CSVMarshaler serves any response with repeated rows as CSV (UTF-8 with a
// byte-order mark so that Excel reads å, ä and ö right, Swedish column names,
// one line per row) to clients that send `Accept: text/csv`, and reads a
// `Content-Type: text/csv` body as a streamed import: the first message is
// the header naming the snapshot (from the `snapshot` query parameter), the
// rest carry the body in pieces as csv_data, so the service reads the file
// as it arrives and names the line and column of any mistake. Everything
// else (import summaries, errors) it hands to JSON.
type CSVMarshaler struct {
	// JSON marshals what is not a table.
	JSON runtime.Marshaler
	// ChunkSize is the size of the csv_data pieces; 256 kB when 0.
	ChunkSize int
}

var _ runtime.Marshaler = (*CSVMarshaler)(nil)

// ContentType is text/csv for tables and JSON's for the rest.
func (m *CSVMarshaler) ContentType(v any) string {
	if msg, ok := v.(proto.Message); ok && len(tableFields(msg.ProtoReflect())) > 0 {
		return MIMECSV + "; charset=utf-8"
	}
	return m.JSON.ContentType(v)
}

// Marshal writes a table as CSV and anything else as JSON.
func (m *CSVMarshaler) Marshal(v any) ([]byte, error) {
	msg, ok := v.(proto.Message)
	if !ok || len(tableFields(msg.ProtoReflect())) == 0 {
		return m.JSON.Marshal(v)
	}
	var buf bytes.Buffer
	if err := writeTable(&buf, msg.ProtoReflect()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
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
// and turns `?format=csv` into `Accept: text/csv`, for a link pasted into a
// spreadsheet program, which cannot set headers.
func csvUploads(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && ct == MIMECSV && r.Body != nil {
			r.Body = &csvBody{ReadCloser: r.Body, snapshot: r.URL.Query().Get("snapshot")}
		}
		if q := r.URL.Query(); q.Get("format") == "csv" {
			q.Del("format")
			r.URL.RawQuery = q.Encode()
			r.Header.Set("Accept", MIMECSV)
		}
		next.ServeHTTP(w, r)
	})
}

// Swedish column names for the fields of the statistics API's rows.
var swedish = map[protoreflect.Name]string{
	"reference_date":  "referensdatum",
	"lan_code":        "länskod",
	"kommun_code":     "kommunkod",
	"housing_type":    "boendeform",
	"sex":             "kön",
	"age_band":        "åldersgrupp",
	"count":           "antal",
	"from_count":      "antal_från",
	"to_count":        "antal_till",
	"change":          "förändring",
	"snapshot_count":  "antal_ögonblicksbild",
	"planned_delta":   "planerad_förändring",
	"projected_count": "beräknat_antal",
	"name":            "namn",
	"cell_count":      "celler",
	"total":           "totalt",
	"import_time":     "importerad",
	"effective_date":  "från_datum",
	"adults_delta":    "förändring_vuxna",
	"description":     "beskrivning",
	"create_time":     "registrerad",
}

// suppressionOf maps a flag of disclosure control to the counts it withholds;
// those are written ".." (SCB's mark for a figure not published), and the
// flags themselves are not written.
var suppressionOf = map[protoreflect.Name][]protoreflect.Name{
	"suppressed":        {"count", "snapshot_count", "projected_count"},
	"from_suppressed":   {"from_count"},
	"to_suppressed":     {"to_count"},
	"change_suppressed": {"change"},
}

// enumLabels are the labels spreadsheet users know.
var enumLabels = map[string]string{
	"HOUSING_TYPE_ABE": "ABE", "HOUSING_TYPE_EBO": "EBO", "HOUSING_TYPE_OVRIGT": "ÖVRIGT",
	"SEX_KVINNA": "kvinna", "SEX_MAN": "man",
	"AGE_BAND_18_24": "18–24", "AGE_BAND_25_34": "25–34", "AGE_BAND_35_44": "35–44",
	"AGE_BAND_45_54": "45–54", "AGE_BAND_55_64": "55–64", "AGE_BAND_65_PLUS": "65+",
}

// rowKinds name the part of the table a row comes from.
var rowKinds = map[protoreflect.Name]string{"rows": "rad", "subtotals": "delsumma", "totals": "summa"}

// tableFields are the repeated message fields of m that make up its table.
func tableFields(m protoreflect.Message) []protoreflect.FieldDescriptor {
	// Only the platform's own responses are tables (not google.rpc.Status,
	// whose details are repeated too).
	if !strings.HasPrefix(string(m.Descriptor().FullName()), "tia.") {
		return nil
	}
	var out []protoreflect.FieldDescriptor
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		if f.IsList() && f.Message() != nil && f.Message().FullName() != "google.protobuf.Timestamp" {
			out = append(out, f)
		}
	}
	return out
}

// writeTable writes the rows of every repeated field of m (which share one
// message type, or the first field's type is used) and, when m has a total,
// a last row with it.
func writeTable(w io.Writer, m protoreflect.Message) error {
	tf := tableFields(m)
	rowType := tf[0].Message()
	type entry struct {
		kind string
		row  protoreflect.Message
	}
	var rows []entry
	for _, f := range tf {
		if f.Message().FullName() != rowType.FullName() {
			continue
		}
		list := m.Get(f).List()
		for i := range list.Len() {
			rows = append(rows, entry{rowKinds[f.Name()], list.Get(i).Message()})
		}
	}
	// A response's total (QuerySnapshotResponse.total) becomes the last row.
	fields := m.Descriptor().Fields()
	if tot := fields.ByName("total"); tot != nil && !tot.IsList() && rowType.Fields().ByName("count") != nil {
		r := dynamicRow(rowType)
		r.Set(rowType.Fields().ByName("count"), m.Get(tot))
		if sup, rs := fields.ByName("total_suppressed"), rowType.Fields().ByName("suppressed"); sup != nil && rs != nil {
			r.Set(rs, m.Get(sup))
		}
		rows = append(rows, entry{"summa", r})
	}

	// Columns: every field set in some row, flags of disclosure control
	// excepted; kommun and län names after their codes.
	rf := rowType.Fields()
	withheld := map[protoreflect.Name]protoreflect.FieldDescriptor{}
	for flag, counts := range suppressionOf {
		if fd := rf.ByName(flag); fd != nil {
			for _, c := range counts {
				withheld[c] = fd
			}
		}
	}
	type column struct {
		title string
		value func(protoreflect.Message) string
	}
	var cols []column
	kinds := map[string]bool{}
	for _, e := range rows {
		kinds[e.kind] = true
	}
	if len(kinds) > 1 {
		cols = append(cols, column{"typ", nil})
	}
	// The reference date of a time series comes first.
	order := make([]protoreflect.FieldDescriptor, 0, rf.Len())
	if fd := rf.ByName("reference_date"); fd != nil {
		order = append(order, fd)
	}
	for i := range rf.Len() {
		if fd := rf.Get(i); fd.Name() != "reference_date" {
			order = append(order, fd)
		}
	}
	for _, fd := range order {
		if _, isFlag := suppressionOf[fd.Name()]; isFlag {
			continue
		}
		used := false
		for _, e := range rows {
			if e.row.Has(fd) {
				used = true
				break
			}
		}
		isCount := withheld[fd.Name()] != nil
		if !used && !isCount {
			continue
		}
		title := swedish[fd.Name()]
		if title == "" {
			title = string(fd.Name())
		}
		cols = append(cols, column{title, func(r protoreflect.Message) string {
			if flag := withheld[fd.Name()]; flag != nil && r.Get(flag).Bool() {
				return ".."
			}
			return cellText(fd, r.Get(fd))
		}})
		switch fd.Name() {
		case "kommun_code":
			cols = append(cols, column{"kommun", func(r protoreflect.Message) string {
				k, _ := refdata.KommunByCode(r.Get(fd).String())
				return k.Name
			}})
		case "lan_code":
			cols = append(cols, column{"län", func(r protoreflect.Message) string {
				l, _ := refdata.LanByCode(r.Get(fd).String())
				return l.Name
			}})
		}
	}

	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	line := make([]string, len(cols))
	for i, c := range cols {
		line[i] = c.title
	}
	if err := cw.Write(line); err != nil {
		return err
	}
	for _, e := range rows {
		for i, c := range cols {
			if c.value == nil {
				line[i] = e.kind
				continue
			}
			line[i] = c.value(e.row)
		}
		if err := cw.Write(line); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func dynamicRow(md protoreflect.MessageDescriptor) protoreflect.Message {
	// Every row type is a generated message; make one of the same type.
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
	if err != nil {
		panic(err)
	}
	return mt.New()
}

func cellText(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		ev := fd.Enum().Values().ByNumber(v.Enum())
		if ev == nil || v.Enum() == 0 {
			return ""
		}
		if l, ok := enumLabels[string(ev.Name())]; ok {
			return l
		}
		return string(ev.Name())
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.BoolKind:
		if v.Bool() {
			return "ja"
		}
		return "nej"
	case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Sint32Kind, protoreflect.Sint64Kind,
		protoreflect.Sfixed32Kind, protoreflect.Sfixed64Kind:
		return strconv.FormatInt(v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
		return strconv.FormatUint(v.Uint(), 10)
	case protoreflect.MessageKind:
		if ts, ok := v.Message().Interface().(*timestamppb.Timestamp); ok {
			if !ts.IsValid() || (ts.GetSeconds() == 0 && ts.GetNanos() == 0) {
				return ""
			}
			return ts.AsTime().UTC().Format(time.RFC3339)
		}
		return ""
	}
	return strings.TrimSpace(fmt.Sprint(v.Interface()))
}
