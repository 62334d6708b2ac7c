package activity_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	statisticsv1 "github.com/tia-platform/tia/proto/gen/tia/statistics/v1"
	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/activity"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/platform/app/apptest"
	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/db/dbtest"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/pseudonym"
	"github.com/tia-platform/tia/services/platform/uow"
)

var (
	study   = auth.Principal{Subject: "sf", Role: auth.RoleOrganiser, Org: "8020038884"}
	school  = auth.Principal{Subject: "fhs", Role: auth.RoleOrganiser, Org: "8176055559"}
	church  = auth.Principal{Subject: "church", Role: auth.RoleOrganiser, Org: "8024012349"}
	board01 = auth.Principal{Subject: "lst-01", Role: auth.RoleCountyBoard, Lan: "01"}
	board12 = auth.Principal{Subject: "lst-12", Role: auth.RoleCountyBoard, Lan: "12"}
	mv      = auth.Principal{Subject: "mv", Role: auth.RoleMigrationsverket}
	fbr     = auth.Principal{Subject: "fbr", Role: auth.RoleFolkbildningsradet}
	seeker  = auth.Principal{Subject: "as", Role: auth.RoleAsylumSeeker, Dossier: "12-345678"}
)

func as(p auth.Principal) context.Context { return auth.WithPrincipal(context.Background(), p) }

// today is the fixed day the tests run on.
const today = "2026-03-10"

type env struct {
	svc *activity.Service
	db  *sqlx.DB
}

func newEnv(t *testing.T, dsn string) env {
	t.Helper()
	deps := withUnits(t, apptest.Deps(t, activity.Component, dsn))
	svc, err := activity.Component.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	s := svc.(*activity.Service)
	now, _ := time.Parse(time.RFC3339, today+"T09:00:00Z")
	activity.SetClock(s, func() time.Time { return now })
	return env{svc: s, db: deps.DB}
}

// withUnits adds what a host adds beyond apptest.Deps: the request-id and
// audit tables, a keyed pseudonym, the audit trail and the unit-of-work
// runner, and the registry's own settings.
func withUnits(t *testing.T, deps app.Deps) app.Deps {
	t.Helper()
	ctx := context.Background()
	for _, m := range []func(context.Context, *sqlx.DB) error{uow.Migrate, audit.Migrate} {
		if err := m(ctx, deps.DB); err != nil {
			t.Fatal(err)
		}
	}
	key, err := pseudonym.New([]byte("activity-test-key-0123456789abcdef"), nil)
	if err != nil {
		t.Fatal(err)
	}
	deps.Pseudonyms = key
	deps.Audit = audit.New(deps.DB, key)
	deps.Units = uow.New(deps.DB, deps.Relay, deps.Audit)
	deps.Config = &activity.Config{CertificateRetentionDays: 365}
	return deps
}

// errTable is the registry's error table, as the host applies it to every
// method: the tests call the handlers directly and read the codes a client
// would get.
var errTable = apierr.Table{Domain: "activity.tia", Rules: activity.Errors}

// outbox returns the subjects in the outbox, oldest first.
func (e env) outbox(t *testing.T) []string {
	t.Helper()
	var subjects []string
	if err := e.db.Select(&subjects, "SELECT subject FROM outbox ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	return subjects
}

// must returns v, and fails the test (through a panic, which names the
// line) when err is set.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func wantCode(t *testing.T, err error, code codes.Code) {
	t.Helper()
	err = errTable.Status(context.Background(), err)
	if status.Code(err) != code {
		t.Fatalf("err = %v, want %v", err, code)
	}
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	if !slices.Contains(badrequest.Fields(err), field) {
		t.Fatalf("err = %v, want a violation of %s", err, field)
	}
}

func organiser(org string, kind activityv1.OrganiserKind) *activityv1.Organiser {
	return &activityv1.Organiser{OrgNumber: org, DisplayName: "Org " + org, Kind: kind, Contacts: []*activityv1.Contact{
		{Role: activityv1.ContactRole_CONTACT_ROLE_REGIONAL, DisplayName: "Regional", Email: "r@" + org + ".se", LanCodes: []string{"01"}},
		{Role: activityv1.ContactRole_CONTACT_ROLE_PARTICIPANTS, DisplayName: "Deltagare", Phone: "010-1"},
	}}
}

func act(title, kommun string, capacity int32, start, end string, funding activityv1.FundingBasis) *activityv1.Activity {
	a := &activityv1.Activity{Title: title, KommunCode: kommun, Focus: []activityv1.Focus{activityv1.Focus_FOCUS_SWEDISH},
		Capacity: capacity, StartDate: start, EndDate: end, FundingBasis: funding, Languages: []string{"sv", "ar"}}
	if funding == activityv1.FundingBasis_FUNDING_BASIS_ORDINANCE_2015_521 {
		a.Programme = activityv1.Programme_PROGRAMME_SVENSKA_FRAN_DAG_ETT
	}
	return a
}

