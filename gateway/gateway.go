// Package gateway is the REST/JSON edge. It only registers the handlers that
// grpc-gateway generated from the protos and the HTTP rules in
// proto/http.yaml, plus health, readiness and the OpenAPI document; every
// rule about who may do what is checked behind it, in the services.
package gateway

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/proto/openapi"
	"github.com/tia-platform/tia/services/platform/healthcheck"
)

// Backends are the connections to the services: network connections in
// production, one in-process channel in the embedded default.
type Backends struct {
	Activity     grpc.ClientConnInterface
	Statistics   grpc.ClientConnInterface
	Travel       grpc.ClientConnInterface
	Notification grpc.ClientConnInterface
}

func (b Backends) named() map[string]grpc.ClientConnInterface {
	return map[string]grpc.ClientConnInterface{
		"activity": b.Activity, "statistics": b.Statistics, "travel": b.Travel, "notification": b.Notification,
	}
}

// formatOptions are the mux options for the formats and the errors, with
// json the marshaler of JSON bodies.
func formatOptions(json runtime.Marshaler) []runtime.ServeMuxOption {
	return []runtime.ServeMuxOption{
		// JSON bodies that do not decode are refused naming the field (unmarshal.go).
		runtime.WithMarshalerOption(runtime.MIMEWildcard, JSONInClientWords{json}),
		// Spreadsheets: `Accept: text/csv` downloads, text/csv import bodies (csv.go).
		runtime.WithMarshalerOption(MIMECSV, &CSVMarshaler{JSON: json}),
		// Errors in the client's words (errors.go, unmarshal.go).
		runtime.WithErrorHandler(handleError),
		runtime.WithStreamErrorHandler(streamError),
		runtime.WithMiddlewares(keepDecodeFailures),
		// Downloads: CSV of every response, documents as their own media type (download.go).
		runtime.WithMarshalerOption(MIMEXML, DocumentMarshaler{Marshaler: json, MediaType: MIMEXML}),
		runtime.WithForwardResponseRewriter(rewriteDownload),
		runtime.WithForwardResponseOption(downloadHeaders),
	}
}

