// Command tia runs the whole TIA platform in one process with zero set-up:
// the four services, the REST edge, SQLite files and an embedded NATS server
// under one data folder. On first start it seeds demo data; every start
// prints ready-to-paste curl commands with a demo token for each role.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/tia-platform/tia/gateway"
	"github.com/tia-platform/tia/services/embedded"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/cmdutil"
	"github.com/tia-platform/tia/services/platform/config"
	"github.com/tia-platform/tia/services/platform/logging"
	"github.com/tia-platform/tia/services/platform/telemetry"
)

func main() {
	cmdutil.Main("tia", func(ctx context.Context, args []string) error { return run(ctx, args, os.Stdout) })
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tia", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "data", "folder for the SQLite files, the NATS store and the development key")
	httpAddr := fs.String("http-addr", "127.0.0.1:8080", "REST listen address")
	grpcAddr := fs.String("grpc-addr", "127.0.0.1:9090", "gRPC listen address")
	seed := fs.Bool("seed", true, "load demo data when the data folder is empty")
	metricsAddr := fs.String("metrics-addr", "", "Prometheus /metrics listen address (off when empty)")
	publicURL := fs.String("public-base-url", "", "the REST edge's address as clients reach it, for links in feeds (default http://<http-addr>)")
	rateLimit := fs.Float64("rate-limit", 50, "REST requests per second per caller (token subject, else address); 0 turns the limit off")
	rateBurst := fs.Int("rate-burst", 200, "REST requests a caller may make at once above -rate-limit")
	corsOrigins := fs.String("cors-origins", "", "comma-separated browser origins allowed to call the REST API (none when empty)")
	var level slog.Level
	fs.TextVar(&level, "log-level", slog.LevelWarn, "log level")
	if err := config.Parse(fs, args); err != nil {
		return err
	}
	log := logging.New(os.Stderr, "tia", level)
	tel, err := telemetry.Setup(ctx, "tia")
	if err != nil {
		return err
	}
	defer func() { _ = tel.Shutdown(context.Background()) }()
	if *metricsAddr != "" {
		// TIA_METRICS_ADDR, as the production binaries serve it.
		lis, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return fmt.Errorf("listen metrics: %w", err)
		}
		metrics := &http.Server{Handler: tel.MetricsHandler(), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = metrics.Serve(lis) }()
		defer metrics.Close()
	}

	var origins []string
	for o := range strings.SplitSeq(*corsOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	p, err := embedded.Start(ctx, embedded.Options{DataDir: *dataDir, HTTPAddr: *httpAddr, GRPCAddr: *grpcAddr, Logger: log,
		Gateway: gateway.Options{PublicBaseURL: *publicURL, RateLimit: *rateLimit, RateBurst: *rateBurst, CORSOrigins: origins}})
	if err != nil {
		return err
	}
	defer p.Close()
	if p.Fresh && *seed {
		if err := embedded.Seed(ctx, p); err != nil {
			return err
		}
	}
	if err := printUsage(stdout, p); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		fmt.Fprintln(stdout, "\nshutting down")
		return nil
	case err := <-p.Err():
		return err
	}
}

func printUsage(w io.Writer, p *embedded.Platform) error {
	tokens := map[string]string{}
	for name, pr := range map[string]auth.Principal{
		"ORGANISER": embedded.DemoStudyAssociation, "LANSSTYRELSE_01": embedded.DemoCountyBoard,
		"LANSSTYRELSE_12": embedded.DemoOtherCountyBoard, "MIGRATIONSVERKET": embedded.DemoMigrationsverket,
		"FOLKBILDNINGSRADET": embedded.DemoFolkbildning, "ASYLUM_SEEKER": embedded.DemoAsylumSeeker,
	} {
		tok, err := p.Token(pr)
		if err != nil {
			return err
		}
		tokens[name] = tok
	}
	base := "http://" + p.HTTPAddr
	fmt.Fprintf(w, `TIA is running: REST on %[1]s, gRPC on %[2]s (reflection on, try grpcurl -plaintext %[2]s list).

Demo tokens (valid 24 h; paste into your shell):
export ORGANISER=%[3]s
export LANSSTYRELSE_01=%[4]s
export LANSSTYRELSE_12=%[5]s
export MIGRATIONSVERKET=%[6]s
export FOLKBILDNINGSRADET=%[7]s
export ASYLUM_SEEKER=%[8]s

# Anyone, without a token: activities in Stockholm (kommun 0180)
curl -sG %[1]s/v1/organisers/-/activities --data-urlencode 'filter=kommun_code="0180"'

# An organiser registers an activity in Solna (län 01)
curl -s -X POST %[1]s/v1/organisers/%[9]s/activities -H "Authorization: Bearer $ORGANISER" \
  -d '{"title":"Svenska i vardagen","kommunCode":"0184","focus":["FOCUS_SWEDISH"],"capacity":20,"startDate":"2027-01-10","endDate":"2027-05-30"}'

# The county board of Stockholm reads its inbox (the new activity is there)
curl -s %[1]s/v1/recipients/lansstyrelse-01/messages -H "Authorization: Bearer $LANSSTYRELSE_01"

# Another county board may not read it (403)
curl -s %[1]s/v1/recipients/lansstyrelse-01/messages -H "Authorization: Bearer $LANSSTYRELSE_12"

# Bad input names the field (400)
curl -s -X POST %[1]s/v1/organisers/%[9]s/activities -H "Authorization: Bearer $ORGANISER" \
  -d '{"title":"","kommunCode":"9999","focus":["FOCUS_SWEDISH"],"capacity":0,"startDate":"2027-05-30","endDate":"2027-01-10"}'

# Migrationsverket's target-group figures, per län and housing type
curl -s -X POST %[1]s/v1/%[10]s:query -H "Authorization: Bearer $MIGRATIONSVERKET" -d '{"groupBy":["DIMENSION_LAN","DIMENSION_HOUSING_TYPE"]}'

# Route decisions for travel compensation
curl -s %[1]s/v1/routes -H "Authorization: Bearer $LANSSTYRELSE_01"

# The API description
curl -s %[1]s/openapi.json | head -c 300; echo
`, base, p.GRPCAddr, tokens["ORGANISER"], tokens["LANSSTYRELSE_01"], tokens["LANSSTYRELSE_12"], tokens["MIGRATIONSVERKET"],
		tokens["FOLKBILDNINGSRADET"], tokens["ASYLUM_SEEKER"], embedded.DemoStudyAssociation.Org, embedded.DemoSnapshot(time.Now()))
	// The pages (gateway/web) take the token from the URL fragment, which the
	// browser never sends to a server, and drop it from the address bar.
	fmt.Fprintf(w, `
Pages in a browser (each link signs you in as that demo role):
  public catalogue (no sign-in):   %[1]s/pages/catalogue?kommun=0180
  coverage map, Stockholms län:    %[1]s/pages/coverage#token=%[2]s
  coverage map, Skåne län:         %[1]s/pages/coverage#token=%[3]s
  an organiser's participants:     %[1]s/pages/participants#token=%[4]s
`, base, tokens["LANSSTYRELSE_01"], tokens["LANSSTYRELSE_12"], tokens["ORGANISER"])
	return nil
}