// svenska registers the study association's Swedish course in Stockholm
// (0180, March to June, 2016 ordinance), under requestID when it is set.
func (e env) svenska(requestID string) *activityv1.Activity {
	return must(e.svc.CreateActivity(as(study), &activityv1.CreateActivityRequest{Parent: "organisers/" + study.Org, RequestId: requestID,
		Activity: act("Svenska", "0180", 10, "2026-03-01", "2026-06-30", activityv1.FundingBasis_FUNDING_BASIS_ORDINANCE_2016_1364)}))
}

// event decodes into msg the payload of the first event with subject in
// the outbox or, with latest, the last one.
func (e env) event(t *testing.T, subject string, latest bool, msg proto.Message) {
	t.Helper()
	q := "SELECT payload FROM outbox WHERE subject = ? ORDER BY id LIMIT 1"
	if latest {
		q = "SELECT payload FROM outbox WHERE subject = ? ORDER BY id DESC LIMIT 1"
	}
	var payload []byte
	if err := e.db.Get(&payload, e.db.Rebind(q), subject); err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(payload, msg); err != nil {
		t.Fatal(err)
	}
}

// setup registers three organisers and an agreement between Stockholm's
// county board and the faith community.
func (e env) setup(t *testing.T) *activityv1.Agreement {
	t.Helper()
	s := e.svc
	must(s.CreateOrganiser(as(study), &activityv1.CreateOrganiserRequest{Organiser: organiser(study.Org, activityv1.OrganiserKind_ORGANISER_KIND_STUDY_ASSOCIATION)}))
	must(s.CreateOrganiser(as(fbr), &activityv1.CreateOrganiserRequest{Organiser: organiser(school.Org, activityv1.OrganiserKind_ORGANISER_KIND_FOLK_HIGH_SCHOOL)}))
	must(s.CreateOrganiser(as(board01), &activityv1.CreateOrganiserRequest{Organiser: organiser(church.Org, activityv1.OrganiserKind_ORGANISER_KIND_FAITH_COMMUNITY)}))
	return must(s.CreateAgreement(as(board01), &activityv1.CreateAgreementRequest{Parent: "lan/01", Agreement: &activityv1.Agreement{
		Organiser: "organisers/" + church.Org, StartDate: today, EndDate: "2026-12-31"}}))
}

// newSetUpEnv is newEnv after setup: the three organisers registered and
// the faith community's agreement in län 01.
func newSetUpEnv(t *testing.T, dsn string) (env, *activityv1.Agreement) {
	t.Helper()
	e := newEnv(t, dsn)
	return e, e.setup(t)
}

