// Package sheet renders the statistics service's answers as the spreadsheets
// the agencies' users know (issue 10.4: each service renders its own
// documents; the REST edge only carries the bytes): Swedish column names,
// the dimensions' labels (ABE, kvinna, 18–24), kommun and län names after
// their codes, SCB's ".." for a figure withheld, and a "typ" column (rad,
// delsumma, summa) when a table has several kinds of line.
//
// The file is CSV as RFC 4180 writes it (comma, decimal point, CRLF, no
// byte-order mark); the edge rewrites it in the dialect its client asked
// for. Every cell a spreadsheet would evaluate is neutralised here already,
// so a gRPC client that opens the file gets no formula either.
//
// The layout is read from the messages' fields, so a field added to a row
// type appears as a column without a change here: under its Swedish name
// when swedish has one, else under its JSON name.
package sheet

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tia-platform/tia/services/platform/prototable"
	"github.com/tia-platform/tia/services/platform/refdata"
)

// MediaType is the documents' media type.
const MediaType = "text/csv; charset=utf-8"

// swedish are the column names of the rows' fields.
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
// flags themselves are not written. (Disclosure control perturbs figures
// now and sets no flag; a row that carries one still reads as SCB's.)
var suppressionOf = map[protoreflect.Name][]protoreflect.Name{
	"suppressed":        {"count", "snapshot_count", "projected_count"},
	"from_suppressed":   {"from_count"},
	"to_suppressed":     {"to_count"},
	"change_suppressed": {"change"},
}

// labels are the enum values as spreadsheet users know them.
var labels = map[protoreflect.Name]string{
	"HOUSING_TYPE_ABE": "ABE", "HOUSING_TYPE_EBO": "EBO", "HOUSING_TYPE_OVRIGT": "ÖVRIGT",
	"SEX_KVINNA": "kvinna", "SEX_MAN": "man",
	"AGE_BAND_18_24": "18–24", "AGE_BAND_25_34": "25–34", "AGE_BAND_35_44": "35–44",
	"AGE_BAND_45_54": "45–54", "AGE_BAND_55_64": "55–64", "AGE_BAND_65_PLUS": "65+",
}

// kinds name the part of a table a line comes from, by the response field
// that holds it.
var kinds = map[protoreflect.Name]string{"rows": "rad", "subtotals": "delsumma", "totals": "summa"}

// line is one line of a table and the kind of line it is.
type line struct {
	kind string
	row  protoreflect.Message
}

// column is one column: its title and how a row's cell is written.
type column struct {
	title string
	value func(protoreflect.Message) string
}

// Render writes m as a spreadsheet: the elements of its first repeated
// message field and of its other fields of that type (a report's subtotals
// and totals), and a response's total count as the last line; only the
// columns some line uses. A message without such a field is one line.
func Render(m proto.Message) ([]byte, error) {
	r := m.ProtoReflect()
	rowType, lines := tableOf(r)
	cols := columns(r, rowType, lines)

	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.title
	}
	if err := w.Write(out); err != nil {
		return nil, err
	}
	for _, l := range lines {
		for i, c := range cols {
			if c.value == nil {
				out[i] = l.kind
			} else {
				out[i] = prototable.Neutralise(c.value(l.row))
			}
		}
		if err := w.Write(out); err != nil {
			return nil, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("render %s: %w", r.Descriptor().FullName(), err)
	}
	return buf.Bytes(), nil
}

// tableOf finds the row type of m and its lines.
func tableOf(m protoreflect.Message) (protoreflect.MessageDescriptor, []line) {
	fs := m.Descriptor().Fields()
	var list protoreflect.FieldDescriptor
	for i := range fs.Len() {
		if f := fs.Get(i); f.IsList() && f.Message() != nil {
			list = f
			break
		}
	}
	if list == nil {
		return m.Descriptor(), []line{{row: m}}
	}
	rowType := list.Message()
	sources, found := prototable.Lines(m, list, true)
	lines := make([]line, len(found), len(found)+1)
	for i, l := range found {
		lines[i] = line{kinds[l.Field.Name()], l.Row}
		if lines[i].kind == "" {
			lines[i].kind = "rad"
		}
	}
	// A response's total (QuerySnapshotResponse.total) becomes the last line.
	if tot := fs.ByName("total"); tot != nil && !tot.IsList() && tot.Message() == nil {
		if count := rowType.Fields().ByName("count"); count != nil && count.Kind() == tot.Kind() {
			r := m.Get(sources[0]).List().NewElement().Message()
			r.Set(count, m.Get(tot))
			if sup, rs := fs.ByName("total_suppressed"), rowType.Fields().ByName("suppressed"); sup != nil && rs != nil &&
				sup.Kind() == protoreflect.BoolKind && rs.Kind() == protoreflect.BoolKind {
				r.Set(rs, m.Get(sup))
			}
			lines = append(lines, line{"summa", r})
		}
	}
	return rowType, lines
}

