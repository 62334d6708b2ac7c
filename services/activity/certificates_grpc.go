package activity

import (
	"context"
	"errors"

	"github.com/google/uuid"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/activity/internal/domain"
	"github.com/tia-platform/tia/services/activity/internal/store"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/clock"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/uow"
)

// Certificates hold personal data (the participant's dossier number): every
// read and change of one appends an entry to the registry's audit trail,
// changes within their unit of work, reads in a transaction of their own
// before the answer leaves.

// ownCertificate admits only the organiser of the certificate's activity and
// returns the parts of its name.
func ownCertificate(ctx context.Context, name, what string) ([]string, error) {
	p, vars, err := admit(ctx, certificateName, "name", name, auth.RoleOrganiser)
	if err != nil {
		return nil, err
	}
	if p.Org != vars[0] {
		return nil, apierr.Denied("only the organiser of the activity %s", what)
	}
	return vars, nil
}

// changeCertificate changes the organiser's own certificate that name
// names in one unit of work, once per request id: fn gets it as stored.
func (s *Service) changeCertificate(ctx context.Context, method, name, requestID, what string,
	fn func(w *uow.Work, c domain.Certificate, vars []string) (*activityv1.Certificate, error),
) (*activityv1.Certificate, error) {
	vars, err := ownCertificate(ctx, name, what)
	if err != nil {
		return nil, err
	}
	return uow.Once(ctx, s.units, uow.Request{Method: method, ID: requestID}, func(w *uow.Work) (*activityv1.Certificate, error) {
		c, err := getCertificate(ctx, w.Tx, name, vars)
		if err != nil {
			return nil, err
		}
		return fn(w, c, vars)
	})
}

// mayIssue checks the certificate rules for activity a on day.
func mayIssue(ctx context.Context, q store.Q, a domain.Activity, day string) error {
	o, err := store.GetOrganiser(ctx, q, a.Org)
	if errors.Is(err, store.ErrNotFound) {
		return badrequest.Field("parent", "organisers/"+a.Org+" is not registered, so it issues no certificates")
	}
	if err != nil {
		return err
	}
	ags, err := store.OrganiserAgreements(ctx, q, a.Org, a.LanCode)
	if err != nil {
		return err
	}
	return domain.MayIssue(o, a, ags, day)
}

func getActivity(ctx context.Context, q store.Q, org, id string) (domain.Activity, error) {
	a, err := store.GetActivity(ctx, q, org, id)
	if errors.Is(err, store.ErrNotFound) {
		return a, apierr.NotFound(activityName.Format(org, id))
	}
	return a, err
}

func getCertificate(ctx context.Context, q store.Q, name string, vars []string) (domain.Certificate, error) {
	c, err := store.GetCertificate(ctx, q, vars[0], vars[1], vars[2])
	if errors.Is(err, store.ErrNotFound) {
		return c, apierr.NotFound(name)
	}
	return c, err
}

// CreateCertificate issues a participation certificate.
func (s *Service) CreateCertificate(ctx context.Context, req *activityv1.CreateCertificateRequest) (*activityv1.Certificate, error) {
	p, vars, err := admit(ctx, activityName, "parent", req.GetParent(), auth.RoleOrganiser)
	if err != nil {
		return nil, err
	}
	if p.Org != vars[0] {
		return nil, apierr.Denied("only the organiser of the activity issues certificates for it")
	}
	in := req.GetCertificate()
	return uow.Once(ctx, s.units, uow.Request{Method: activityv1.ActivityService_CreateCertificate_FullMethodName, ID: req.GetRequestId()},
		func(w *uow.Work) (*activityv1.Certificate, error) {
			a, err := getActivity(ctx, w.Tx, vars[0], vars[1])
			if err != nil {
				return nil, err
			}
			today := s.todayString()
			if err := mayIssue(ctx, w.Tx, a, today); err != nil {
				return nil, err
			}
			c := domain.Certificate{Dossier: in.GetDossierNumber(), ValidFrom: in.GetValidFrom()}
			if err := c.Issue(a, today); err != nil {
				return nil, badrequest.Prefix("certificate", err)
			}
			c.ID = uuid.Must(uuid.NewV7()).String()
			c.CreateTime = s.clock.Now().UTC()
			if err := s.store.CreateCertificate(ctx, w.Tx, c); err != nil {
				return nil, err
			}
			return certificateToProto(c), w.Audit(audit.OpCreate, c.Name(), c.Dossier)
		})
}

