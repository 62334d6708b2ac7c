package observe

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// TestSet: the callback's observations are collected under the declared
// names, and nothing is after unregister.
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
	got := collect(t, reader)
	if got["test.gauge"] != 3 || got["test.total"] != 1.5 || len(got) != 2 {
		t.Fatalf("collected %v, want test.gauge 3 and test.total 1.5", got)
	}
	if err := unregister(); err != nil {
		t.Fatal(err)
	}
	if got := collect(t, reader); len(got) != 0 {
		t.Fatalf("collected %v after unregister, want nothing", got)
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

func collect(t *testing.T, reader sdkmetric.Reader) map[string]float64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					got[m.Name] += float64(p.Value)
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					got[m.Name] += p.Value
				}
			}
		}
	}
	return got
}
