package routing

import (
	"context"
	"strings"

	"google.golang.org/protobuf/proto"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
)

// Rules maps the full protobuf name of each event to its rule. Read it as
// the table of who is told what:
//
//	event                                   topic                           recipients
//	activity.ActivityRegistered             activity.registered             county board of the län
//	activity.ParticipationEnded             participation.ended             Migrationsverket (regional contact of the län)
//	statistics.SnapshotPublished            statistics.snapshot_published   county board of every län in the snapshot
//	statistics.ProjectionPublished          statistics.projection_published county board of every län in the projection
//	travel.RouteDecided                     travel.route_decided            county boards and organisers of both ends' län
//	travel.RouteRevoked                     travel.route_revoked            county boards and organisers of both ends' län
var Rules = map[string]Rule{
	"tia.activity.v1.ActivityRegistered": rule("activity.registered",
		func(_ context.Context, ev *activityv1.ActivityRegistered, _ Directory) ([]Message, error) {
			a := ev.GetActivity()
			return to(a.GetName(), activityData(a), CountyBoard(a.GetLanCode())), nil
		}),

	"tia.activity.v1.ParticipationEnded": rule("participation.ended",
		func(_ context.Context, ev *activityv1.ParticipationEnded, _ Directory) ([]Message, error) {
			// The dossier number stays out of the message: it would travel
			// by email and webhook. Migrationsverket looks it up from the
			// certificate.
			data := map[string]any{
				"Certificate": ev.GetCertificate(), "Activity": ev.GetActivity(),
				"NeverStarted": ev.GetOutcome() == activityv1.Participation_PARTICIPATION_NEVER_STARTED,
				"EndDate":      ev.GetEndDate(), "Kommun": kommunName(ev.GetKommunCode()), "Lan": lanName(ev.GetLanCode()),
			}
			return to(ev.GetCertificate(), data, MigrationsverketRegion(ev.GetLanCode())), nil
		}),

	"tia.statistics.v1.SnapshotPublished": rule("statistics.snapshot_published",
		func(_ context.Context, ev *statisticsv1.SnapshotPublished, _ Directory) ([]Message, error) {
			return perLan(ev.GetSnapshot(), ev.GetKommunTotals(), map[string]any{"ReferenceDate": ev.GetReferenceDate()}), nil
		}),

	"tia.statistics.v1.ProjectionPublished": rule("statistics.projection_published",
		func(_ context.Context, ev *statisticsv1.ProjectionPublished, _ Directory) ([]Message, error) {
			return perLan(ev.GetSnapshot(), ev.GetKommunTotals(), map[string]any{"ProjectionDate": ev.GetProjectionDate()}), nil
		}),

	"tia.travel.v1.RouteDecided": rule("travel.route_decided",
		func(ctx context.Context, ev *travelv1.RouteDecided, dir Directory) ([]Message, error) {
			return routeMessages(ctx, ev.GetRoute(), "", dir)
		}),

	"tia.travel.v1.RouteRevoked": rule("travel.route_revoked",
		func(ctx context.Context, ev *travelv1.RouteRevoked, dir Directory) ([]Message, error) {
			return routeMessages(ctx, ev.GetRoute(), ev.GetRevokedFrom(), dir)
		}),
}

// rule adapts a typed routing function to the table.
func rule[T proto.Message](topic string, route func(context.Context, T, Directory) ([]Message, error)) Rule {
	var zero T
	return Rule{
		Topic: topic,
		New:   func() proto.Message { return zero.ProtoReflect().New().Interface() },
		Route: func(ctx context.Context, ev proto.Message, dir Directory) ([]Message, error) {
			return route(ctx, ev.(T), dir)
		},
	}
}

func activityData(a *activityv1.Activity) map[string]any {
	var focus []string
	for _, f := range a.GetFocus() {
		focus = append(focus, strings.ToLower(strings.TrimPrefix(f.String(), "FOCUS_")))
	}
	return map[string]any{
		"Title": a.GetTitle(), "Name": a.GetName(), "Kommun": kommunName(a.GetKommunCode()), "Lan": lanName(a.GetLanCode()),
		"StartDate": a.GetStartDate(), "EndDate": a.GetEndDate(), "Capacity": a.GetCapacity(), "Focus": strings.Join(focus, ", "),
	}
}

// perLan tells the county board of each län in totals its own figures.
func perLan(subject string, totals []*statisticsv1.KommunTotal, common map[string]any) []Message {
	adults := map[string]int64{}
	kommuner := map[string]int{}
	var order []string
	for _, t := range totals {
		lan := t.GetLanCode()
		if lan == "" {
			lan = lanOf(t.GetKommunCode())
		}
		if _, ok := adults[lan]; !ok {
			order = append(order, lan)
		}
		adults[lan] += t.GetAdults()
		kommuner[lan]++
	}
	var out []Message
	for _, lan := range order {
		data := map[string]any{"Snapshot": subject, "Lan": lanName(lan), "Adults": adults[lan], "Kommuner": kommuner[lan]}
		for k, v := range common {
			data[k] = v
		}
		out = append(out, to(subject, data, CountyBoard(lan))...)
	}
	return out
}

// routeMessages tells the county boards and the organisers of the län at
// both ends of a route.
func routeMessages(ctx context.Context, r *travelv1.Route, revokedFrom string, dir Directory) ([]Message, error) {
	lans := []string{lanOf(r.GetFromKommunCode())}
	if l := lanOf(r.GetToKommunCode()); l != lans[0] {
		lans = append(lans, l)
	}
	var recipients []string
	for _, lan := range lans {
		recipients = append(recipients, CountyBoard(lan))
	}
	recipients, err := group(ctx, recipients, dir.Organisers, lans...)
	if err != nil {
		return nil, err
	}
	data := map[string]any{
		"From": kommunName(r.GetFromKommunCode()), "To": kommunName(r.GetToKommunCode()),
		"ValidFrom": r.GetValidFrom(), "ValidTo": r.GetValidTo(), "Reason": r.GetReason(),
		"DistanceKm": r.GetDistanceKm(), "RevokedFrom": revokedFrom,
	}
	return to(r.GetName(), data, recipients...), nil
}
