package statistics

import (
	"context"
	"mime"
	"strings"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	"github.com/tia-platform/tia/services/statistics/internal/sheet"
)

// The service renders its own documents (issue 10.4): a table the caller
// asked for as text/csv comes back with its spreadsheet in the response's
// document field, which the REST edge serves as the file itself. The
// spreadsheet's layout is statistics' own (package sheet); the edge only
// carries the bytes with their media type and writes them in the CSV
// dialect its client asked for.

// acceptKeys are the metadata that carry the media types a caller accepts:
// a gRPC client's own, and the HTTP Accept header as the REST edge passes
// it on (grpc-gateway forwards it under its prefix; the edge has already
// reduced it to the one type it will serve, so `?format=csv` reads as
// `text/csv` too).
var acceptKeys = []string{"accept", "grpcgateway-accept"}

// wantsCSV reports whether the caller accepts text/csv.
func wantsCSV(ctx context.Context) bool {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, key := range acceptKeys {
		for _, v := range md.Get(key) {
			for part := range strings.SplitSeq(v, ",") {
				mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
				if err == nil && mt == "text/csv" && params["q"] != "0" {
					return true
				}
			}
		}
	}
	return false
}

// document is resp as a spreadsheet when the caller asked for one, and nil
// otherwise.
func document(ctx context.Context, resp proto.Message) (*statisticsv1.Document, error) {
	if !wantsCSV(ctx) {
		return nil, nil
	}
	b, err := sheet.Render(resp)
	if err != nil {
		return nil, err
	}
	return &statisticsv1.Document{ContentType: sheet.MediaType, Data: b}, nil
}
