package dispatch

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tia-platform/tia/services/notification/internal/store"
)

// SignatureHeader carries the webhook signature:
// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`.
const SignatureHeader = "Tia-Signature"

// Sign returns the value of SignatureHeader for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte("."))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Verify checks a SignatureHeader value against body, and that it was made
// within tolerance of now, as a receiver should.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return fmt.Errorf("malformed %s header", SignatureHeader)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("signature timestamp is %v off", d)
	}
	if !hmac.Equal([]byte(sig), []byte(mac(secret, ts, body))) {
		return fmt.Errorf("signature does not match")
	}
	return nil
}

// WebhookSender POSTs signed messages.
type WebhookSender struct {
	Client *http.Client
	Now    func() time.Time
}

// NewWebhookSender returns a sender whose requests time out after timeout.
func NewWebhookSender(timeout time.Duration) *WebhookSender {
	return &WebhookSender{Client: &http.Client{Timeout: timeout}, Now: time.Now}
}

// Send POSTs body to the webhook; any 2xx answer is success.
func (s *WebhookSender) Send(ctx context.Context, w store.Webhook, deliveryID string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tia-notification")
	// Receivers can drop a delivery they already have (after a retry whose
	// answer was lost) by this id.
	req.Header.Set("Tia-Delivery", deliveryID)
	req.Header.Set(SignatureHeader, Sign(w.Secret, s.Now(), body))
	resp, err := s.Client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered HTTP %d", resp.StatusCode)
	}
	return nil
}
