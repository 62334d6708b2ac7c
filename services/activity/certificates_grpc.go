package activity

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/activity/internal/store"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/listing"
)

// certName splits organisers/{o}/activities/{a}/certificates/{c}.
func certName(name string) (org, activity, id string) {
	p := strings.Split(name, "/")
	if len(p) != 6 {
		return "", "", ""
	}
	return p[1], p[3], p[5]
}

// requireOwnOrganiser admits only the organiser org itself.
func requireOwnOrganiser(ctx context.Context, org, what string) error {
	p, err := auth.Require(ctx, auth.RoleOrganiser)
	if err != nil {
		return err
	}
	if p.Org != org {
		return status.Errorf(codes.PermissionDenied, "only the organiser of the activity %s", what)
	}
	return nil
}

// mayIssue checks the certificate rules for activity a on day.
func (s *Service) mayIssue(ctx context.Context, a domain.Activity, day string) error {
	o, err := s.store.GetOrganiser(ctx, a.Org)
	if errors.Is(err, store.ErrNotFound) {
		return badrequest.Field("parent", "organisers/"+a.Org+" is not registered, so it issues no certificates")
	}
	if err != nil {
		return err
	}
	ags, err := s.store.OrganiserAgreements(ctx, a.Org, a.LanCode)
	if err != nil {
		return err
	}
	return domain.MayIssue(o, a, ags, day)
}

func (s *Service) activity(ctx context.Context, org, id, field string) (domain.Activity, error) {
	a, err := s.store.Get(ctx, org, id)
	if errors.Is(err, store.ErrNotFound) {
		return a, status.Errorf(codes.NotFound, "organisers/%s/activities/%s not found", org, id)
	}
	return a, err
}

// CreateCertificate issues a participation certificate.
func (s *Service) CreateCertificate(ctx context.Context, req *activityv1.CreateCertificateRequest) (*activityv1.Certificate, error) {
	parts := strings.Split(req.GetParent(), "/")
	org, actID := parts[1], parts[3]
	if err := requireOwnOrganiser(ctx, org, "issues certificates for it"); err != nil {
		return nil, err
	}
	a, err := s.activity(ctx, org, actID, "parent")
	if err != nil {
		return nil, err
	}
	today := s.today().Format(domain.DateLayout)
	if err := s.mayIssue(ctx, a, today); err != nil {
		return nil, err
	}
	in := req.GetCertificate()
	c := domain.Certificate{Dossier: in.GetDossierNumber(), ValidFrom: in.GetValidFrom()}
	if err := c.Issue(a, today); err != nil {
		return nil, badrequest.Prefix("certificate", err)
	}
	c.ID = uuid.Must(uuid.NewV7()).String()
	c.CreateTime = s.now().UTC()
	if err := s.store.CreateCertificate(ctx, c, func(*sqlx.Tx) error { return nil }); err != nil {
		return nil, err
	}
	return certificateToProto(c), nil
}

// canSeeCertificate: the organiser, Migrationsverket, the participant.
func canSeeCertificate(p auth.Principal, c domain.Certificate) bool {
	switch p.Role {
	case auth.RoleOrganiser:
		return p.Org == c.Org
	case auth.RoleMigrationsverket:
		return true
	case auth.RoleAsylumSeeker:
		return p.Dossier == c.Dossier
	}
	return false
}

// GetCertificate returns a certificate to those who may see it.
func (s *Service) GetCertificate(ctx context.Context, req *activityv1.GetCertificateRequest) (*activityv1.Certificate, error) {
	p, err := auth.Require(ctx, auth.RoleOrganiser, auth.RoleMigrationsverket, auth.RoleAsylumSeeker)
	if err != nil {
		return nil, err
	}
	org, act, id := certName(req.GetName())
	if p.Role == auth.RoleOrganiser && p.Org != org {
		return nil, status.Error(codes.PermissionDenied, "an organiser sees only its own participants")
	}
	c, err := s.store.GetCertificate(ctx, org, act, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !canSeeCertificate(p, c)) {
		// An asylum seeker learns nothing of others' certificates.
		return nil, status.Errorf(codes.NotFound, "%s not found", req.GetName())
	}
	if err != nil {
		return nil, err
	}
	return certificateToProto(c), nil
}

// ListCertificates lists certificates within the caller's scope.
func (s *Service) ListCertificates(ctx context.Context, req *activityv1.ListCertificatesRequest) (*activityv1.ListCertificatesResponse, error) {
	p, err := auth.Require(ctx, auth.RoleOrganiser, auth.RoleMigrationsverket, auth.RoleAsylumSeeker)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(req.GetParent(), "/")
	scope := store.CertificateScope{Org: parts[1], Activity: parts[3]}
	if scope.Org == "-" {
		scope.Org = ""
	}
	if scope.Activity == "-" {
		scope.Activity = ""
	}
	switch p.Role {
	case auth.RoleOrganiser:
		if scope.Org == "" {
			scope.Org = p.Org
		}
		if scope.Org != p.Org {
			return nil, status.Error(codes.PermissionDenied, "an organiser sees only its own participants")
		}
	case auth.RoleAsylumSeeker:
		scope.Dossier = p.Dossier
	}
	page, err := listing.ParsePage(req)
	if err != nil {
		return nil, err
	}
	filter, err := listing.ParseFilter(req, store.CertificateFilterFields)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListCertificates(ctx, scope, filter, page)
	if err != nil {
		return nil, err
	}
	list, next := listing.Trim(page, list)
	resp := &activityv1.ListCertificatesResponse{NextPageToken: next}
	for _, c := range list {
		resp.Certificates = append(resp.Certificates, certificateToProto(c))
	}
	return resp, nil
}

