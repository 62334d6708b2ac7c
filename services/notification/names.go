package notification

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tia-platform/tia/proto/access"
	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/resname"
)

// The service's resource names, parsed and built in one place.
var (
	recipientPattern    = resname.New("recipients/{recipient}")
	messagePattern      = resname.New("recipients/{recipient}/messages/{message}")
	deliveryPattern     = resname.New("recipients/{recipient}/messages/{message}/deliveries/{delivery}")
	subscriptionPattern = resname.New("recipients/{recipient}/subscriptions/{topic}")
	webhookPattern      = resname.New("recipients/{recipient}/webhooks/{webhook}")
	lanPattern          = resname.New("lan/{lan}")
	memberPattern       = resname.New("lan/{lan}/members/{member}")
	meetingPattern      = resname.New("lan/{lan}/meetings/{meeting}")
	contactPattern      = resname.New("lan/{lan}/contacts/{contact}")
	kommunPattern       = resname.New("kommuner/{kommun}")
)

// webhookRoles may create webhooks, as proto/access declares.
var webhookRoles = func() []auth.Role {
	var out []auth.Role
	for _, r := range access.Roles(notificationv1.NotificationService_CreateWebhook_FullMethodName) {
		out = append(out, auth.Role(r))
	}
	return out
}()

// timeText is how instants are stored: RFC 3339 in UTC.
func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// timestampFromText converts a stored instant to the API's form (nil when
// unset or unreadable).
func timestampFromText(s string) *timestamppb.Timestamp {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil
	}
	return timestamppb.New(t)
}

// timeFromTimestamp converts an API timestamp to an instant in UTC (zero
// when unset).
func timeFromTimestamp(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime().UTC()
}

// timeFromText reads a stored instant (zero when unreadable).
func timeFromText(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
