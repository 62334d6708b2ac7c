package gateway

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/timestamppb"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/prototable"
)

func csvMarshaler() *CSVMarshaler {
	return &CSVMarshaler{JSON: &runtime.JSONPb{}, ChunkSize: 10}
}

func TestCSVEncode(t *testing.T) {
	m := csvMarshaler()
	resp := &statisticsv1.QuerySnapshotResponse{
		Rows: []*statisticsv1.QueryRow{
			{KommunCode: "0180", HousingType: statisticsv1.HousingType_HOUSING_TYPE_OVRIGT, Suppressed: true},
			{KommunCode: "0180", HousingType: statisticsv1.HousingType_HOUSING_TYPE_EBO, Count: 40},
		},
		Subtotals: []*statisticsv1.QueryRow{{LanCode: "01", Count: 43, Suppressed: true}},
		Total:     43, TotalSuppressed: true,
	}
	doc := &csvDocument{msg: resp, dialect: DialectExcel}
	if ct := m.ContentType(doc); ct != "text/csv; charset=utf-8" {
		t.Fatalf("content type %q", ct)
	}
	b, err := m.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	rest, ok := bytes.CutPrefix(b, []byte("\ufeff"))
	if !ok {
		t.Fatal("no byte-order mark")
	}
	recs, err := csv.NewReader(bytes.NewReader(rest)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// Statistics' Swedish layout is the statistics service's own (it sends
	// it in the response's document, download_statistics_test.go); without
	// one, its response is a table like any other.
	want := [][]string{
		{"row", "lanCode", "kommunCode", "housingType", "sex", "ageBand", "count", "suppressed", "referenceDate"},
		{"rows", "", "0180", "HOUSING_TYPE_OVRIGT", "SEX_UNSPECIFIED", "AGE_BAND_UNSPECIFIED", "0", "true", ""},
		{"rows", "", "0180", "HOUSING_TYPE_EBO", "SEX_UNSPECIFIED", "AGE_BAND_UNSPECIFIED", "40", "false", ""},
		{"subtotals", "01", "", "HOUSING_TYPE_UNSPECIFIED", "SEX_UNSPECIFIED", "AGE_BAND_UNSPECIFIED", "43", "true", ""},
	}
	if !slices.EqualFunc(recs, want, slices.Equal) {
		t.Fatalf("csv =\n%q\nwant\n%q", recs, want)
	}
	// What is not asked for as a download, an error or the answer to an
	// upload, goes out as JSON.
	if b, err := m.Marshal(resp); err != nil || !bytes.HasPrefix(b, []byte("{")) {
		t.Fatalf("not a download = %s, %v", b, err)
	}
	st := &status.Status{Code: 3, Message: "bad"}
	if ct := m.ContentType(st); ct != "application/json" {
		t.Fatalf("error content type %q", ct)
	}
	if b, err := m.Marshal(st); err != nil || !bytes.HasPrefix(b, []byte("{")) {
		t.Fatalf("error = %s, %v", b, err)
	}
}

func TestCSVDecode(t *testing.T) {
	m := csvMarshaler()
	body := "kommunkod,boendeform,kön,födelsedatum\n0180,ABE,man,1990-01-01\n"
	dec := m.NewDecoder(&csvBody{ReadCloser: io.NopCloser(strings.NewReader(body)), snapshot: "snapshots/2026-10-31"})
	var first statisticsv1.ImportPersonsRequest
	if err := dec.Decode(&first); err != nil || first.GetHeader().GetSnapshot() != "snapshots/2026-10-31" {
		t.Fatalf("header = %v, %v", &first, err)
	}
	var got []byte
	for {
		var msg statisticsv1.ImportPersonsRequest
		err := dec.Decode(&msg)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(msg.GetCsvData()) == 0 || len(msg.GetCsvData()) > 10 {
			t.Fatalf("piece of %d bytes", len(msg.GetCsvData()))
		}
		got = append(got, msg.GetCsvData()...)
	}
	if string(got) != body {
		t.Fatalf("pieces join to %q", got)
	}
	// Only the imports take CSV.
	if err := m.NewDecoder(strings.NewReader(body)).Decode(&statisticsv1.QuerySnapshotRequest{}); err == nil {
		t.Fatal("a query decoded from CSV")
	}
}

// services are the four services' file descriptors, whose every response
// type must make a CSV file.
var services = []protoreflect.FileDescriptor{
	activityv1.File_tia_activity_v1_activity_proto,
	notificationv1.File_tia_notification_v1_notification_proto,
	statisticsv1.File_tia_statistics_v1_statistics_proto,
	travelv1.File_tia_travel_v1_travel_proto,
}

// fill sets every field of m: two elements in every list, two entries in
// every map, nested messages (down to depth), the last value of enums, and
// strings that a spreadsheet would take for formulas.
func fill(m protoreflect.Message, depth int) {
	fs := m.Descriptor().Fields()
	for i := range fs.Len() {
		fd := fs.Get(i)
		switch {
		case fd.IsList():
			l := m.Mutable(fd).List()
			for j := range 2 {
				if fd.Message() != nil {
					if depth > 0 {
						e := l.NewElement()
						fill(e.Message(), depth-1)
						l.Append(e)
					}
					continue
				}
				l.Append(scalar(fd, j))
			}
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			for j := range 2 {
				k := scalar(fd.MapKey(), j).MapKey()
				if fd.MapValue().Message() != nil {
					v := mp.NewValue()
					if depth > 0 {
						fill(v.Message(), depth-1)
					}
					mp.Set(k, v)
					continue
				}
				mp.Set(k, scalar(fd.MapValue(), j))
			}
		case fd.Message() != nil:
			if depth > 0 {
				fill(m.Mutable(fd).Message(), depth-1)
			}
		default:
			m.Set(fd, scalar(fd, 1))
		}
	}
	if ts, ok := m.Interface().(*timestamppb.Timestamp); ok {
		ts.Seconds, ts.Nanos = 1767225600, 0
	}
}

func scalar(fd protoreflect.FieldDescriptor, j int) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString([]string{"=HYPERLINK(\"http://x\")", "-2+3"}[j])
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte{0xfb, byte(j)})
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(j == 1)
	case protoreflect.EnumKind:
		vs := fd.Enum().Values()
		return protoreflect.ValueOfEnum(vs.Get(vs.Len() - 1).Number())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(-3 - j))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(int64(-3 - j))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(3 + j))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(uint64(3 + j))
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(2.5)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(-7.25)
	}
	panic(fd.Kind().String())
}

