package gateway

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
)

// Feeds are documents for clients that do not speak JSON: calendar
// applications subscribe to a forum's meetings, reception units show a
// kommun's new activities. grpc-gateway can serve non-JSON bodies only
// through google.api.HttpBody, so these few routes are plain handlers that
// call the notification service over gRPC and serve its Feed (the document
// and its media type) as it is; the service renders the document, the edge
// only carries it.
//
// The feeds' absolute links start with the configured public base URL
// (Options.PublicBaseURL), never with the request's Host or
// X-Forwarded-Host: a cached feed must not carry links a client made up.
func mountFeeds(mux *http.ServeMux, e *edge, cc grpc.ClientConnInterface) {
	client := notificationv1.NewNotificationServiceClient(cc)
	base := strings.TrimRight(e.o.PublicBaseURL, "/")
	mux.HandleFunc("GET /v1/lan/{lan}/meetings.ics", func(w http.ResponseWriter, r *http.Request) {
		if !validPathValues(e, w, r, "lan") {
			return
		}
		feed, err := client.GetMeetingCalendar(outgoing(r), &notificationv1.GetMeetingCalendarRequest{Parent: "lan/" + r.PathValue("lan")})
		serveFeed(e, w, r, feed, err)
	})
	mux.HandleFunc("GET /v1/kommuner/{kommun}/activities.atom", func(w http.ResponseWriter, r *http.Request) {
		if !validPathValues(e, w, r, "kommun") {
			return
		}
		feed, err := client.GetActivityFeed(outgoing(r), &notificationv1.GetActivityFeedRequest{
			Kommun: "kommuner/" + r.PathValue("kommun"), BaseUrl: base,
		})
		serveFeed(e, w, r, feed, err)
	})
}

// validPathValues refuses a path whose named parts are not UTF-8, naming
// the part.
func validPathValues(e *edge, w http.ResponseWriter, r *http.Request, names ...string) bool {
	for _, name := range names {
		if !utf8.ValidString(r.PathValue(name)) {
			e.fail(w, r, http.StatusBadRequest, fieldViolation(name, "the path parameter "+strconv.Quote(name)+" is not valid percent-encoded UTF-8"))
			return false
		}
	}
	return true
}

// outgoing passes the caller's bearer token on, as the generated handlers do.
func outgoing(r *http.Request) context.Context {
	ctx := r.Context()
	if a := r.Header.Get("Authorization"); a != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", a)
	}
	return ctx
}

// serveFeed serves the document, or the error as every route does (JSON,
// the error handler of the mux).
func serveFeed(e *edge, w http.ResponseWriter, r *http.Request, feed *notificationv1.Feed, err error) {
	if err != nil {
		_, m := runtime.MarshalerForRequest(e.mux, r)
		runtime.HTTPError(r.Context(), e.mux, m, w, r, err)
		return
	}
	w.Header().Set("Content-Type", feed.GetContentType())
	w.Header().Set("Content-Length", strconv.Itoa(len(feed.GetData())))
	w.Header().Set("Cache-Control", "public, max-age=300")
	if r.Method != http.MethodHead {
		_, _ = w.Write(feed.GetData())
	}
}
