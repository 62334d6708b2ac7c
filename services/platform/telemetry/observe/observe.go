// Package observe declares a set of observable (asynchronous) OpenTelemetry
// instruments that one callback reads at each collection, so that a metric
// set is a list of one-line declarations and one function, with a single
// error to check.
package observe

import (
	"go.opentelemetry.io/otel/metric"
)

// Set collects the instruments of one callback. The zero value is not
// usable; call New.
type Set struct {
	m    metric.Meter
	list []metric.Observable
	err  error
}

// New starts a set of instruments of m.
func New(m metric.Meter) *Set { return &Set{m: m} }

// Int64Gauge declares an int64 gauge.
func (s *Set) Int64Gauge(name, description, unit string) metric.Int64ObservableGauge {
	return declare(s, s.m.Int64ObservableGauge, name, description, unit)
}

// Int64Counter declares an int64 counter (a cumulative total).
func (s *Set) Int64Counter(name, description, unit string) metric.Int64ObservableCounter {
	return declare(s, s.m.Int64ObservableCounter, name, description, unit)
}

// Float64Gauge declares a float64 gauge.
func (s *Set) Float64Gauge(name, description, unit string) metric.Float64ObservableGauge {
	return declare(s, s.m.Float64ObservableGauge, name, description, unit)
}

// Float64Counter declares a float64 counter (a cumulative total).
func (s *Set) Float64Counter(name, description, unit string) metric.Float64ObservableCounter {
	return declare(s, s.m.Float64ObservableCounter, name, description, unit)
}

// declare makes an instrument with f, one of the meter's methods, and adds
// it to s. Every option type O of f is implemented by the
// metric.InstrumentOption of the description and the unit.
func declare[I metric.Observable, O any](s *Set, f func(string, ...O) (I, error), name, description, unit string) I {
	o, err := f(name, any(metric.WithDescription(description)).(O), any(metric.WithUnit(unit)).(O))
	if s.err == nil {
		s.err = err
	}
	s.list = append(s.list, o)
	return o
}

// Register has f called at each collection to observe the set's
// instruments. It returns the first error of a declaration instead, if any.
// Call the returned function to stop.
func (s *Set) Register(f metric.Callback) (unregister func() error, err error) {
	if s.err != nil {
		return nil, s.err
	}
	reg, err := s.m.RegisterCallback(f, s.list...)
	if err != nil {
		return nil, err
	}
	return reg.Unregister, nil
}