func TestOrganisersAndAgreements(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e, ag := newSetUpEnv(t, dsn)
		s := e.svc

		_, err := s.CreateOrganiser(as(fbr), &activityv1.CreateOrganiserRequest{Organiser: organiser("8020038885", activityv1.OrganiserKind_ORGANISER_KIND_NON_PROFIT)})
		wantField(t, err, "organiser.org_number")
		_, err = s.CreateOrganiser(as(study), &activityv1.CreateOrganiserRequest{Organiser: organiser(school.Org, activityv1.OrganiserKind_ORGANISER_KIND_NON_PROFIT)})
		wantCode(t, err, codes.PermissionDenied)
		_, err = s.CreateOrganiser(as(fbr), &activityv1.CreateOrganiserRequest{Organiser: organiser(study.Org, activityv1.OrganiserKind_ORGANISER_KIND_NON_PROFIT)})
		wantCode(t, err, codes.AlreadyExists)

		// Contacts per län: the regional contact covers 01 only.
		c01 := must(s.ListLanContacts(as(board01), &activityv1.ListLanContactsRequest{Parent: "lan/01"}))
		c12 := must(s.ListLanContacts(as(board12), &activityv1.ListLanContactsRequest{Parent: "lan/12"}))
		if len(c01.GetContacts()) != 6 || len(c12.GetContacts()) != 3 {
			t.Fatalf("contacts: 01 %d, 12 %d", len(c01.GetContacts()), len(c12.GetContacts()))
		}
		_, err = s.ListLanContacts(as(board12), &activityv1.ListLanContactsRequest{Parent: "lan/01"})
		wantCode(t, err, codes.PermissionDenied)

		// Update by field mask: only the name changes.
		up := must(s.UpdateOrganiser(as(study), &activityv1.UpdateOrganiserRequest{
			Organiser:  &activityv1.Organiser{Name: "organisers/" + study.Org, DisplayName: "Nytt namn", Kind: activityv1.OrganiserKind_ORGANISER_KIND_REGION},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name"}},
		}))
		if up.GetDisplayName() != "Nytt namn" || up.GetKind() != activityv1.OrganiserKind_ORGANISER_KIND_STUDY_ASSOCIATION || len(up.GetContacts()) != 2 {
			t.Fatalf("updated = %v", up)
		}

		// Agreements: only the län's own county board; never back-dated; at most a year.
		if ag.GetSignDate() != today || !strings.HasPrefix(ag.GetName(), "lan/01/agreements/") {
			t.Fatalf("agreement = %v", ag)
		}
		req := func(start, end string) *activityv1.CreateAgreementRequest {
			return &activityv1.CreateAgreementRequest{Parent: "lan/01", Agreement: &activityv1.Agreement{
				Organiser: "organisers/" + study.Org, StartDate: start, EndDate: end}}
		}
		_, err = s.CreateAgreement(as(board12), req(today, "2026-12-31"))
		wantCode(t, err, codes.PermissionDenied)
		_, err = s.CreateAgreement(as(fbr), req(today, "2026-12-31"))
		wantCode(t, err, codes.PermissionDenied)
		_, err = s.CreateAgreement(as(board01), req("2026-03-09", "2026-12-31"))
		wantField(t, err, "agreement.start_date")
		_, err = s.CreateAgreement(as(board01), req(today, "2027-03-10"))
		wantField(t, err, "agreement.end_date")
		_, err = s.CreateAgreement(as(board01), &activityv1.CreateAgreementRequest{Parent: "lan/01", Agreement: &activityv1.Agreement{
			Organiser: "organisers/5560360793", StartDate: today, EndDate: "2026-12-31"}})
		wantField(t, err, "agreement.organiser")

		list := must(s.ListAgreements(as(board01), &activityv1.ListAgreementsRequest{Parent: "lan/01"}))
		if len(list.GetAgreements()) != 1 {
			t.Fatalf("agreements = %v", list)
		}
		if l := must(s.ListAgreements(as(study), &activityv1.ListAgreementsRequest{Parent: "lan/-"})); len(l.GetAgreements()) != 0 {
			t.Fatalf("organiser sees others' agreements: %v", l)
		}
		_, err = s.ListAgreements(as(board12), &activityv1.ListAgreementsRequest{Parent: "lan/01"})
		wantCode(t, err, codes.PermissionDenied)

		_, err = s.EndAgreement(as(board01), &activityv1.EndAgreementRequest{Name: ag.GetName(), EndDate: "2027-01-01"})
		wantField(t, err, "end_date")
		ended := must(s.EndAgreement(as(board01), &activityv1.EndAgreementRequest{Name: ag.GetName(), EndDate: "2026-06-30"}))
		if ended.GetEndedDate() != "2026-06-30" {
			t.Fatalf("ended = %v", ended)
		}
		// Each registration also brings the organiser's participant
		// contacts to the län's contact directories (issue 14.7), and so
		// does the update of its name.
		reg := []string{activity.SubjectOrganiserRegistered, activity.SubjectOrganiserContactsChanged}
		want := slices.Concat(reg, reg, reg, []string{activity.SubjectAgreementSigned,
			activity.SubjectOrganiserContactsChanged, activity.SubjectAgreementEnded})
		if got := e.outbox(t); !slices.Equal(got, want) {
			t.Fatalf("outbox = %v, want %v", got, want)
		}
	})
}

