// Package gateway is the REST/JSON edge. It only registers the handlers that
// grpc-gateway generated from the protos and the HTTP rules in
// proto/http.yaml, plus health, readiness and the OpenAPI document; every
// rule about who may do what is checked behind it, in the services.
package gateway

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protojson"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/proto/openapi"
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

// New returns the edge's HTTP handler.
func New(ctx context.Context, b Backends) (http.Handler, error) {
	jsonMarshaler := &runtime.HTTPBodyMarshaler{
		Marshaler: &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{EmitDefaultValues: true}, // unset messages (timestamps) omitted, not null
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		},
	}
	mux := runtime.NewServeMux(
		// JSON bodies that do not decode are refused naming the field (unmarshal.go).
		runtime.WithMarshalerOption(runtime.MIMEWildcard, JSONInClientWords{jsonMarshaler}),
		// Spreadsheets: `Accept: text/csv` downloads, text/csv import bodies (csv.go).
		runtime.WithMarshalerOption(MIMECSV, &CSVMarshaler{JSON: jsonMarshaler}),
		// Downloads: CSV of every response, documents as their own media type (download.go).
		runtime.WithMarshalerOption(MIMEXML, DocumentMarshaler{Marshaler: jsonMarshaler, MediaType: MIMEXML}),
		runtime.WithForwardResponseRewriter(rewriteDownload),
		runtime.WithForwardResponseOption(downloadHeaders),
		// Errors in the client's words (errors.go, unmarshal.go).
		runtime.WithErrorHandler(handleError),
		runtime.WithMiddlewares(keepDecodeFailures),
	)
	registrations := []struct {
		name     string
		register func(context.Context, *runtime.ServeMux, grpc.ClientConnInterface) error
	}{
		{"activity", func(ctx context.Context, m *runtime.ServeMux, cc grpc.ClientConnInterface) error {
			return activityv1.RegisterActivityServiceHandlerClient(ctx, m, activityv1.NewActivityServiceClient(cc))
		}},
		{"statistics", func(ctx context.Context, m *runtime.ServeMux, cc grpc.ClientConnInterface) error {
			return statisticsv1.RegisterStatisticsServiceHandlerClient(ctx, m, statisticsv1.NewStatisticsServiceClient(cc))
		}},
		{"travel", func(ctx context.Context, m *runtime.ServeMux, cc grpc.ClientConnInterface) error {
			return travelv1.RegisterTravelServiceHandlerClient(ctx, m, travelv1.NewTravelServiceClient(cc))
		}},
		{"notification", func(ctx context.Context, m *runtime.ServeMux, cc grpc.ClientConnInterface) error {
			return notificationv1.RegisterNotificationServiceHandlerClient(ctx, m, notificationv1.NewNotificationServiceClient(cc))
		}},
	}
	backends := b.named()
	for _, r := range registrations {
		cc := backends[r.name]
		if cc == nil {
			return nil, fmt.Errorf("gateway: no connection to the %s service", r.name)
		}
		if err := r.register(ctx, mux, cc); err != nil {
			return nil, fmt.Errorf("gateway: register %s: %w", r.name, err)
		}
	}

	root := http.NewServeMux()
	root.Handle("/", otelhttp.NewHandler(csvUploads(mux), "gateway", otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
		return r.Method + " " + r.URL.Path
	})))
	mountFeeds(root, b.Notification)
	if err := mountPages(root); err != nil { // pages for people (pages.go)
		return nil, err
	}
	mountRefdata(root) // public reference data: län and kommuner (refdata.go)
	mountDocs(root)    // the API reference page (docs.go)
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	root.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if down := notReady(r.Context(), backends); len(down) > 0 {
			http.Error(w, fmt.Sprintf("not ready: %v", down), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	root.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openapi.JSON)
	})
	return root, nil
}

// notReady asks every backend's grpc.health.v1 service and returns the names
// of those that do not answer SERVING within a second.
func notReady(ctx context.Context, backends map[string]grpc.ClientConnInterface) []string {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var down []string
	for name, cc := range backends {
		resp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			down = append(down, name)
		}
	}
	return down
}