// certificateReaders may read certificates, each those canSeeCertificate
// admits.
var certificateReaders = []auth.Role{auth.RoleOrganiser, auth.RoleMigrationsverket, auth.RoleAsylumSeeker}

// canSeeCertificate: the organiser, Migrationsverket, the participant.
func canSeeCertificate(p auth.Principal, c domain.Certificate) bool {
	switch p.Role {
	case auth.RoleOrganiser:
		return p.Org == c.Org
	case auth.RoleMigrationsverket:
		return true
	case auth.RoleAsylumSeeker:
		return c.Dossier != "" && p.Dossier == c.Dossier
	}
	return false
}

// GetCertificate returns a certificate to those who may see it.
func (s *Service) GetCertificate(ctx context.Context, req *activityv1.GetCertificateRequest) (*activityv1.Certificate, error) {
	p, vars, err := admit(ctx, certificateName, "name", req.GetName(), certificateReaders...)
	if err != nil {
		return nil, err
	}
	if p.Role == auth.RoleOrganiser && p.Org != vars[0] {
		return nil, apierr.Denied("an organiser sees only its own participants")
	}
	c, err := s.store.GetCertificate(ctx, vars[0], vars[1], vars[2])
	if errors.Is(err, store.ErrNotFound) || (err == nil && !canSeeCertificate(p, c)) {
		// An asylum seeker learns nothing of others' certificates.
		return nil, apierr.NotFound(req.GetName())
	}
	if err != nil {
		return nil, err
	}
	if err := s.units.AuditRead(ctx, audit.OpRead, c.Name(), dossiers(c)...); err != nil {
		return nil, err
	}
	return certificateToProto(c), nil
}

// dossiers are the dossier numbers of certs, each once, for the audit trail
// (an anonymised certificate has none).
func dossiers(certs ...domain.Certificate) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range certs {
		if c.Dossier != "" && !seen[c.Dossier] {
			seen[c.Dossier] = true
			out = append(out, c.Dossier)
		}
	}
	return out
}

var certificateList = listSpec{fields: store.CertificateFilterFields, columns: store.CertificateOrder, codes: true}

// ListCertificates lists certificates within the caller's scope.
func (s *Service) ListCertificates(ctx context.Context, req *activityv1.ListCertificatesRequest) (*activityv1.ListCertificatesResponse, error) {
	p, vars, err := admit(ctx, activityName, "parent", req.GetParent(), certificateReaders...)
	if err != nil {
		return nil, err
	}
	scope := store.CertificateScope{Org: vars[0], Activity: vars[1]}
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
			return nil, apierr.Denied("an organiser sees only its own participants")
		}
	case auth.RoleAsylumSeeker:
		scope.Dossier = p.Dossier
	}
	q, err := certificateList.parse(req)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListCertificates(ctx, scope, q.filter, q.order, q.page)
	if err != nil {
		return nil, err
	}
	list, next := listing.Trim(q.page, list)
	if err := s.units.AuditRead(ctx, audit.OpList, req.GetParent(), dossiers(list...)...); err != nil {
		return nil, err
	}
	resp := &activityv1.ListCertificatesResponse{NextPageToken: next}
	for _, c := range list {
		resp.Certificates = append(resp.Certificates, certificateToProto(c))
	}
	return resp, nil
}

// RenewCertificate issues the next three-month period.
func (s *Service) RenewCertificate(ctx context.Context, req *activityv1.RenewCertificateRequest) (*activityv1.Certificate, error) {
	return s.changeCertificate(ctx, activityv1.ActivityService_RenewCertificate_FullMethodName, req.GetName(), req.GetRequestId(), "renews its certificates",
		func(w *uow.Work, old domain.Certificate, vars []string) (*activityv1.Certificate, error) {
			a, err := getActivity(ctx, w.Tx, vars[0], vars[1])
			if err != nil {
				return nil, err
			}
			today := s.todayString()
			if err := mayIssue(ctx, w.Tx, a, today); err != nil {
				return nil, badrequest.Prefix("name", err) // the rule concerns the certificate's activity
			}
			if old.Dossier == "" {
				return nil, badrequest.Field("name", "the certificate was anonymised after its retention period; issue a new one")
			}
			c, err := old.Renewal(a, today)
			if err != nil {
				return nil, err
			}
			c.ID = uuid.Must(uuid.NewV7()).String()
			c.CreateTime = s.clock.Now().UTC()
			err = s.store.CreateCertificate(ctx, w.Tx, c)
			if errors.Is(err, store.ErrConflict) {
				return nil, apierr.New(store.ErrConflict, "%s was renewed meanwhile", req.GetName())
			}
			if err != nil {
				return nil, err
			}
			return certificateToProto(c), w.Audit(audit.OpCreate, c.Name(), c.Dossier)
		})
}

