package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tia-platform/tia/services/platform/testkit"
)

// TestMetricsAddr: the embedded default serves /metrics on
// TIA_METRICS_ADDR like the production binaries.
func TestMetricsAddr(t *testing.T) {
	metrics := testkit.FreeAddr(t)
	t.Setenv("TIA_METRICS_ADDR", metrics)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	httpAddr := testkit.FreeAddr(t)
	go func() {
		done <- run(ctx, []string{"-data-dir", t.TempDir(), "-http-addr", httpAddr, "-grpc-addr", testkit.FreeAddr(t), "-seed=false"}, io.Discard)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	get := func(url string) (int, string, error) {
		resp, err := http.Get(url)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), err
	}
	for {
		// Once the REST edge answers, every component is added.
		code, _, err := get("http://" + httpAddr + "/healthz")
		if err == nil && code == http.StatusOK {
			code, body, merr := get("http://" + metrics + "/metrics")
			if merr == nil && code == http.StatusOK && strings.Contains(body, "tia_build_info") && strings.Contains(body, "tia_outbox_backlog") {
				return
			}
			err = merr
		}
		select {
		case err := <-done:
			t.Fatalf("tia stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no /metrics with tia_build_info and tia_outbox_backlog on %s: %v", metrics, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
