package travel

import (
	"bufio"
	"bytes"
	"context"
	"errors"

	"github.com/google/uuid"
	"google.golang.org/grpc"

	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/apierr"
	"github.com/tia-platform/tia/services/platform/audit"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/uow"
	"github.com/tia-platform/tia/services/travel/internal/domain"
	"github.com/tia-platform/tia/services/travel/internal/store"
)

// CreatePaymentRun starts a run, which the payment runner executes in the
// background, and returns it RUNNING. A run already RUNNING is returned
// instead of a second one; a repeat with the same request id returns the
// run it started.
func (s *Service) CreatePaymentRun(ctx context.Context, req *travelv1.CreatePaymentRunRequest) (*travelv1.PaymentRun, error) {
	if _, err := auth.Require(ctx, auth.RoleMigrationsverket); err != nil {
		return nil, err
	}
	if id := req.GetRequestId(); id != "" {
		prev, err := s.store.RunByRequest(ctx, id)
		if err == nil {
			return runToProto(prev), nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	run := domain.PaymentRun{ID: uuid.Must(uuid.NewV7()).String(), State: domain.RunRunning, RequestID: req.GetRequestId(), CreateTime: s.clock.Now().UTC()}
	err := s.units.Do(ctx, func(w *uow.Work) error { return store.CreateRun(ctx, w.Tx, run) })
	if errors.Is(err, store.ErrExists) {
		if id := req.GetRequestId(); id != "" {
			if prev, err := s.store.RunByRequest(ctx, id); err == nil {
				return runToProto(prev), nil
			}
		}
		running, err := s.store.RunningRuns(ctx)
		if err != nil {
			return nil, err
		}
		if len(running) == 0 {
			return nil, apierr.New(apierr.ErrAborted, "a payment run completed meanwhile; try again")
		}
		run = running[0]
	} else if err != nil {
		return nil, err
	}
	s.payments.Wake()
	return runToProto(run), nil
}

// GetPaymentRun returns one run.
func (s *Service) GetPaymentRun(ctx context.Context, req *travelv1.GetPaymentRunRequest) (*travelv1.PaymentRun, error) {
	run, err := s.run(ctx, req.GetName(), false)
	if err != nil {
		return nil, err
	}
	return runToProto(run), nil
}

// ListPaymentRuns lists runs, oldest first.
func (s *Service) ListPaymentRuns(ctx context.Context, req *travelv1.ListPaymentRunsRequest) (*travelv1.ListPaymentRunsResponse, error) {
	if _, err := auth.Require(ctx, auth.RoleMigrationsverket); err != nil {
		return nil, err
	}
	page, err := listing.ParsePage(req)
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListRuns(ctx, page)
	if err != nil {
		return nil, err
	}
	runs, next := listing.Items(page, list, runToProto)
	return &travelv1.ListPaymentRunsResponse{PaymentRuns: runs, NextPageToken: next}, nil
}

// GetPaymentFile returns the pain.001 document of a completed run. It holds
// dossier numbers: Migrationsverket only.
func (s *Service) GetPaymentFile(ctx context.Context, req *travelv1.GetPaymentFileRequest) (*travelv1.PaymentFile, error) {
	run, err := s.completedRun(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	if err := s.auditFileRead(ctx, req.GetName(), run); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := paymentFile(ctx, s.store, s.opts.Debtor, run, &buf); err != nil {
		return nil, err
	}
	return &travelv1.PaymentFile{Name: req.GetName(), ContentType: "application/xml", Content: buf.Bytes()}, nil
}

// DownloadPaymentFile streams the pain.001 document of a completed run in
// pieces of at most chunkSize bytes, written from the database row by row:
// memory stays flat whatever the size of the run. The read of every person's
// data is recorded before the first byte leaves, so a download cut short is
// still in the audit trail.
func (s *Service) DownloadPaymentFile(req *travelv1.DownloadPaymentFileRequest, stream grpc.ServerStreamingServer[travelv1.PaymentFileChunk]) error {
	ctx := stream.Context()
	run, err := s.completedRun(ctx, req.GetName())
	if err != nil {
		return err
	}
	if err := s.auditFileRead(ctx, req.GetName(), run); err != nil {
		return err
	}
	w := bufio.NewWriterSize(chunkWriter(func(p []byte) error {
		return stream.Send(&travelv1.PaymentFileChunk{ContentType: "application/xml", Data: p})
	}), chunkSize)
	if err := paymentFile(ctx, s.store, s.opts.Debtor, run, w); err != nil {
		return err
	}
	return w.Flush()
}

// auditFileRead records the read of every payee's data in the payment file
// name of run, before any of it is sent (both readers of the file do this
// first, so a download cut short is still in the trail).
func (s *Service) auditFileRead(ctx context.Context, name string, run domain.PaymentRun) error {
	dossiers, err := s.store.PaymentDossiers(ctx, run.ID)
	if err != nil {
		return err
	}
	return s.units.AuditRead(ctx, audit.OpRead, name, dossiers...)
}

// chunkSize is the largest piece of a streamed payment file (a variable
// for tests).
var chunkSize = 64 << 10

// chunkWriter sends what is written to it as one piece; behind a
// bufio.Writer of chunkSize it gets full pieces, and the rest at Flush.
type chunkWriter func([]byte) error

func (c chunkWriter) Write(p []byte) (int, error) {
	for n := 0; n < len(p); n += chunkSize {
		// The stream may hold on to the message until it is sent: a copy,
		// as bufio.Writer reuses its buffer.
		if err := c(bytes.Clone(p[n:min(n+chunkSize, len(p))])); err != nil {
			return n, err
		}
	}
	return len(p), nil
}

// run admits Migrationsverket, the only reader of payment runs, then loads
// the run name names (file: the name of its payment file).
func (s *Service) run(ctx context.Context, name string, file bool) (domain.PaymentRun, error) {
	if _, err := auth.Require(ctx, auth.RoleMigrationsverket); err != nil {
		return domain.PaymentRun{}, err
	}
	id, ok := domain.ParseRunName(name, file)
	if !ok {
		want := "paymentRuns/{id}"
		if file {
			want += "/file"
		}
		return domain.PaymentRun{}, badrequest.Field("name", "must be "+want)
	}
	run, err := s.store.GetRun(ctx, id)
	return run, notFound(err, name)
}

// completedRun is run for the payment file name names, which only a
// completed run has.
func (s *Service) completedRun(ctx context.Context, name string) (domain.PaymentRun, error) {
	run, err := s.run(ctx, name, true)
	if err != nil {
		return domain.PaymentRun{}, err
	}
	if run.State != domain.RunSucceeded {
		return domain.PaymentRun{}, badrequest.Field("name", "the payment run is still running")
	}
	return run, nil
}

func runToProto(r domain.PaymentRun) *travelv1.PaymentRun {
	out := &travelv1.PaymentRun{
		Name: r.Name(), ClaimCount: r.ClaimCount, TotalOre: r.TotalOre, CreateTime: ts(r.CreateTime),
		CompleteTime: ts(r.CompleteTime),
	}
	switch r.State {
	case domain.RunRunning:
		out.State = travelv1.PaymentRunState_PAYMENT_RUN_STATE_RUNNING
	case domain.RunSucceeded:
		out.State = travelv1.PaymentRunState_PAYMENT_RUN_STATE_SUCCEEDED
		out.MessageId = r.MessageID()
	}
	return out
}