// StartParticipation records that the participant started.
func (s *Service) StartParticipation(ctx context.Context, req *activityv1.StartParticipationRequest) (*activityv1.Certificate, error) {
	return s.changeCertificate(ctx, activityv1.ActivityService_StartParticipation_FullMethodName, req.GetName(), req.GetRequestId(), "records participation",
		func(w *uow.Work, c domain.Certificate, _ []string) (*activityv1.Certificate, error) {
			if err := c.Start(); err != nil {
				return nil, err
			}
			if err := store.SaveParticipation(ctx, w.Tx, c, s.clock.Now()); err != nil {
				return nil, err
			}
			return certificateToProto(c), w.Audit(audit.OpUpdate, c.Name(), c.Dossier)
		})
}

// EndParticipation records a drop-out or that the participant never
// started, and publishes ParticipationEnded for Migrationsverket.
func (s *Service) EndParticipation(ctx context.Context, req *activityv1.EndParticipationRequest) (*activityv1.Certificate, error) {
	return s.changeCertificate(ctx, activityv1.ActivityService_EndParticipation_FullMethodName, req.GetName(), req.GetRequestId(), "records participation",
		func(w *uow.Work, c domain.Certificate, _ []string) (*activityv1.Certificate, error) {
			outcome := participationFromProto[req.GetOutcome()]
			if err := c.End(outcome, req.GetEndDate(), s.todayString()); err != nil {
				return nil, err
			}
			now := s.clock.Now()
			if err := store.SaveParticipation(ctx, w.Tx, c, now); err != nil {
				return nil, err
			}
			renewals, err := store.EndRenewals(ctx, w.Tx, c, now)
			if err != nil {
				return nil, err
			}
			for _, r := range append([]domain.Certificate{c}, renewals...) {
				if err := w.Audit(audit.OpUpdate, r.Name(), r.Dossier); err != nil {
					return nil, err
				}
			}
			// The dossier number goes to Migrationsverket only: the
			// notification service routes this event to its inboxes.
			return certificateToProto(c), publish(w, &activityv1.ParticipationEnded{
				Certificate: c.Name(), Activity: c.ActivityName(), DossierNumber: c.Dossier,
				Outcome: participationToProto[c.Participation], EndDate: c.EndDate,
				KommunCode: c.KommunCode, LanCode: c.LanCode,
			})
		})
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
		return nil, apierr.Denied("an asylum seeker may check only their own certificates")
	}
	vars, err := certificateName.Parse("name", req.GetName())
	if err != nil {
		return nil, err
	}
	var v badrequest.Violations
	if _, err := clock.ParseDate(req.GetDate()); err != nil {
		v.Add("date", "must be a real date written YYYY-MM-DD")
	}
	if _, ok := activityName.Match(req.GetActivity()); !ok {
		v.Add("activity", "must be a resource name of the form "+activityName.String())
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var cert *domain.Certificate
	c, err := s.store.GetCertificate(ctx, vars[0], vars[1], vars[2])
	switch {
	case err == nil:
		cert = &c
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	reasons := domain.Check(cert, req.GetDossierNumber(), req.GetActivity(), req.GetDate())
	resp := &activityv1.CheckCertificateResponse{Valid: len(reasons) == 0, Reasons: reasons}
	if cert != nil && cert.Dossier != "" && cert.Dossier == req.GetDossierNumber() {
		// Details only about the certificate's own participant; reading
		// them is a read of that person's participation.
		if err := s.units.AuditRead(ctx, audit.OpRead, cert.Name(), cert.Dossier); err != nil {
			return nil, err
		}
		resp.KommunCode = cert.KommunCode
		resp.ParticipationEndDate = cert.EndDate
	}
	return resp, nil
}