// readCSV parses a download in its dialect, without the byte-order mark.
func readCSV(t *testing.T, b []byte, d Dialect) [][]string {
	t.Helper()
	rest, hadBOM := bytes.CutPrefix(b, []byte("\ufeff"))
	if hadBOM != d.BOM {
		t.Fatalf("dialect %s: byte-order mark %v", d.Name, hadBOM)
	}
	r := csv.NewReader(bytes.NewReader(rest))
	r.Comma = d.Comma
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("dialect %s: %v in\n%s", d.Name, err, rest)
	}
	return recs
}

// TestCSVEveryResponseType marshals every response type of every method of
// the four services, with every field set, in every dialect: no panic, a
// header row, a line per row, no cell a spreadsheet would run.
func TestCSVEveryResponseType(t *testing.T) {
	m := csvMarshaler()
	seen := map[protoreflect.FullName]bool{}
	for _, fd := range services {
		for i := range fd.Services().Len() {
			methods := fd.Services().Get(i).Methods()
			for j := range methods.Len() {
				out := methods.Get(j).Output()
				if seen[out.FullName()] {
					continue
				}
				seen[out.FullName()] = true
				mt, err := protoregistry.GlobalTypes.FindMessageByName(out.FullName())
				if err != nil {
					t.Fatal(err)
				}
				msg := mt.New()
				fill(msg, 4)
				if !isPlatformMessage(msg.Interface()) {
					continue // google.protobuf.Empty: no document
				}
				for _, d := range []Dialect{DialectExcel, DialectExcelSv, DialectRFC4180} {
					b, err := m.Marshal(&csvDocument{msg: msg.Interface(), dialect: d})
					if err != nil {
						t.Fatalf("%s (%s): %v", out.FullName(), d.Name, err)
					}
					recs := readCSV(t, b, d)
					if len(recs) < 2 || len(recs[0]) == 0 || recs[0][0] == "" {
						t.Fatalf("%s (%s): no header and rows:\n%s", out.FullName(), d.Name, b)
					}
					for _, rec := range recs {
						for _, cell := range rec {
							if prototable.Neutralise(cell) != cell {
								t.Fatalf("%s (%s): cell %q not neutralised", out.FullName(), d.Name, cell)
							}
						}
					}
				}
				// Empty, as a list with no rows is: a header still.
				b, err := m.Marshal(&csvDocument{msg: mt.New().Interface(), dialect: DialectExcel})
				if err != nil {
					t.Fatalf("empty %s: %v", out.FullName(), err)
				}
				if recs := readCSV(t, b, DialectExcel); len(recs) < 1 || len(recs[0]) == 0 {
					t.Fatalf("empty %s: no header:\n%s", out.FullName(), b)
				}
			}
		}
	}
	if len(seen) < 40 {
		t.Fatalf("only %d response types", len(seen))
	}
}

