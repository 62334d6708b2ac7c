package gateway

import (
	"context"
	"net/http"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
)

// Feeds are documents for clients that do not speak JSON: calendar
// applications subscribe to a forum's meetings, reception units show a
// kommun's new activities. grpc-gateway can serve non-JSON bodies only
// through google.api.HttpBody, so these few routes are plain handlers that
// call the notification service over gRPC and serve its Feed (the document
// and its media type) as it is; the service renders the document, the edge
// only carries it.
func mountFeeds(mux *http.ServeMux, cc grpc.ClientConnInterface) {
	client := notificationv1.NewNotificationServiceClient(cc)
	mux.HandleFunc("GET /v1/lan/{lan}/meetings.ics", func(w http.ResponseWriter, r *http.Request) {
		feed, err := client.GetMeetingCalendar(outgoing(r), &notificationv1.GetMeetingCalendarRequest{Parent: "lan/" + r.PathValue("lan")})
		serveFeed(w, r, feed, err)
	})
	mux.HandleFunc("GET /v1/kommuner/{kommun}/activities.atom", func(w http.ResponseWriter, r *http.Request) {
		feed, err := client.GetActivityFeed(outgoing(r), &notificationv1.GetActivityFeedRequest{
			Kommun: "kommuner/" + r.PathValue("kommun"), BaseUrl: baseURL(r),
		})
		serveFeed(w, r, feed, err)
	})
}

// outgoing passes the caller's bearer token on, as the generated handlers do.
func outgoing(r *http.Request) context.Context {
	ctx := r.Context()
	if a := r.Header.Get("Authorization"); a != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", a)
	}
	return ctx
}

// baseURL is the edge's address as the client sees it, for the feed's links.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func serveFeed(w http.ResponseWriter, r *http.Request, feed *notificationv1.Feed, err error) {
	if err != nil {
		st := status.Convert(err)
		http.Error(w, st.Message(), runtime.HTTPStatusFromCode(st.Code()))
		return
	}
	w.Header().Set("Content-Type", feed.GetContentType())
	w.Header().Set("Content-Length", strconv.Itoa(len(feed.GetData())))
	w.Header().Set("Cache-Control", "public, max-age=300")
	if r.Method != http.MethodHead {
		_, _ = w.Write(feed.GetData())
	}
}
