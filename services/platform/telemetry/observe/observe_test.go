package observe

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
)

// TestSet: the callback's observations are collected under the declared
// names, descriptions and units, and none after unregister.
func TestSet(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	set := New(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter("test"))
	gauge := set.Int64Gauge("test.gauge", "A gauge.", "{thing}")
	total := set.Float64Counter("test.total", "A total.", "s")
	unregister, err := set.Register(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(gauge, 3)
		o.ObserveFloat64(total, 1.5)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []metricdata.Metrics{
		{Name: "test.gauge", Description: "A gauge.", Unit: "{thing}",
			Data: metricdata.Gauge[int64]{DataPoints: []metricdata.DataPoint[int64]{{Value: 3}}}},
		{Name: "test.total", Description: "A total.", Unit: "s",
			Data: metricdata.Sum[float64]{Temporality: metricdata.CumulativeTemporality, IsMonotonic: true,
				DataPoints: []metricdata.DataPoint[float64]{{Value: 1.5}}}},
	}
	got := collect(t, reader)
	if len(got) != len(want) {
		t.Fatalf("collected %d metrics, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		metricdatatest.AssertEqual(t, want[i], got[i], metricdatatest.IgnoreTimestamp())
	}

	if err := unregister(); err != nil {
		t.Fatal(err)
	}
	if got := collect(t, reader); len(got) != 0 {
		t.Fatalf("collected %+v after unregister, want nothing", got)
	}
}

// TestSetDeclarationError: a bad declaration fails Register.
func TestSetDeclarationError(t *testing.T) {
	set := New(sdkmetric.NewMeterProvider().Meter("test"))
	set.Int64Gauge("test.ok", "", "")
	set.Int64Counter("not a valid name!", "", "")
	if _, err := set.Register(func(context.Context, metric.Observer) error { return nil }); err == nil {
		t.Fatal("Register with an invalid instrument name: no error")
	}
}

// collect reads the metrics of reader's only scope.
func collect(t *testing.T, reader sdkmetric.Reader) []metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	if len(rm.ScopeMetrics) == 0 {
		return nil
	}
	return rm.ScopeMetrics[0].Metrics
}