// TestCSVGenericTable: a list's header is the JSON names, nested messages
// flattened (a.b), repeated values and enums joined by name, timestamps in
// RFC 3339; the Swedish dialect writes `;` and decimal commas.
func TestCSVGenericTable(t *testing.T) {
	list := &activityv1.ListActivitiesResponse{Activities: []*activityv1.Activity{{
		Name: "organisers/8020038884/activities/a1", Title: "Svenska, nivå 1", KommunCode: "0180",
		Focus:      []activityv1.Focus{activityv1.Focus_FOCUS_SWEDISH, activityv1.Focus_FOCUS_HEALTH},
		Capacity:   -3,
		CreateTime: timestamppb.New(time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)),
		Languages:  []string{"sv", "ar"},
	}}, NextPageToken: "tok"}
	b, err := marshalCSV(list.ProtoReflect(), DialectRFC4180, "")
	if err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, b, DialectRFC4180)
	want := []string{"name", "title", "kommunCode", "lanCode", "focus", "capacity", "startDate", "endDate", "status",
		"createTime", "updateTime", "fundingBasis", "programme", "agreement", "address", "schedule", "languages"}
	if !slices.Equal(recs[0], want) {
		t.Fatalf("header %q", recs[0])
	}
	row := recs[1]
	if row[1] != "Svenska, nivå 1" || row[4] != "FOCUS_SWEDISH|FOCUS_HEALTH" || row[5] != "-3" || row[9] != "2026-01-10T09:00:00Z" ||
		row[10] != "" || row[8] != "ACTIVITY_STATUS_UNSPECIFIED" || row[16] != "sv|ar" {
		t.Fatalf("row %q", row)
	}

	// Nested messages and a list of them; a double in the Swedish dialect.
	cov := &activityv1.Coverage{
		Name:     "lan/03/coverage",
		Total:    &activityv1.KommunCoverage{TargetGroup: 10, Utilisation: 0.5},
		Kommuner: []*activityv1.KommunCoverage{{KommunCode: "0381", KommunName: "Enköping", Utilisation: 0.25, NearestActivityKm: 12.5}},
	}
	b, err = marshalCSV(cov.ProtoReflect(), DialectExcelSv, "")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\ufeffrow;kommunCode;kommunName;")) {
		t.Fatalf("coverage:\n%s", b)
	}
	recs = readCSV(t, b, DialectExcelSv)
	if len(recs) != 3 || recs[1][0] != "total" || recs[2][0] != "kommuner" || recs[2][1] != "0381" || !slices.Contains(recs[2], "0,25") || !slices.Contains(recs[2], "12,5") {
		t.Fatalf("coverage rows %q", recs)
	}
	// A resource with a list of messages is one line; the list's fields are
	// columns of their own.
	org := &activityv1.Organiser{Name: "organisers/1", CreateTime: timestamppb.Now(), Contacts: []*activityv1.Contact{{DisplayName: "A"}, {DisplayName: "B"}}}
	b, err = marshalCSV(org.ProtoReflect(), DialectRFC4180, "")
	if err != nil {
		t.Fatal(err)
	}
	recs = readCSV(t, b, DialectRFC4180)
	if i := slices.Index(recs[0], "contacts.displayName"); len(recs) != 2 || i < 0 || recs[1][i] != "A|B" {
		t.Fatalf("organiser %q", recs)
	}
	// Another table of a report, by name; an unknown one is refused.
	rep := &travelv1.LeadTimeReport{AtRisk: []*travelv1.AtRiskClaim{{}}}
	if _, err := marshalCSV(rep.ProtoReflect(), DialectRFC4180, "atRisk"); err != nil {
		t.Fatal(err)
	}
	var nt *errNoSuchTable
	if _, err := marshalCSV(rep.ProtoReflect(), DialectRFC4180, "nope"); !errors.As(err, &nt) || !strings.Contains(err.Error(), "atRisk") {
		t.Fatalf("unknown table: %v", err)
	}
}

// TestCSVInjection: cells a spreadsheet would evaluate get an apostrophe
// (prototable.Neutralise, tested there); numbers, negative ones included,
// stay numbers.
func TestCSVInjection(t *testing.T) {
	list := &activityv1.ListActivitiesResponse{Activities: []*activityv1.Activity{{Title: `=cmd|' /C calc'!A0`, Capacity: -3}}}
	b, err := marshalCSV(list.ProtoReflect(), DialectExcelSv, "")
	if err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, b, DialectExcelSv)
	if recs[1][1] != `'=cmd|' /C calc'!A0` || recs[1][5] != "-3" {
		t.Fatalf("row %q", recs[1])
	}
	// A document a service rendered is neutralised too.
	out, err := redialect([]byte("kommun,andel\n=1+1,0.5\n-2,-0.25\n"), DialectExcelSv)
	if err != nil {
		t.Fatal(err)
	}
	if want := "\ufeffkommun;andel\r\n'=1+1;0,5\r\n-2;-0,25\r\n"; string(out) != want {
		t.Fatalf("redialect = %q, want %q", out, want)
	}
}
