package embedded

import (
	"context"
	"time"

	"google.golang.org/grpc"

	"github.com/tia-platform/tia/services/platform/auth"
)

// Demo actors. The organisation numbers are fictional but pass the Luhn check.
var (
	DemoStudyAssociation = auth.Principal{Subject: "demo-studieforbund", Role: auth.RoleOrganiser, Org: "8020038884"}
	DemoFolkHighSchool   = auth.Principal{Subject: "demo-folkhogskola", Role: auth.RoleOrganiser, Org: "8176055559"}
	DemoCountyBoard      = auth.Principal{Subject: "demo-lansstyrelsen-stockholm", Role: auth.RoleCountyBoard, Lan: "01"}
	DemoOtherCountyBoard = auth.Principal{Subject: "demo-lansstyrelsen-skane", Role: auth.RoleCountyBoard, Lan: "12"}
	DemoMigrationsverket = auth.Principal{Subject: "demo-migrationsverket", Role: auth.RoleMigrationsverket}
	DemoFolkbildning     = auth.Principal{Subject: "demo-folkbildningsradet", Role: auth.RoleFolkbildningsradet}
	DemoAsylumSeeker     = auth.Principal{Subject: "demo-asylsokande", Role: auth.RoleAsylumSeeker, Dossier: "12-345678"}
)

// Seed loads demo data through the API, as the actors themselves would, so
// it passes the same checks as any request. Each service's demo data is in
// its own file (seed_<service>.go).
func Seed(ctx context.Context, p *Platform) error {
	d, err := newDemo(p)
	if err != nil {
		return err
	}
	for _, seed := range []func(context.Context, demo) error{seedActivity, seedStatistics, seedTravel, seedNotification} {
		if err := seed(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// demo carries what every seeding step needs.
type demo struct {
	p     *Platform
	today time.Time
	opts  map[string]grpc.CallOption // a token per demo actor, by subject
}

// newDemo issues the demo actors' tokens once for all seeding steps.
func newDemo(p *Platform) (demo, error) {
	d := demo{p: p, today: time.Now(), opts: map[string]grpc.CallOption{}}
	for _, pr := range []auth.Principal{DemoStudyAssociation, DemoFolkHighSchool, DemoCountyBoard, DemoOtherCountyBoard,
		DemoMigrationsverket, DemoFolkbildning, DemoAsylumSeeker} {
		tok, err := p.Token(pr)
		if err != nil {
			return demo{}, err
		}
		d.opts[pr.Subject] = grpc.PerRPCCredentials(auth.BearerToken(tok))
	}
	return d, nil
}

// as returns the call option with the token of pr, a demo actor.
func (d demo) as(pr auth.Principal) grpc.CallOption { return d.opts[pr.Subject] }

// date is today plus days, as YYYY-MM-DD.
func (d demo) date(days int) string { return d.today.AddDate(0, 0, days).Format("2006-01-02") }

// DemoSnapshot names the demo snapshot: the end of the month before today.
func DemoSnapshot(today time.Time) string {
	monthEnd := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	return "snapshots/" + monthEnd.Format("2006-01-02")
}
