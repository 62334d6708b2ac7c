package dispatch

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tia-platform/tia/services/notification/internal/store"
)

// Webhook calls follow the Standard Webhooks specification
// (https://www.standardwebhooks.com), so that a receiver checks them with an
// off-the-shelf verifier library: the headers below, and a signature
// "v1,<base64 HMAC-SHA256>" over "<id>.<timestamp>.<body>" under the
// base64-decoded secret after its "whsec_" prefix.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
	secretPrefix    = "whsec_"
)

// NewSecret returns a new webhook secret: "whsec_" and 32 random bytes in
// base64.
func NewSecret() string {
	var key [32]byte
	_, _ = rand.Read(key[:]) // crypto/rand.Read never fails (Go 1.24+)
	return secretPrefix + base64.StdEncoding.EncodeToString(key[:])
}

// Sign returns the webhook-signature value for a message id, the time of
// sending and the body.
func Sign(secret, id string, t time.Time, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil {
		return "", fmt.Errorf("webhook secret is not base64: %w", err)
	}
	h := hmac.New(sha256.New, key)
	fmt.Fprintf(h, "%s.%d.", id, t.Unix())
	h.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

// WebhookSender POSTs signed messages through a Guard.
type WebhookSender struct {
	Client *http.Client
	Now    func() time.Time
	Guard  *Guard
}

// NewWebhookSender returns a sender whose requests time out after timeout
// and connect only where guard lets them. It uses no proxy from the
// environment (a proxy would connect on its behalf, past the guard) and
// follows no redirect (the 3xx answer is a failed try).
func NewWebhookSender(timeout time.Duration, guard *Guard) *WebhookSender {
	if guard == nil {
		guard = NewGuard(nil)
	}
	transport := &http.Transport{
		Proxy:             nil,
		DialContext:       guard.DialContext,
		ForceAttemptHTTP2: true,
		// Keep a connection per send in flight even when many webhooks
		// share a host (one subscriber's integration server, say): with
		// the default of 2 per host, a fan-out to one host opens a new
		// connection for almost every delivery.
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	client := &http.Client{
		Timeout:       timeout,
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &WebhookSender{Client: client, Now: time.Now, Guard: guard}
}

// Send POSTs body to the webhook; any 2xx answer is success. deliveryID is
// the webhook-id: the same on every retry, so a receiver drops a delivery
// it already has.
func (s *WebhookSender) Send(ctx context.Context, w store.Webhook, deliveryID string, body []byte) error {
	now := s.Now()
	sig, err := Sign(w.Secret, deliveryID, now, body)
	if err != nil {
		return &Failure{Summary: "failed", Permanent: true, Cause: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return &Failure{Summary: "failed", Permanent: true, Cause: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tia-notification")
	req.Header.Set(HeaderID, deliveryID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	resp, err := s.Client.Do(req)
	if errors.Is(err, ErrRefused) {
		// Retrying cannot make a private address public; and a quick
		// dead letter gives a prober nothing to time.
		return &Failure{Summary: "refused", Permanent: true, Cause: err}
	}
	if err != nil {
		return &Failure{Summary: "failed", Cause: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return &Failure{Summary: fmt.Sprintf("failed: HTTP %dxx", resp.StatusCode/100), Cause: fmt.Errorf("webhook answered HTTP %d", resp.StatusCode)}
	}
	return nil
}

// Failure is a failed try: Summary is all the subscriber is told (stored as
// the delivery's last error), Cause is for the log.
type Failure struct {
	Summary   string
	Permanent bool
	Cause     error
}

func (f *Failure) Error() string { return f.Summary + ": " + f.Cause.Error() }
func (f *Failure) Unwrap() error { return f.Cause }

// summary is what is stored of a failed try: never the target's answer, its
// TLS details or the addresses tried.
func summary(err error) string {
	var f *Failure
	if errors.As(err, &f) {
		return f.Summary
	}
	return "failed"
}

// permanent reports whether no retry can mend err.
func permanent(err error) bool {
	var f *Failure
	return errors.As(err, &f) && f.Permanent
}
