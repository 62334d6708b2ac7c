// Command tia-health is a container health check for images without a shell:
// it asks a gRPC server for grpc.health.v1 SERVING, or an HTTP URL for a 2xx
// answer, and exits 0 when healthy and 1 otherwise.
//
//	tia-health -grpc 127.0.0.1:9091
//	tia-health -http http://127.0.0.1:8080/readyz
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/tia-platform/tia/services/platform/healthcheck"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "tia-health:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("tia-health", flag.ContinueOnError)
	grpcAddr := fs.String("grpc", "", "plaintext gRPC address serving grpc.health.v1 (e.g. TIA_HEALTH_ADDR)")
	service := fs.String("service", "", "grpc.health.v1 service name (empty: the whole server)")
	url := fs.String("http", "", "HTTP URL that must answer 2xx")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	switch {
	case *grpcAddr != "":
		cc, err := grpc.NewClient(*grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		defer cc.Close()
		if err := healthcheck.Check(ctx, cc, *service); err != nil {
			return fmt.Errorf("%s: %w", *grpcAddr, err)
		}
		return nil
	case *url != "":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("%s: HTTP %d", *url, resp.StatusCode)
		}
		return nil
	}
	return fmt.Errorf("one of -grpc or -http is required")
}
