// Package healthcheck asks a gRPC server whether it serves, through
// grpc.health.v1: once (container probes, the edge's readiness) or until it
// does (tests, benchmarks and the local cluster waiting for a process they
// started).
package healthcheck

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// attempt bounds one question while waiting, so that a server that accepts
// the connection but never answers is asked again.
const attempt = 2 * time.Second

// Check asks cc once whether service ("" for the whole server) is SERVING;
// the error says why not: the call's error or the status the server gave.
func Check(ctx context.Context, cc grpc.ClientConnInterface, service string) error {
	resp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return err
	}
	if s := resp.GetStatus(); s != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("health status %s", s)
	}
	return nil
}

// Wait asks every interval until service is SERVING, ctx ends, or gone (if
// not nil) reports that the server will never answer, for instance because
// its process exited. The error carries the last answer.
func Wait(ctx context.Context, cc grpc.ClientConnInterface, service string, interval time.Duration, gone func() error) error {
	var last error
	for {
		if gone != nil {
			if err := gone(); err != nil {
				return err
			}
		}
		actx, cancel := context.WithTimeout(ctx, attempt)
		err := Check(actx, cc, service)
		cancel()
		if err == nil {
			return nil
		}
		// A question cut short by ctx's end tells nothing new: the answer
		// before it is kept.
		if last == nil || ctx.Err() == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not serving: %w (last answer: %v)", ctx.Err(), last)
		case <-time.After(interval):
		}
	}
}