// New returns the edge's HTTP handler.
func New(ctx context.Context, b Backends, o Options) (http.Handler, error) {
	e := newEdge(o) // limits, headers, logs, panics (middleware.go)
	jsonMarshaler := &runtime.HTTPBodyMarshaler{
		Marshaler: &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{EmitDefaultValues: true}, // unset messages (timestamps) omitted, not null
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		},
	}
	mux := runtime.NewServeMux(append([]runtime.ServeMuxOption{
		// Route templates for logs and metrics, UTF-8 path parameters;
		// 405 with Allow and 404 as JSON (middleware.go).
		runtime.WithMiddlewares(e.routeMiddleware),
		runtime.WithRoutingErrorHandler(e.routingError),
	}, formatOptions(jsonMarshaler)...)...)
	// grpc-gateway tries a request's path against the method's patterns one
	// after another, the last registered first, and every miss allocates:
	// the registry's are registered last, so that the most frequent reads
	// (an activity, the public catalogue) are found after the fewest
	// misses. The services' paths do not overlap, so the order changes no
	// route.
	registrations := []struct {
		name     string
		register func(context.Context, *runtime.ServeMux, grpc.ClientConnInterface) error
	}{
		{"statistics", func(ctx context.Context, m *runtime.ServeMux, cc grpc.ClientConnInterface) error {
			return statisticsv1.RegisterStatisticsServiceHandlerClient(ctx, m, statisticsv1.NewStatisticsServiceClient(cc))
		}},
		{"travel", func(ctx context.Context, m *runtime.ServeMux, cc grpc.ClientConnInterface) error {
			return travelv1.RegisterTravelServiceHandlerClient(ctx, m, travelv1.NewTravelServiceClient(cc))
		}},
		{"notification", func(ctx context.Context, m *runtime.ServeMux, cc grpc.ClientConnInterface) error {
			return notificationv1.RegisterNotificationServiceHandlerClient(ctx, m, notificationv1.NewNotificationServiceClient(cc))
		}},
		{"activity", func(ctx context.Context, m *runtime.ServeMux, cc grpc.ClientConnInterface) error {
			return activityv1.RegisterActivityServiceHandlerClient(ctx, m, activityv1.NewActivityServiceClient(cc))
		}},
	}
	backends := b.named()
	for _, r := range registrations {
		cc := backends[r.name]
		if cc == nil {
			return nil, fmt.Errorf("gateway: no connection to the %s service", r.name)
		}
		// Answers that could leak a service's internals are scrubbed (security.go).
		if err := r.register(ctx, mux, scrubbingConn{cc}); err != nil {
			return nil, fmt.Errorf("gateway: register %s: %w", r.name, err)
		}
	}

	root := http.NewServeMux()
	root.Handle("/", csvUploads(mux))
	mountFeeds(root, e, scrubbingConn{b.Notification})
	mountRefdata(root)                       // public reference data: län and kommuner (refdata.go)
	mountDocs(root)                          // the API reference page (docs.go)
	if err := mountPages(root); err != nil { // pages for people (pages.go)
		return nil, err
	}
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	// Ready while any service answers: the routes of one that is down
	// answer 503 on their own. /readyz/{service} asks about one.
	root.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		serveReadiness(w, checkBackends(r.Context(), backends), 1)
	})
	root.HandleFunc("GET /readyz/{service}", func(w http.ResponseWriter, r *http.Request) {
		cc, ok := backends[r.PathValue("service")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		one := map[string]grpc.ClientConnInterface{r.PathValue("service"): cc}
		serveReadiness(w, checkBackends(r.Context(), one), 1)
	})
	root.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openapi.JSON)
	})
	e.handle(mux, root)
	// The route label of the metrics and the span's name are the route's
	// template (set by e), never the raw path with its ids.
	return otelhttp.NewHandler(e, "gateway", otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
		if r.Pattern == "" {
			return r.Method
		}
		return r.Method + " " + r.Pattern
	})), nil
}

// serviceNames are the gRPC services behind the backends, whose health the
// readiness probe asks by name (in the embedded platform one channel serves
// all four).
var serviceNames = map[string]string{
	"activity":     activityv1.ActivityService_ServiceDesc.ServiceName,
	"statistics":   statisticsv1.StatisticsService_ServiceDesc.ServiceName,
	"travel":       travelv1.TravelService_ServiceDesc.ServiceName,
	"notification": notificationv1.NotificationService_ServiceDesc.ServiceName,
}

// checkBackends asks the backends' grpc.health.v1 services at once and
// reports which answer SERVING within a second: by the service's name, or
// the server's overall status where the name is not known to it.
func checkBackends(ctx context.Context, backends map[string]grpc.ClientConnInterface) map[string]bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	up := map[string]bool{}
	for name, cc := range backends {
		wg.Go(func() {
			err := healthcheck.Check(ctx, cc, serviceNames[name])
			if status.Code(err) == codes.NotFound {
				err = healthcheck.Check(ctx, cc, "")
			}
			mu.Lock()
			up[name] = err == nil
			mu.Unlock()
		})
	}
	wg.Wait()
	return up
}

// serveReadiness answers 200 when at least need backends are up, 503 if
// not, listing each as Kubernetes' verbose probes do ("[+]activity ok").
func serveReadiness(w http.ResponseWriter, up map[string]bool, need int) {
	names := slices.Sorted(maps.Keys(up))
	var b strings.Builder
	n := 0
	for _, name := range names {
		if up[name] {
			n++
			fmt.Fprintf(&b, "[+]%s ok\n", name)
		} else {
			fmt.Fprintf(&b, "[-]%s not serving\n", name)
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if n < need {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "%snot ready\n", b.String())
		return
	}
	fmt.Fprintf(w, "%sready\n", b.String())
}