// columns are the table's columns: "typ" when it has several kinds of line,
// the reference date of a time series first, then every field some line
// uses (the counts always), flags of disclosure control excepted; kommun
// and län names after their codes.
func columns(m protoreflect.Message, rowType protoreflect.MessageDescriptor, lines []line) []column {
	rf := rowType.Fields()
	withheld := map[protoreflect.Name]protoreflect.FieldDescriptor{}
	for flag, counts := range suppressionOf {
		if fd := rf.ByName(flag); fd != nil && fd.Kind() == protoreflect.BoolKind && !fd.IsList() {
			for _, c := range counts {
				withheld[c] = fd
			}
		}
	}
	var cols []column
	seen := map[string]bool{}
	for _, l := range lines {
		seen[l.kind] = true
	}
	if len(seen) > 1 {
		cols = append(cols, column{"typ", nil})
	}
	order := make([]protoreflect.FieldDescriptor, 0, rf.Len())
	if fd := rf.ByName("reference_date"); fd != nil {
		order = append(order, fd)
	}
	for i := range rf.Len() {
		if fd := rf.Get(i); fd.Name() != "reference_date" {
			order = append(order, fd)
		}
	}
	single := len(lines) == 0 || rowType == m.Descriptor()
	for _, fd := range order {
		if _, isFlag := suppressionOf[fd.Name()]; isFlag {
			continue
		}
		used := single
		for _, l := range lines {
			if l.row.Has(fd) {
				used = true
				break
			}
		}
		if !used && withheld[fd.Name()] == nil {
			continue
		}
		title := swedish[fd.Name()]
		if title == "" {
			title = fd.JSONName()
		}
		cols = append(cols, column{title, func(r protoreflect.Message) string {
			if flag := withheld[fd.Name()]; flag != nil && r.Get(flag).Bool() {
				return ".."
			}
			return cell(fd, r.Get(fd))
		}})
		if fd.IsList() || fd.Kind() != protoreflect.StringKind {
			continue
		}
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
	return cols
}

// cell writes a value: enums by their labels (nothing for unspecified),
// booleans as ja/nej, timestamps in RFC 3339 (UTC), lists joined with "|".
func cell(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	if fd.IsList() {
		l := v.List()
		parts := make([]string, l.Len())
		for i := range l.Len() {
			parts[i] = scalar(fd, l.Get(i))
		}
		return strings.Join(parts, "|")
	}
	return scalar(fd, v)
}

func scalar(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		ev := fd.Enum().Values().ByNumber(v.Enum())
		if ev == nil || v.Enum() == 0 {
			return ""
		}
		if l, ok := labels[ev.Name()]; ok {
			return l
		}
		return string(ev.Name())
	case protoreflect.BoolKind:
		if v.Bool() {
			return "ja"
		}
		return "nej"
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Sint32Kind, protoreflect.Sint64Kind,
		protoreflect.Sfixed32Kind, protoreflect.Sfixed64Kind:
		return strconv.FormatInt(v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
		return strconv.FormatUint(v.Uint(), 10)
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return strconv.FormatFloat(v.Float(), 'f', -1, 64)
	case protoreflect.MessageKind:
		m := v.Message()
		if !m.IsValid() {
			return ""
		}
		if ts, ok := m.Interface().(*timestamppb.Timestamp); ok {
			if !ts.IsValid() {
				return ""
			}
			return ts.AsTime().UTC().Format(time.RFC3339Nano)
		}
		b, err := protojson.Marshal(m.Interface())
		if err != nil {
			return ""
		}
		return string(b)
	}
	return fmt.Sprint(v.Interface())
}
