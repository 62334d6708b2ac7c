package travel

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	travelv1 "github.com/tia-platform/tia/proto/gen/tia/travel/v1"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/badrequest"
	"github.com/tia-platform/tia/services/platform/events"
	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/travel/internal/domain"
	"github.com/tia-platform/tia/services/travel/internal/store"
)

// CreatePaymentRun starts a run in the background and returns it RUNNING.
// A run already RUNNING is returned (and resumed) instead of a second one.
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
	run := domain.PaymentRun{ID: uuid.Must(uuid.NewV7()).String(), State: domain.RunRunning, RequestID: req.GetRequestId(), CreateTime: s.now().UTC()}
	err := s.store.CreateRun(ctx, run)
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
			return nil, status.Error(codes.Aborted, "a payment run completed meanwhile; try again")
		}
		run = running[0]
	} else if err != nil {
		return nil, err
	}
	s.start(run)
	return runToProto(run), nil
}

// start executes run in the background unless this process already does.
// Runs execute one at a time.
func (s *Service) start(run domain.PaymentRun) {
	s.mu.Lock()
	if s.executing[run.ID] || s.closing {
		s.mu.Unlock()
		return
	}
	if s.executing == nil {
		s.executing = map[string]bool{}
	}
	s.executing[run.ID] = true
	s.runs.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.runs.Done()
		defer func() {
			s.mu.Lock()
			delete(s.executing, run.ID)
			s.mu.Unlock()
		}()
		if err := s.ExecuteRun(s.background(), run.ID); err != nil {
			s.log.Error("payment run", "run", run.Name(), "err", err)
		}
	}()
}

// resumeRuns continues runs left RUNNING (by a crash or a restart).
func (s *Service) resumeRuns(ctx context.Context) {
	running, err := s.store.RunningRuns(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "running payment runs", "err", err)
		return
	}
	for _, r := range running {
		s.start(r)
	}
}

// ExecuteRun pays the run's claims batch by batch until none is approved
// and unpaid, then completes it and writes its payment file. Each batch is
// one transaction (payments, claim states, run totals, ClaimPaid events),
// so a run killed at any point resumes where the last commit left it.
func (s *Service) ExecuteRun(ctx context.Context, id string) error {
	s.paying.Lock()
	defer s.paying.Unlock()
	// Batches walk the approved claims in id order; when they run out, one
	// more walk from the start picks up claims approved behind the cursor
	// meanwhile.
	after, fromStart := "", true
	for {
		n, last, err := s.store.PayBatch(ctx, id, after, s.opts.PaymentBatch, s.now(), func(tx *sqlx.Tx, paid []domain.Claim, payments []domain.Payment) error {
			name := domain.PaymentRun{ID: id}.Name()
			msgs := make([]*travelv1.ClaimPaid, len(paid))
			for i, c := range paid {
				msgs[i] = &travelv1.ClaimPaid{Claim: claimToProto(c, ServicePrincipal), PaymentRun: name, AmountOre: payments[i].AmountOre}
			}
			_, err := events.PublishBatch(ctx, tx, SubjectClaimPaid, msgs)
			return err
		})
		if err != nil {
			return err
		}
		s.notify()
		if n > 0 {
			after, fromStart = last, false
			continue
		}
		if fromStart {
			break
		}
		after, fromStart = "", true
	}
	// The file first, then the completion, both with the same time: a
	// crash in between rewrites the file on resume, and the file served by
	// GetPaymentFile is the one written.
	run, err := s.store.GetRun(ctx, id)
	if err != nil || run.State != domain.RunRunning {
		return err
	}
	run.CompleteTime = s.now().UTC()
	run.ClaimCount, run.TotalOre, err = s.store.RunTotals(ctx, id)
	if err != nil {
		return err
	}
	if s.opts.PaymentDir != "" {
		if err := s.writeFile(ctx, run); err != nil {
			return err
		}
	}
	_, err = s.store.CompleteRun(ctx, id, run.CompleteTime)
	return err
}

// writeFile writes the run's payment file into the payment folder,
// atomically (a rename), from the stored payments.
func (s *Service) writeFile(ctx context.Context, run domain.PaymentRun) error {
	if err := os.MkdirAll(s.opts.PaymentDir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(s.opts.PaymentDir, ".pain001-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := s.paymentFile(ctx, run, f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(s.opts.PaymentDir, "pain001-"+run.MessageID()+".xml"))
}

func (s *Service) paymentFile(ctx context.Context, run domain.PaymentRun, w interface{ Write([]byte) (int, error) }) error {
	return s.store.Payments(ctx, run.ID, func(next func() (domain.Payment, bool, error)) error {
		return domain.WritePain001(w, run, s.opts.Debtor, run.ClaimCount, run.TotalOre, next)
	})
}

// GetPaymentRun returns one run.
func (s *Service) GetPaymentRun(ctx context.Context, req *travelv1.GetPaymentRunRequest) (*travelv1.PaymentRun, error) {
	if _, err := auth.Require(ctx, auth.RoleMigrationsverket); err != nil {
		return nil, err
	}
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
	list, next := listing.Trim(page, list)
	resp := &travelv1.ListPaymentRunsResponse{NextPageToken: next}
	for _, r := range list {
		resp.PaymentRuns = append(resp.PaymentRuns, runToProto(r))
	}
	return resp, nil
}

// GetPaymentFile returns the pain.001 document of a completed run. It holds
// dossier numbers: Migrationsverket only.
func (s *Service) GetPaymentFile(ctx context.Context, req *travelv1.GetPaymentFileRequest) (*travelv1.PaymentFile, error) {
	if _, err := auth.Require(ctx, auth.RoleMigrationsverket); err != nil {
		return nil, err
	}
	run, err := s.run(ctx, req.GetName(), true)
	if err != nil {
		return nil, err
	}
	if run.State != domain.RunSucceeded {
		return nil, badrequest.Field("name", "the payment run is still running")
	}
	var buf bytes.Buffer
	if err := s.paymentFile(ctx, run, &buf); err != nil {
		return nil, err
	}
	return &travelv1.PaymentFile{Name: req.GetName(), ContentType: "application/xml", Content: buf.Bytes()}, nil
}

func (s *Service) run(ctx context.Context, name string, file bool) (domain.PaymentRun, error) {
	id, ok := domain.ParseRunName(name, file)
	if !ok {
		want := "paymentRuns/{id}"
		if file {
			want += "/file"
		}
		return domain.PaymentRun{}, badrequest.Field("name", "must be "+want)
	}
	run, err := s.store.GetRun(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return run, status.Errorf(codes.NotFound, "%s not found", name)
	}
	return run, err
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