func TestActivitiesAndCertificates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e, ag := newSetUpEnv(t, dsn)
		s := e.svc

		// An unregistered organiser registers nothing.
		unknown := auth.Principal{Subject: "x", Role: auth.RoleOrganiser, Org: "5560360793"}
		_, err := s.CreateActivity(as(unknown), &activityv1.CreateActivityRequest{Parent: "organisers/5560360793",
			Activity: act("A", "0180", 10, "2026-03-01", "2026-09-30", activityv1.FundingBasis_FUNDING_BASIS_ORDINANCE_2016_1364)})
		wantField(t, err, "parent")
		// A faith community is not funded under 2015:521.
		_, err = s.CreateActivity(as(church), &activityv1.CreateActivityRequest{Parent: "organisers/" + church.Org,
			Activity: act("A", "0180", 10, "2026-03-01", "2026-09-30", activityv1.FundingBasis_FUNDING_BASIS_ORDINANCE_2015_521)})
		wantField(t, err, "activity.funding_basis")
		// An agreement in Stockholm does not fund an activity in Malmö.
		malmo := act("A", "1280", 10, "2026-03-01", "2026-09-30", activityv1.FundingBasis_FUNDING_BASIS_AGREEMENT)
		malmo.Agreement = ag.GetName()
		_, err = s.CreateActivity(as(church), &activityv1.CreateActivityRequest{Parent: "organisers/" + church.Org, Activity: malmo})
		wantField(t, err, "activity.agreement")

		byAgreement := act("Svenska i kyrkan", "0180", 20, "2026-03-01", "2026-09-30", activityv1.FundingBasis_FUNDING_BASIS_AGREEMENT)
		byAgreement.Agreement = ag.GetName()
		a1 := must(s.CreateActivity(as(church), &activityv1.CreateActivityRequest{Parent: "organisers/" + church.Org, Activity: byAgreement}))
		a2 := must(s.CreateActivity(as(fbr), &activityv1.CreateActivityRequest{Parent: "organisers/" + study.Org,
			Activity: act("Svenska från dag ett", "0184", 30, "2026-03-01", "2026-12-31", activityv1.FundingBasis_FUNDING_BASIS_ORDINANCE_2015_521)}))
		a3 := must(s.CreateActivity(as(study), &activityv1.CreateActivityRequest{Parent: "organisers/" + study.Org,
			Activity: act("Planerad", "0184", 10, "2026-05-01", "2026-12-31", activityv1.FundingBasis_FUNDING_BASIS_UNSPECIFIED)}))
		if a1.GetStatus() != activityv1.ActivityStatus_ACTIVITY_STATUS_ONGOING || a3.GetStatus() != activityv1.ActivityStatus_ACTIVITY_STATUS_PLANNED {
			t.Fatalf("status: %v %v", a1.GetStatus(), a3.GetStatus())
		}

		// Partial update with a field mask.
		up := must(s.UpdateActivity(as(study), &activityv1.UpdateActivityRequest{
			Activity:   &activityv1.Activity{Name: a2.GetName(), Capacity: 35, Title: "ignored"},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"capacity"}},
		}))
		if up.GetCapacity() != 35 || up.GetTitle() != "Svenska från dag ett" {
			t.Fatalf("updated = %v", up)
		}
		_, err = s.UpdateActivity(as(study), &activityv1.UpdateActivityRequest{
			Activity: &activityv1.Activity{Name: a2.GetName(), KommunCode: "9999"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"kommun_code"}}})
		wantField(t, err, "activity.kommun_code")
		_, err = s.UpdateActivity(as(school), &activityv1.UpdateActivityRequest{
			Activity: &activityv1.Activity{Name: a2.GetName(), Capacity: 1}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"capacity"}}})
		wantCode(t, err, codes.PermissionDenied)
		_, err = s.UpdateActivity(as(study), &activityv1.UpdateActivityRequest{
			Activity: &activityv1.Activity{Name: a2.GetName()}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"lan_code"}}})
		wantField(t, err, "update_mask")

		// Certificates.
		cert := func(p auth.Principal, parent, dossier string) (*activityv1.Certificate, error) {
			return s.CreateCertificate(as(p), &activityv1.CreateCertificateRequest{Parent: parent,
				Certificate: &activityv1.Certificate{DossierNumber: dossier}})
		}
		c1 := must(cert(church, a1.GetName(), "12-345678"))
		if c1.GetValidFrom() != today || c1.GetValidTo() != "2026-06-09" || c1.GetParticipation() != activityv1.Participation_PARTICIPATION_ISSUED {
			t.Fatalf("certificate = %v", c1)
		}
		c2 := must(cert(study, a2.GetName(), "12-000001/2"))
		if c2.GetDossierNumber() != "12-000001" {
			t.Fatalf("dossier = %s", c2.GetDossierNumber())
		}
		_, err = cert(school, a2.GetName(), "12-345678")
		wantCode(t, err, codes.PermissionDenied)
		_, err = cert(study, a3.GetName(), "12-345678")
		wantField(t, err, "parent") // no funding basis
		_, err = cert(study, a2.GetName(), "12345678")
		wantField(t, err, "certificate.dossier_number")

		// Who sees certificates.
		if l := must(s.ListCertificates(as(study), &activityv1.ListCertificatesRequest{Parent: "organisers/-/activities/-"})); len(l.GetCertificates()) != 1 {
			t.Fatalf("organiser sees %d certificates", len(l.GetCertificates()))
		}
		if l := must(s.ListCertificates(as(seeker), &activityv1.ListCertificatesRequest{Parent: "organisers/-/activities/-"})); len(l.GetCertificates()) != 1 ||
			l.GetCertificates()[0].GetDossierNumber() != "12-345678" {
			t.Fatalf("asylum seeker sees %v", l)
		}
		if l := must(s.ListCertificates(as(mv), &activityv1.ListCertificatesRequest{Parent: "organisers/-/activities/-"})); len(l.GetCertificates()) != 2 {
			t.Fatalf("Migrationsverket sees %d", len(l.GetCertificates()))
		}
		_, err = s.ListCertificates(as(board01), &activityv1.ListCertificatesRequest{Parent: "organisers/-/activities/-"})
		wantCode(t, err, codes.PermissionDenied)
		_, err = s.ListCertificates(as(school), &activityv1.ListCertificatesRequest{Parent: "organisers/" + study.Org + "/activities/-"})
		wantCode(t, err, codes.PermissionDenied)
		_, err = s.GetCertificate(as(board01), &activityv1.GetCertificateRequest{Name: c1.GetName()})
		wantCode(t, err, codes.PermissionDenied)

		// CheckCertificate.
		check := func(p auth.Principal, name, dossier, activity, date string) *activityv1.CheckCertificateResponse {
			return must(s.CheckCertificate(as(p), &activityv1.CheckCertificateRequest{Name: name, DossierNumber: dossier, Activity: activity, Date: date}))
		}
		if r := check(mv, c1.GetName(), "12-345678", a1.GetName(), "2026-04-01"); !r.GetValid() || r.GetKommunCode() != "0180" {
			t.Fatalf("check = %v", r)
		}
		if r := check(mv, c1.GetName(), "12-345678", a2.GetName(), "2026-07-01"); r.GetValid() ||
			!slices.Equal(r.GetReasons(), []string{"WRONG_ACTIVITY", "NOT_VALID_ON_DATE"}) {
			t.Fatalf("check = %v", r)
		}
		if r := check(seeker, a1.GetName()+"/certificates/nope", "12-345678", a1.GetName(), "2026-04-01"); !slices.Equal(r.GetReasons(), []string{"CERTIFICATE_NOT_FOUND"}) {
			t.Fatalf("check = %v", r)
		}
		_, err = s.CheckCertificate(as(seeker), &activityv1.CheckCertificateRequest{Name: c2.GetName(), DossierNumber: "12-000001", Activity: a2.GetName(), Date: today})
		wantCode(t, err, codes.PermissionDenied)
		_, err = s.CheckCertificate(as(board01), &activityv1.CheckCertificateRequest{Name: c2.GetName(), DossierNumber: "12-000001", Activity: a2.GetName(), Date: today})
		wantCode(t, err, codes.PermissionDenied)

		// Participation: started, then a drop-out; never before the start.
		must(s.StartParticipation(as(study), &activityv1.StartParticipationRequest{Name: c2.GetName()}))
		_, err = s.EndParticipation(as(study), &activityv1.EndParticipationRequest{Name: c2.GetName(),
			Outcome: activityv1.Participation_PARTICIPATION_DROPPED_OUT, EndDate: "2026-03-09"})
		wantField(t, err, "end_date")
		_, err = s.EndParticipation(as(study), &activityv1.EndParticipationRequest{Name: c2.GetName(),
			Outcome: activityv1.Participation_PARTICIPATION_NEVER_STARTED, EndDate: today})
		wantField(t, err, "outcome")
		ended := must(s.EndParticipation(as(study), &activityv1.EndParticipationRequest{Name: c2.GetName(),
			Outcome: activityv1.Participation_PARTICIPATION_DROPPED_OUT, EndDate: today}))
		if ended.GetParticipation() != activityv1.Participation_PARTICIPATION_DROPPED_OUT || ended.GetEndDate() != today {
			t.Fatalf("ended = %v", ended)
		}
		if r := check(mv, c2.GetName(), "12-000001", a2.GetName(), "2026-03-11"); !slices.Equal(r.GetReasons(), []string{"PARTICIPATION_ENDED"}) ||
			r.GetParticipationEndDate() != today {
			t.Fatalf("check after drop-out = %v", r)
		}
		_, err = s.RenewCertificate(as(study), &activityv1.RenewCertificateRequest{Name: c2.GetName()})
		wantField(t, err, "name")

		// Renewal: the next three months, linked to the old certificate.
		r1 := must(s.RenewCertificate(as(church), &activityv1.RenewCertificateRequest{Name: c1.GetName()}))
		if r1.GetRenews() != c1.GetName() || r1.GetValidFrom() != "2026-06-10" || r1.GetValidTo() != "2026-09-09" {
			t.Fatalf("renewal = %v", r1)
		}
		_, err = s.RenewCertificate(as(church), &activityv1.RenewCertificateRequest{Name: c1.GetName()})
		wantField(t, err, "name")
		// A drop-out recorded on the renewed certificate ends the renewal too.
		must(s.EndParticipation(as(church), &activityv1.EndParticipationRequest{Name: c1.GetName(),
			Outcome: activityv1.Participation_PARTICIPATION_DROPPED_OUT, EndDate: today}))
		if r := must(s.GetCertificate(as(mv), &activityv1.GetCertificateRequest{Name: r1.GetName()})); r.GetParticipation() != activityv1.Participation_PARTICIPATION_DROPPED_OUT {
			t.Fatalf("renewal after the drop-out = %v", r)
		}
		if r := check(mv, r1.GetName(), "12-345678", a1.GetName(), "2026-06-15"); !slices.Equal(r.GetReasons(), []string{"PARTICIPATION_ENDED"}) {
			t.Fatalf("check of the renewal = %v", r)
		}

		// ParticipationEnded carries what Migrationsverket needs.
		var pe activityv1.ParticipationEnded
		e.event(t, activity.SubjectParticipationEnded, false, &pe)
		if pe.GetDossierNumber() != "12-000001" || pe.GetCertificate() != c2.GetName() || pe.GetLanCode() != "01" ||
			pe.GetKommunCode() != "0184" || pe.GetOutcome() != activityv1.Participation_PARTICIPATION_DROPPED_OUT {
			t.Fatalf("event = %v", &pe)
		}

		// Ending the agreement stops new certificates for activities it funds.
		must(s.EndAgreement(as(board01), &activityv1.EndAgreementRequest{Name: ag.GetName(), EndDate: today}))
		activity.SetClock(s, func() time.Time { return time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC) })
		_, err = cert(church, a1.GetName(), "12-999999")
		wantField(t, err, "parent")
	})
}

