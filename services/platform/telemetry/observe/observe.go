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
	g, err := s.m.Int64ObservableGauge(name, metric.WithDescription(description), metric.WithUnit(unit))
	s.add(g, err)
	return g
}

// Int64Counter declares an int64 counter (a cumulative total).
func (s *Set) Int64Counter(name, description, unit string) metric.Int64ObservableCounter {
	c, err := s.m.Int64ObservableCounter(name, metric.WithDescription(description), metric.WithUnit(unit))
	s.add(c, err)
	return c
}

// Float64Gauge declares a float64 gauge.
func (s *Set) Float64Gauge(name, description, unit string) metric.Float64ObservableGauge {
	g, err := s.m.Float64ObservableGauge(name, metric.WithDescription(description), metric.WithUnit(unit))
	s.add(g, err)
	return g
}

// Float64Counter declares a float64 counter (a cumulative total).
func (s *Set) Float64Counter(name, description, unit string) metric.Float64ObservableCounter {
	c, err := s.m.Float64ObservableCounter(name, metric.WithDescription(description), metric.WithUnit(unit))
	s.add(c, err)
	return c
}

func (s *Set) add(o metric.Observable, err error) {
	if s.err == nil {
		s.err = err
	}
	s.list = append(s.list, o)
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
