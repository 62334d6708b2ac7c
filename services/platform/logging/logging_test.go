package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestTraceIDsInRecords(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, "activity", slog.LevelInfo)
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("test").Start(context.Background(), "op")
	log.InfoContext(ctx, "hello", "k", "v")
	span.End()

	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not JSON: %v: %s", err, buf.String())
	}
	if rec["trace_id"] != span.SpanContext().TraceID().String() {
		t.Errorf("trace_id = %v, want %v", rec["trace_id"], span.SpanContext().TraceID())
	}
	if rec["service"] != "activity" || rec["k"] != "v" {
		t.Errorf("record = %v", rec)
	}

	buf.Reset()
	log.Info("no span")
	if bytes.Contains(buf.Bytes(), []byte("trace_id")) {
		t.Errorf("trace_id without a span: %s", buf.String())
	}
}