// RenewCertificate issues the next three-month period.
func (s *Service) RenewCertificate(ctx context.Context, req *activityv1.RenewCertificateRequest) (*activityv1.Certificate, error) {
	org, act, id := certName(req.GetName())
	if err := requireOwnOrganiser(ctx, org, "renews its certificates"); err != nil {
		return nil, err
	}
	old, err := s.store.GetCertificate(ctx, org, act, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "%s not found", req.GetName())
	}
	if err != nil {
		return nil, err
	}
	a, err := s.activity(ctx, org, act, "name")
	if err != nil {
		return nil, err
	}
	today := s.today().Format(domain.DateLayout)
	if err := s.mayIssue(ctx, a, today); err != nil {
		return nil, badrequest.Prefix("name", err) // the rule concerns the certificate's activity
	}
	c, err := old.Renewal(a, today)
	if err != nil {
		return nil, err
	}
	c.ID = uuid.Must(uuid.NewV7()).String()
	c.CreateTime = s.now().UTC()
	err = s.store.CreateCertificate(ctx, c, func(*sqlx.Tx) error { return nil })
	if errors.Is(err, store.ErrConflict) {
		return nil, status.Errorf(codes.Aborted, "%s was renewed meanwhile", req.GetName())
	}
	if err != nil {
		return nil, err
	}
	return certificateToProto(c), nil
}

// StartParticipation records that the participant started.
func (s *Service) StartParticipation(ctx context.Context, req *activityv1.StartParticipationRequest) (*activityv1.Certificate, error) {
	org, act, id := certName(req.GetName())
	if err := requireOwnOrganiser(ctx, org, "records participation"); err != nil {
		return nil, err
	}
	c, err := s.store.ChangeCertificate(ctx, org, act, id, func(c *domain.Certificate) error { return c.Start() },
		func(*sqlx.Tx, domain.Certificate) error { return nil })
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "%s not found", req.GetName())
	}
	if err != nil {
		return nil, err
	}
	return certificateToProto(c), nil
}

// EndParticipation records a drop-out or that the participant never
// started, and publishes ParticipationEnded for Migrationsverket.
func (s *Service) EndParticipation(ctx context.Context, req *activityv1.EndParticipationRequest) (*activityv1.Certificate, error) {
	org, act, id := certName(req.GetName())
	if err := requireOwnOrganiser(ctx, org, "records participation"); err != nil {
		return nil, err
	}
	outcome := participationFromProto[req.GetOutcome()]
	today := s.today().Format(domain.DateLayout)
	c, err := s.store.ChangeCertificate(ctx, org, act, id,
		func(c *domain.Certificate) error { return c.End(outcome, req.GetEndDate(), today) },
		func(tx *sqlx.Tx, c domain.Certificate) error {
			if err := store.EndRenewals(ctx, tx, c); err != nil {
				return err
			}
			_, err := events.Publish(ctx, tx, SubjectParticipationEnded, &activityv1.ParticipationEnded{
				Certificate: c.Name(), Activity: c.ActivityName(), DossierNumber: c.Dossier,
				Outcome: participationToProto[c.Participation], EndDate: c.EndDate,
				KommunCode: c.KommunCode, LanCode: c.LanCode,
			})
			return err
		})
	if errors.Is(err, store.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "%s not found", req.GetName())
	}
	if err != nil {
		return nil, err
	}
	s.relay.Notify()
	return certificateToProto(c), nil
}

// CheckCertificate answers whether a certificate lets its holder travel to
// its activity on a date: Migrationsverket (the travel service) for anyone,
// an asylum seeker for their own dossier.
func (s *Service) CheckCertificate(ctx context.Context, req *activityv1.CheckCertificateRequest) (*activityv1.CheckCertificateResponse, error) {
	p, err := auth.Require(ctx, auth.RoleMigrationsverket, auth.RoleAsylumSeeker)
	if err != nil {
		return nil, err
	}
	if p.Role == auth.RoleAsylumSeeker && p.Dossier != req.GetDossierNumber() {
		return nil, status.Error(codes.PermissionDenied, "an asylum seeker may check only their own certificates")
	}
	org, act, id := certName(req.GetName())
	var cert *domain.Certificate
	c, err := s.store.GetCertificate(ctx, org, act, id)
	switch {
	case err == nil:
		cert = &c
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	reasons := domain.Check(cert, req.GetDossierNumber(), req.GetActivity(), req.GetDate())
	resp := &activityv1.CheckCertificateResponse{Valid: len(reasons) == 0, Reasons: reasons}
	if cert != nil && cert.Dossier == req.GetDossierNumber() {
		// Details only about the certificate's own participant.
		resp.KommunCode = cert.KommunCode
		resp.ParticipationEndDate = cert.EndDate
	}
	return resp, nil
}