func putEvent(t *testing.T, e env, msg proto.Message) {
	t.Helper()
	payload, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	ev := events.Event{ID: "x", Type: string(msg.ProtoReflect().Descriptor().FullName()), Payload: payload}
	for range 2 { // redelivery changes nothing
		if err := db.InTx(context.Background(), e.db, func(tx *sqlx.Tx) error { return e.svc.HandleEvent(context.Background(), tx, ev) }); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCoverageCatalogueAndReport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e, _ := newSetUpEnv(t, dsn)
		s := e.svc
		// Uppsala län (03): supply in Uppsala (0380); Enköping (0381) reaches it by route.
		must(s.CreateActivity(as(study), &activityv1.CreateActivityRequest{Parent: "organisers/" + study.Org,
			Activity: act("Svenska", "0380", 40, "2026-03-01", "2026-12-31", activityv1.FundingBasis_FUNDING_BASIS_ORDINANCE_2015_521)}))
		a := must(s.CreateActivity(as(school), &activityv1.CreateActivityRequest{Parent: "organisers/" + school.Org,
			Activity: act("Hälsa", "0380", 20, "2026-02-15", "2026-12-31", activityv1.FundingBasis_FUNDING_BASIS_ORDINANCE_2016_1364)}))
		must(s.CreateActivity(as(church), &activityv1.CreateActivityRequest{Parent: "organisers/" + church.Org,
			Activity: act("Samtal", "0380", 5, "2026-03-05", "2026-12-31", activityv1.FundingBasis_FUNDING_BASIS_ORDINANCE_2016_1364)}))
		planned := act("Planerad", "0381", 15, "2026-04-01", "2026-12-31", activityv1.FundingBasis_FUNDING_BASIS_ORDINANCE_2016_1364)
		planned.Languages = []string{"ti"}
		must(s.CreateActivity(as(school), &activityv1.CreateActivityRequest{Parent: "organisers/" + school.Org, Activity: planned}))
		for _, d := range []string{"12-000001", "12-000002", "12-000003"} {
			must(s.CreateCertificate(as(school), &activityv1.CreateCertificateRequest{Parent: a.GetName(), Certificate: &activityv1.Certificate{DossierNumber: d}}))
		}

		putEvent(t, e, &statisticsv1.SnapshotPublished{Snapshot: "snapshots/2026-02-28", ReferenceDate: "2026-02-28",
			PublishTime: timestamppb.Now(), KommunTotals: []*statisticsv1.KommunTotal{
				{KommunCode: "0380", LanCode: "03", Adults: 100}, {KommunCode: "0381", LanCode: "03", Adults: 70},
				{KommunCode: "0382", LanCode: "03", Adults: 30}, {KommunCode: "0180", LanCode: "01", Adults: 500}}})
		putEvent(t, e, &statisticsv1.ProjectionPublished{Snapshot: "snapshots/2026-02-28", ProjectionDate: "2026-06-30",
			PublishTime: timestamppb.Now(), KommunTotals: []*statisticsv1.KommunTotal{{KommunCode: "0381", LanCode: "03", Adults: 90}}})
		putEvent(t, e, &travelv1.RouteDecided{Route: &travelv1.Route{Name: "routes/r1", FromKommunCode: "0381", ToKommunCode: "0380",
			ValidFrom: "2026-01-01", ValidTo: "2026-12-31"}})
		putEvent(t, e, &travelv1.RouteDecided{Route: &travelv1.Route{Name: "routes/r2", FromKommunCode: "0382", ToKommunCode: "0380",
			ValidFrom: "2026-01-01", ValidTo: "2026-12-31"}})
		putEvent(t, e, &travelv1.RouteRevoked{Route: &travelv1.Route{Name: "routes/r2", FromKommunCode: "0382", ToKommunCode: "0380",
			ValidFrom: "2026-01-01", ValidTo: "2026-12-31"}, RevokedFrom: "2026-03-01"})

		c := must(s.GetCoverage(as(board01), &activityv1.GetCoverageRequest{Name: "lan/01/coverage"}))
		if c.GetSnapshotDate() != "2026-02-28" || c.GetTotal().GetTargetGroup() != 500 {
			t.Fatalf("coverage 01 = %v", c.GetTotal())
		}
		_, err := s.GetCoverage(as(board01), &activityv1.GetCoverageRequest{Name: "lan/03/coverage"})
		wantCode(t, err, codes.PermissionDenied)
		_, err = s.GetCoverage(as(study), &activityv1.GetCoverageRequest{Name: "lan/03/coverage"})
		wantCode(t, err, codes.PermissionDenied)

		c = must(s.GetCoverage(as(mv), &activityv1.GetCoverageRequest{Name: "lan/03/coverage"}))
		by := map[string]*activityv1.KommunCoverage{}
		for _, k := range c.GetKommuner() {
			by[k.GetKommunCode()] = k
		}
		u, en, ti := by["0380"], by["0381"], by["0382"]
		if u.GetOngoingActivities() != 3 || u.GetCapacity() != 65 || u.GetActiveParticipants() != 3 || u.GetTargetGroup() != 100 ||
			u.GetUnmetNeed() != 35 || u.GetNearestActivityKm() != 0 || u.GetUtilisation() != 0.046 {
			t.Errorf("Uppsala = %v", u)
		}
		if en.GetRouteActivities() != 3 || en.GetRouteCapacity() != 65 || en.GetUnmetNeed() != 5 || en.GetProjectedTargetGroup() != 90 ||
			en.GetNearestActivityKommunCode() != "0380" || en.GetNearestActivityKm() <= 0 || en.GetOngoingActivities() != 0 {
			t.Errorf("Enköping = %v", en)
		}
		if ti.GetRouteActivities() != 0 || ti.GetUnmetNeed() != 30 {
			t.Errorf("Tierp (route revoked) = %v", ti)
		}
		if !slices.Equal(c.GetRankedUnmetNeed(), []string{"0380", "0382", "0381"}) || c.GetProjectionDate() != "2026-06-30" {
			t.Errorf("ranked = %v, projection %s", c.GetRankedUnmetNeed(), c.GetProjectionDate())
		}
		csv := must(s.ExportCoverage(as(fbr), &activityv1.ExportCoverageRequest{Name: "lan/03/coverage"}))
		lines := strings.Split(strings.TrimSpace(csv.GetCsv()), "\n")
		if len(lines) != len(c.GetKommuner())+2 || !strings.HasPrefix(lines[0], "kommun_code,kommun_name,target_group") ||
			strings.Contains(csv.GetCsv(), "12-0000") {
			t.Fatalf("csv = %s", csv.GetCsv())
		}

		// The catalogue: in the kommun; nearby; through routes; by focus and language.
		search := func(r *activityv1.SearchCatalogueRequest) []*activityv1.CatalogueEntry {
			return must(s.SearchCatalogue(context.Background(), r)).GetEntries()
		}
		if got := search(&activityv1.SearchCatalogueRequest{KommunCode: "0381"}); len(got) != 1 || got[0].GetActivity().GetTitle() != "Planerad" {
			t.Fatalf("Enköping = %v", got)
		}
		viaRoute := search(&activityv1.SearchCatalogueRequest{KommunCode: "0381", IncludeRoutes: true})
		if len(viaRoute) != 4 || !viaRoute[3].GetViaRoute() || viaRoute[3].GetDistanceKm() <= 0 {
			t.Fatalf("Enköping with routes = %v", viaRoute)
		}
		if got := search(&activityv1.SearchCatalogueRequest{KommunCode: "0382", IncludeRoutes: true}); len(got) != 0 {
			t.Fatalf("revoked route still used: %v", got)
		}
		if got := search(&activityv1.SearchCatalogueRequest{KommunCode: "0382", WithinKm: 100}); len(got) != 4 {
			t.Fatalf("within 100 km of Tierp = %d", len(got))
		}
		if got := search(&activityv1.SearchCatalogueRequest{KommunCode: "0382", WithinKm: 100, Language: "ti"}); len(got) != 1 {
			t.Fatalf("Tigrinya = %v", got)
		}
		if got := search(&activityv1.SearchCatalogueRequest{KommunCode: "0382", WithinKm: 100, Focus: activityv1.Focus_FOCUS_HEALTH}); len(got) != 0 {
			t.Fatalf("health = %v", got)
		}
		page := must(s.SearchCatalogue(context.Background(), &activityv1.SearchCatalogueRequest{KommunCode: "0381", IncludeRoutes: true, PageSize: 3}))
		if len(page.GetEntries()) != 3 || page.GetNextPageToken() == "" {
			t.Fatalf("page = %v", page)
		}
		_, err = s.SearchCatalogue(context.Background(), &activityv1.SearchCatalogueRequest{KommunCode: "9999"})
		wantField(t, err, "kommun_code")

		// Folkbildningsrådet's report: study associations and folk high schools only.
		r := must(s.GetFolkbildningReport(as(fbr), &activityv1.GetFolkbildningReportRequest{Lan: "lan/03", StartDate: "2026-03-01", EndDate: "2026-03-31"}))
		if len(r.GetActivities()) != 1 || r.GetTotalCapacity() != 40 || len(r.GetKommuner()) != 1 || r.GetKommuner()[0].GetKommunName() != "Uppsala" {
			t.Fatalf("report = %v", r)
		}
		_, err = s.GetFolkbildningReport(as(fbr), &activityv1.GetFolkbildningReportRequest{Lan: "lan/03", StartDate: "2026-03-31", EndDate: "2026-03-01"})
		wantField(t, err, "end_date")

		// The monthly report goes out once per län and month, for months
		// the registry was running by their end: none for February.
		if err := s.SendDueReports(context.Background()); err != nil {
			t.Fatal(err)
		}
		if subjects := e.outbox(t); slices.Contains(subjects, activity.SubjectFolkbildningReportPublished) {
			t.Fatalf("a report for the month before the registry ran: %v", subjects)
		}
		activity.SetClock(s, func() time.Time { return time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC) })
		for range 2 {
			if err := s.SendDueReports(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := e.db.Get(&n, e.db.Rebind("SELECT COUNT(*) FROM outbox WHERE subject = ?"), activity.SubjectFolkbildningReportPublished); err != nil {
			t.Fatal(err)
		}
		if n != 21 {
			t.Fatalf("%d reports sent, want 21", n)
		}

		// Uppsala's county board chooses a weekly report: one more is due.
		sched := &activityv1.ReportSchedule{Name: "lan/03/folkbildningReportSchedule", Frequency: activityv1.ReportFrequency_REPORT_FREQUENCY_WEEKLY}
		mask := &fieldmaskpb.FieldMask{Paths: []string{"frequency"}}
		_, err = s.UpdateReportSchedule(as(board01), &activityv1.UpdateReportScheduleRequest{Schedule: sched, UpdateMask: mask})
		wantCode(t, err, codes.PermissionDenied)
		if got := must(s.UpdateReportSchedule(as(fbr), &activityv1.UpdateReportScheduleRequest{Schedule: sched, UpdateMask: mask})); got.GetFrequency() != activityv1.ReportFrequency_REPORT_FREQUENCY_WEEKLY {
			t.Fatalf("schedule = %v", got)
		}
		if got := must(s.GetReportSchedule(as(board01), &activityv1.GetReportScheduleRequest{Name: "lan/01/folkbildningReportSchedule"})); got.GetFrequency() != activityv1.ReportFrequency_REPORT_FREQUENCY_MONTHLY {
			t.Fatalf("default schedule = %v", got)
		}
		if err := s.SendDueReports(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := e.db.Get(&n, e.db.Rebind("SELECT COUNT(*) FROM outbox WHERE subject = ?"), activity.SubjectFolkbildningReportPublished); err != nil {
			t.Fatal(err)
		}
		if n != 22 {
			t.Fatalf("%d reports sent, want 22", n)
		}
	})
}
