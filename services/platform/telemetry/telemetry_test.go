package telemetry

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// A process that exports no spans still gives every span an id (logs,
// X-Request-Id, the traceparent it sends on) and keeps a caller's sampling
// decision; one with a span processor records its spans.
func TestSpansWithoutExporter(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	prev := otel.GetTracerProvider()
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	ctx := context.Background()

	tel, err := Setup(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tel.Shutdown(ctx) }()
	_, root := otel.Tracer("test").Start(ctx, "root")
	if root.IsRecording() || !root.SpanContext().IsValid() {
		t.Errorf("root span without an exporter: recording %v, valid ids %v; want ids only", root.IsRecording(), root.SpanContext().IsValid())
	}
	root.End()

	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	_, child := otel.Tracer("test").Start(trace.ContextWithRemoteSpanContext(ctx, parent), "child")
	if !child.SpanContext().IsSampled() || child.SpanContext().TraceID() != parent.TraceID() {
		t.Errorf("child of a sampled caller: %v, want sampled in trace %v", child.SpanContext(), parent.TraceID())
	}
	child.End()

	rec := tracetest.NewSpanRecorder()
	tel2, err := Setup(ctx, "test", WithSpanProcessor(rec))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tel2.Shutdown(ctx) }()
	_, s := otel.Tracer("test").Start(ctx, "recorded")
	s.End()
	if ended := rec.Ended(); len(ended) != 1 || ended[0].Name() != "recorded" {
		t.Errorf("with a span processor: %d spans recorded, want the one", len(ended))
	}
}
