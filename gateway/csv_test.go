package gateway

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/status"

	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
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
	if ct := m.ContentType(resp); ct != "text/csv; charset=utf-8" {
		t.Fatalf("content type %q", ct)
	}
	b, err := m.Marshal(resp)
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
	want := [][]string{
		{"typ", "länskod", "län", "kommunkod", "kommun", "boendeform", "antal"},
		{"rad", "", "", "0180", "Stockholm", "ÖVRIGT", ".."},
		{"rad", "", "", "0180", "Stockholm", "EBO", "40"},
		{"delsumma", "01", "Stockholms län", "", "", "", ".."},
		{"summa", "", "", "", "", "", ".."},
	}
	if !slices.EqualFunc(recs, want, slices.Equal) {
		t.Fatalf("csv =\n%q\nwant\n%q", recs, want)
	}
	// What is not a table, an error say, goes out as JSON.
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
