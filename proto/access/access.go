// Package access declares, in one place, which RPCs anyone may call without a
// bearer token. Every service's authentication interceptor consults it, so a
// method is public everywhere or nowhere.
package access

import (
	"strings"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
)

// public lists the full gRPC method names open to anonymous callers. Only
// methods that return no personal data belong here.
var public = map[string]bool{
	// The public catalogue: asylum seekers find activities without an account.
	activityv1.ActivityService_GetActivity_FullMethodName:    true,
	activityv1.ActivityService_ListActivities_FullMethodName: true,
	// Search by kommun, distance, approved routes, focus and language.
	activityv1.ActivityService_SearchCatalogue_FullMethodName: true,
	// Feeds that reception units and calendar clients read without an
	// account, and the participant-facing contacts (ListContacts shows
	// anonymous callers only the contacts marked public).
	notificationv1.NotificationService_GetMeetingCalendar_FullMethodName: true,
	notificationv1.NotificationService_GetActivityFeed_FullMethodName:    true,
	notificationv1.NotificationService_ListContacts_FullMethodName:       true,
	// Health checks come from probes that hold no token.
	"/grpc.health.v1.Health/Check": true,
	"/grpc.health.v1.Health/Watch": true,
	"/grpc.health.v1.Health/List":  true,
}

// roles limits methods to some roles, whatever their scope (which each
// handler checks). Methods not listed here are open to every signed-in
// role, subject to the handler's scope checks.
var roles = map[string][]string{
	// A webhook is an organisation's system receiving its messages: the
	// agencies and organisers register them. An asylum seeker's messages
	// stay in the inbox (a person's endpoint would make the server connect
	// wherever a person points it).
	notificationv1.NotificationService_CreateWebhook_FullMethodName: {"migrationsverket", "lansstyrelse", "folkbildningsradet", "organiser"},
}

// Roles returns the roles that may call fullMethod, or nil when any
// signed-in role may (the handler then decides by scope). The names are
// those of the token's role claim.
func Roles(fullMethod string) []string { return roles[fullMethod] }

// IsPublic reports whether fullMethod ("/package.Service/Method") may be called
// without a token. Server reflection is public too, so grpcurl works against a
// running service.
func IsPublic(fullMethod string) bool {
	if public[fullMethod] {
		return true
	}
	return strings.HasPrefix(fullMethod, "/grpc.reflection.")
}
