package dispatch

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/wneessen/go-mail"
)

// SMTPMailer sends email through one SMTP server, with STARTTLS when the
// server offers it.
type SMTPMailer struct {
	// Addr is host:port.
	Addr string
	// From is the sender address.
	From string
	// Username and Password authenticate, when set.
	Username, Password string
	// Timeout bounds one conversation.
	Timeout time.Duration
}

// Send sends one plain-text email.
func (m SMTPMailer) Send(ctx context.Context, to, subject, body string, headers map[string]string) error {
	host, portStr, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return fmt.Errorf("smtp address %q: %w", m.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("smtp port %q: %w", portStr, err)
	}
	opts := []mail.Option{mail.WithPort(port), mail.WithTLSPolicy(mail.TLSOpportunistic), mail.WithTimeout(m.timeout())}
	if m.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(m.Username), mail.WithPassword(m.Password))
	}
	c, err := mail.NewClient(host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	msg := mail.NewMsg()
	if err := msg.From(m.From); err != nil {
		return fmt.Errorf("smtp from %q: %w", m.From, err)
	}
	if err := msg.To(to); err != nil {
		return &Failure{Summary: "refused: not an email address", Permanent: true, Cause: err}
	}
	msg.Subject(subject)
	for k, v := range headers {
		msg.SetGenHeader(mail.Header(k), v)
	}
	msg.SetBodyString(mail.TypeTextPlain, body)
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return &Failure{Summary: "failed", Cause: fmt.Errorf("smtp: %w", err)}
	}
	return nil
}

func (m SMTPMailer) timeout() time.Duration {
	if m.Timeout > 0 {
		return m.Timeout
	}
	return 30 * time.Second
}
