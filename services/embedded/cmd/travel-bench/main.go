// Command travel-bench measures claim submission through the REST edge of
// the embedded platform (gateway → gRPC interceptors → travel service →
// its checks, including CheckCertificate on the activity registry with the
// service token → SQLite and the outbox): requests/s and latency
// percentiles under a bounded number of concurrent clients on loopback.
// It prints BENCH lines.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/embedded"
	"github.com/tia-platform/tia/services/platform/auth"
)

func main() {
	workers := flag.Int("workers", 8, "concurrent clients")
	duration := flag.Duration("duration", 5*time.Second, "load duration")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the load phase here")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(*workers, *duration); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "travel-bench:", err)
		os.Exit(1)
	}
}

func run(workers int, duration time.Duration) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "travel-rest-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := embedded.Start(ctx, embedded.Options{DataDir: dir, HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		return err
	}
	defer p.Close()
	if err := embedded.Seed(ctx, p); err != nil {
		return err
	}
	token, err := p.Token(embedded.DemoAsylumSeeker)
	if err != nil {
		return err
	}
	certs, err := activityv1.NewActivityServiceClient(p.Channel).ListCertificates(ctx,
		&activityv1.ListCertificatesRequest{Parent: "organisers/-/activities/-"}, grpc.PerRPCCredentials(auth.BearerToken(token)))
	if err != nil || len(certs.GetCertificates()) == 0 {
		return fmt.Errorf("demo certificate: %v", err)
	}
	cert := certs.GetCertificates()[0].GetName()
	body, _ := json.Marshal(map[string]any{
		"tripDate": time.Now().Format("2006-01-02"), "fromKommunCode": "0184", "toKommunCode": "0180",
		"activity": cert[:strings.Index(cert, "/certificates/")], "certificate": cert, "distanceKm": 7.5, "costOre": 4200,
		"ticketType": "TICKET_TYPE_SINGLE",
	})
	url := "http://" + p.HTTPAddr + "/v1/claims"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}

	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  int
		wg        sync.WaitGroup
	)
	stop := time.Now().Add(duration)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			bad := 0
			for i := 0; time.Now().Before(stop); i++ {
				req, _ := http.NewRequest("POST", fmt.Sprintf("%s?requestId=w%d-%d", url, w, i), bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					bad++
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				local = append(local, time.Since(t0))
				if resp.StatusCode != http.StatusOK {
					bad++
				}
			}
			mu.Lock()
			latencies = append(latencies, local...)
			failures += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(latencies) == 0 {
		return fmt.Errorf("no request completed")
	}
	if failures > 0 {
		return fmt.Errorf("%d of %d requests failed", failures, len(latencies))
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p/100*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	fmt.Printf("BENCH travel_claim_submit_rest %.0f requests/s\n", float64(len(latencies))/elapsed.Seconds())
	fmt.Printf("BENCH travel_claim_submit_rest_p50 %.1f ms\n", pct(50))
	fmt.Printf("BENCH travel_claim_submit_rest_p99 %.1f ms\n", pct(99))
	fmt.Printf("BENCH travel_claim_submit_rest_requests %d requests (%d clients, embedded SQLite)\n", len(latencies), workers)
	return nil
}
