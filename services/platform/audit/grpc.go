package audit

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	auditv1 "github.com/tia-platform/tia/proto/gen/tia/audit/v1"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/dossier"
)

// Search answers SearchAuditEntries for the service whose trail t is:
// Migrationsverket lists the trail of any person by dossier number; an
// asylum seeker lists who has read or changed their own data (GDPR art. 15).
// Nobody else may read a trail. The search itself is recorded.
func (t *Trail) Search(ctx context.Context, req *auditv1.SearchAuditEntriesRequest) (*auditv1.SearchAuditEntriesResponse, error) {
	p, err := auth.Require(ctx, auth.RoleMigrationsverket, auth.RoleAsylumSeeker)
	if err != nil {
		return nil, err
	}
	dossier := dossier.Normalize(req.GetDossierNumber())
	switch {
	case p.Role == auth.RoleAsylumSeeker && dossier != "" && dossier != p.Dossier:
		return nil, apierr.Denied("an asylum seeker sees only the trail of their own data")
	case p.Role == auth.RoleAsylumSeeker:
		dossier = p.Dossier
	case dossier == "":
		return nil, badrequest.Field("dossierNumber", "name the person whose trail you want")
	}
	size := int(req.GetPageSize())
	if size <= 0 {
		size = 50
	}
	size = min(size, 1000)
	var after int64
	if tok := req.GetPageToken(); tok != "" {
		var ok bool
		if after, ok = parseCursor(tok); !ok {
			return nil, badrequest.Field("pageToken", "not a page token from this trail")
		}
	}
	entries, err := t.ListByPerson(ctx, dossier, after, size+1)
	if err != nil {
		return nil, err
	}
	resp := &auditv1.SearchAuditEntriesResponse{}
	if len(entries) > size {
		entries = entries[:size]
		resp.NextPageToken = cursor(entries[size-1].Seq)
	}
	for _, e := range entries {
		resp.AuditEntries = append(resp.AuditEntries, e.Proto())
	}
	if err := t.Record(ctx, t.Entry(ctx, OpList, req.GetParent(), dossier)); err != nil {
		return nil, err
	}
	return resp, nil
}

// VerifyTrail answers VerifyAuditTrail: Migrationsverket (the controller of
// the personal data) may check any service's chain.
func (t *Trail) VerifyTrail(ctx context.Context, _ *auditv1.VerifyAuditTrailRequest) (*auditv1.VerifyAuditTrailResponse, error) {
	if _, err := auth.Require(ctx, auth.RoleMigrationsverket); err != nil {
		return nil, err
	}
	rep, err := t.Verify(ctx)
	if err != nil {
		return nil, err
	}
	return &auditv1.VerifyAuditTrailResponse{Intact: rep.OK(), EntriesChecked: rep.Checked, BrokenAt: rep.BrokenAt, Reason: rep.Reason}, nil
}

// Proto is the API form of an entry.
func (e Entry) Proto() *auditv1.AuditEntry {
	at, _ := time.Parse(time.RFC3339Nano, e.At)
	return &auditv1.AuditEntry{
		Sequence: e.Seq, Time: timestamppb.New(at), Subject: e.Subject, Role: e.Role, Scope: e.Scope,
		Operation: e.Operation, Resource: e.Resource, Person: e.Person, TraceId: e.TraceID,
		Hash: e.Hash, PreviousHash: e.PrevHash,
	}
}
