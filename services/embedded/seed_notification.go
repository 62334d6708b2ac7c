package embedded

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	notificationv1 "github.com/tia-platform/tia/proto/gen/tia/notification/v1"
)

// seedNotification builds the regional forum of Stockholms län (members, a
// dialog meeting in two weeks) and the agencies' part of its contact
// directory; the organisers' participant contacts come from the activity
// registry, where they entered them.
func seedNotification(ctx context.Context, d demo) error {
	board := d.as(DemoCountyBoard)
	n := notificationv1.NewNotificationServiceClient(d.p.Channel)
	for _, m := range []*notificationv1.ForumMember{
		{Recipient: "lansstyrelse-01", DisplayName: "Länsstyrelsen i Stockholms län"},
		{Recipient: "migrationsverket-01", DisplayName: "Migrationsverket, region Stockholm"},
		{Recipient: "folkbildningsradet", DisplayName: "Folkbildningsrådet"},
		{Recipient: "organiser-" + DemoStudyAssociation.Org, DisplayName: "Demo studieförbund"},
		{Recipient: "organiser-" + DemoFolkHighSchool.Org, DisplayName: "Demo folkhögskola"},
	} {
		if _, err := n.CreateForumMember(ctx, &notificationv1.CreateForumMemberRequest{Parent: "lan/01", Member: m}, board); err != nil {
			return fmt.Errorf("seed forum member: %w", err)
		}
	}
	day := d.today.AddDate(0, 0, 14)
	start := time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, time.UTC)
	if _, err := n.CreateMeeting(ctx, &notificationv1.CreateMeetingRequest{Parent: "lan/01", Meeting: &notificationv1.Meeting{
		Title: "Regionalt samverkansforum TIA", Level: notificationv1.CooperationLevel_COOPERATION_LEVEL_DIALOG,
		StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(3 * time.Hour)),
		Location: "Länsstyrelsen i Stockholms län, Hantverkargatan 29, Stockholm",
		Agenda: []*notificationv1.AgendaItem{
			{Title: "Lägesbild: målgruppen per kommun och kommande förändringar"},
			{Title: "Utbud och behov per kommun"},
			{Title: "Beslut om resor mellan kommuner"},
			{Title: "Hur avbrott når Migrationsverket"},
		},
	}}, board); err != nil {
		return fmt.Errorf("seed meeting: %w", err)
	}
	for _, c := range []*notificationv1.Contact{
		{Actor: "lansstyrelse-01", ActorDisplayName: "Länsstyrelsen i Stockholms län", Function: "Samordnare TIA", Email: "tia@lansstyrelsen-demo.example", Phone: "010-223 10 00"},
		{Actor: "migrationsverket-01", ActorDisplayName: "Migrationsverket", Function: "Regional kontakt TIA", Email: "tia.stockholm@migrationsverket-demo.example"},
		{Actor: "migrationsverket-01", ActorDisplayName: "Migrationsverket", Function: "Frågor om reseersättning", Phone: "0771-235 235", Public: true},
	} {
		if _, err := n.CreateContact(ctx, &notificationv1.CreateContactRequest{Parent: "lan/01", Contact: c}, board); err != nil {
			return fmt.Errorf("seed contact: %w", err)
		}
	}
	return nil
}
