package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/tia-platform/tia/services/platform/listing"
	"github.com/tia-platform/tia/services/platform/records"
)

// Channels and states as stored.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"

	StatePending      = "pending"
	StateDelivered    = "delivered"
	StateDeadLettered = "dead_lettered"
)

// Delivery is one message on its way through one channel to one target.
type Delivery struct {
	ID            string         `db:"id"`
	Recipient     string         `db:"recipient"`
	MessageID     string         `db:"message_id"`
	Channel       string         `db:"channel"`
	Target        string         `db:"target"`
	WebhookID     string         `db:"webhook_id"`
	State         string         `db:"state"`
	Attempts      int            `db:"attempts"`
	NextAttemptMS int64          `db:"next_attempt_ms"`
	LastError     string         `db:"last_error"`
	DeliverTime   sql.NullString `db:"deliver_time"`
	DeadTime      sql.NullString `db:"dead_time"`
	CreateTime    string         `db:"create_time"`
}

const deliveryColumns = "id, recipient, message_id, channel, target, webhook_id, state, attempts, next_attempt_ms, last_error, deliver_time, dead_time, create_time"

// Enqueue writes pending deliveries within tx (their message's
// transaction), up to enqueueRows in one statement: a message to a
// recipient with many webhooks is one round trip, not one per webhook.
func Enqueue(ctx context.Context, tx Tx, ds ...Delivery) error {
	for chunk := range slices.Chunk(ds, enqueueRows) {
		rows := make([]Delivery, len(chunk))
		for i, d := range chunk {
			d.State = StatePending
			rows[i] = d
		}
		_, err := sqlx.NamedExecContext(ctx, tx, "INSERT INTO deliveries ("+deliveryColumns+") VALUES "+
			"(:id, :recipient, :message_id, :channel, :target, :webhook_id, :state, :attempts, :next_attempt_ms, :last_error, :deliver_time, :dead_time, :create_time)", rows)
		if err != nil {
			return fmt.Errorf("enqueue %d deliveries: %w", len(rows), err)
		}
	}
	return nil
}

// enqueueRows bounds one INSERT's rows: 13 parameters each stay far below
// SQLite's and PostgreSQL's limits on a statement's parameters.
const enqueueRows = 500

// DeliveriesOf returns the deliveries of some messages of one recipient,
// by message id.
func (s *Store) DeliveriesOf(ctx context.Context, recipient string, messageIDs []string) (map[string][]Delivery, error) {
	out := map[string][]Delivery{}
	if len(messageIDs) == 0 {
		return out, nil
	}
	q, args, err := sqlx.In("SELECT "+deliveryColumns+" FROM deliveries WHERE recipient = ? AND message_id IN (?) ORDER BY create_time, id", recipient, messageIDs)
	if err != nil {
		return nil, err
	}
	var list []Delivery
	if err := s.db.SelectContext(ctx, &list, s.db.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	for _, d := range list {
		out[d.MessageID] = append(out[d.MessageID], d)
	}
	return out, nil
}

// DeliveriesOfMessages returns the deliveries of messages (of one or more
// recipients), by message id.
func (s *Store) DeliveriesOfMessages(ctx context.Context, messages []Message) (map[string][]Delivery, error) {
	byRecipient := map[string][]string{}
	for _, m := range messages {
		byRecipient[m.Recipient] = append(byRecipient[m.Recipient], m.ID)
	}
	out := map[string][]Delivery{}
	for recipient, ids := range byRecipient {
		got, err := s.DeliveriesOf(ctx, recipient, ids)
		if err != nil {
			return nil, err
		}
		for id, ds := range got {
			out[id] = ds
		}
	}
	return out, nil
}

// DeadLetters lists a recipient's dead-lettered deliveries, newest first.
func (s *Store) DeadLetters(ctx context.Context, recipient string, page listing.Page) ([]Delivery, error) {
	return records.All[Delivery](ctx, s.db, "list dead letters",
		"SELECT "+deliveryColumns+" FROM deliveries WHERE recipient = ? AND state = ? ORDER BY dead_time DESC, id DESC LIMIT ? OFFSET ?",
		recipient, StateDeadLettered, page.Limit(), page.Offset)
}

// GetDelivery returns one delivery of a message.
func GetDelivery(ctx context.Context, q Tx, recipient, messageID, id string) (Delivery, error) {
	return records.One[Delivery](ctx, q, "delivery",
		"SELECT "+deliveryColumns+" FROM deliveries WHERE recipient = ? AND message_id = ? AND id = ?", recipient, messageID, id)
}

// ErrNotDeadLettered is returned when replaying a delivery that is not in
// the dead-letter list.
var ErrNotDeadLettered = errors.New("delivery is not dead-lettered")

// Replay puts a dead-lettered delivery back in the queue within tx, due
// now, with a fresh count of tries.
func Replay(ctx context.Context, tx Tx, recipient, messageID, id string, now time.Time) (Delivery, error) {
	res, err := tx.ExecContext(ctx, tx.Rebind("UPDATE deliveries SET state = ?, attempts = 0, next_attempt_ms = ?, dead_time = NULL "+
		"WHERE recipient = ? AND message_id = ? AND id = ? AND state = ?"),
		StatePending, now.UnixMilli(), recipient, messageID, id, StateDeadLettered)
	if err != nil {
		return Delivery{}, fmt.Errorf("replay: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		d, err := GetDelivery(ctx, tx, recipient, messageID, id)
		if err != nil {
			return Delivery{}, err
		}
		return d, ErrNotDeadLettered
	}
	return GetDelivery(ctx, tx, recipient, messageID, id)
}

// Job is a claimed delivery with what is needed to send it.
type Job struct {
	Delivery
	Message Message
	// Webhook is set for webhook deliveries whose webhook still exists.
	Webhook *Webhook
}

// Claim takes up to limit due deliveries for this dispatcher in one
// statement: each one's next try is pushed lease into the future, so
// another dispatcher (another replica) does not take it too; a crash leaves
// it to be retried after the lease. The outer conditions are checked again
// on each row, so two dispatchers never claim the same row.
func (s *Store) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]Job, error) {
	var claimed []Delivery
	q := s.db.Rebind("UPDATE deliveries SET next_attempt_ms = ? WHERE id IN " +
		"(SELECT id FROM deliveries WHERE state = ? AND next_attempt_ms <= ? ORDER BY next_attempt_ms LIMIT ?) " +
		"AND state = ? AND next_attempt_ms <= ? RETURNING " + deliveryColumns)
	nowMS := now.UnixMilli()
	if err := s.db.SelectContext(ctx, &claimed, q, now.Add(lease).UnixMilli(), StatePending, nowMS, limit, StatePending, nowMS); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	if len(claimed) == 0 {
		return nil, nil
	}
	// The messages and webhooks the deliveries need, a query or two per
	// recipient (by primary key).
	type key struct{ recipient, id string }
	messages := map[key]Message{}
	hooks := map[key]*Webhook{}
	msgIDs, hookIDs := map[string][]string{}, map[string][]string{}
	for _, d := range claimed {
		msgIDs[d.Recipient] = append(msgIDs[d.Recipient], d.MessageID)
		if d.Channel == ChannelWebhook {
			hookIDs[d.Recipient] = append(hookIDs[d.Recipient], d.WebhookID)
		}
	}
	for recipient, ids := range msgIDs {
		var ms []Message
		if err := s.selectIn(ctx, &ms, "SELECT "+columns+" FROM messages WHERE recipient = ? AND id IN (?)", recipient, ids); err != nil {
			return nil, fmt.Errorf("claimed messages: %w", err)
		}
		for _, m := range ms {
			messages[key{m.Recipient, m.ID}] = m
		}
	}
	for recipient, ids := range hookIDs {
		var ws []Webhook
		if err := s.selectIn(ctx, &ws, "SELECT "+webhookColumns+" FROM webhooks WHERE recipient = ? AND id IN (?)", recipient, ids); err != nil {
			return nil, fmt.Errorf("claimed webhooks: %w", err)
		}
		for i := range ws {
			hooks[key{ws[i].Recipient, ws[i].ID}] = &ws[i]
		}
	}
	jobs := make([]Job, 0, len(claimed))
	for _, d := range claimed {
		j := Job{Delivery: d, Message: messages[key{d.Recipient, d.MessageID}]}
		if d.Channel == ChannelWebhook {
			j.Webhook = hooks[key{d.Recipient, d.WebhookID}] // nil: deleted since
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// selectIn runs a query with a recipient and one IN (?) list of distinct
// ids.
func (s *Store) selectIn(ctx context.Context, dest any, query, recipient string, ids []string) error {
	seen := map[string]bool{}
	var distinct []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			distinct = append(distinct, id)
		}
	}
	q, args, err := sqlx.In(query, recipient, distinct)
	if err != nil {
		return err
	}
	return s.db.SelectContext(ctx, dest, s.db.Rebind(q), args...)
}

// Delivered records the success of deliveries, each after its number of
// tries.
func (s *Store) Delivered(ctx context.Context, attempts map[string]int, now time.Time) error {
	byAttempts := map[int][]string{}
	for id, n := range attempts {
		byAttempts[n] = append(byAttempts[n], id)
	}
	for n, ids := range byAttempts {
		q, args, err := sqlx.In("UPDATE deliveries SET state = ?, attempts = ?, deliver_time = ?, last_error = '' WHERE id IN (?)",
			StateDelivered, n, now.UTC().Format(time.RFC3339Nano), ids)
		if err != nil {
			return err
		}
		if _, err := s.db.ExecContext(ctx, s.db.Rebind(q), args...); err != nil {
			return fmt.Errorf("record deliveries: %w", err)
		}
	}
	return nil
}

// Failed records a failed try: the delivery is due again at next, or, when
// next is zero, dead-lettered.
func (s *Store) Failed(ctx context.Context, id string, attempts int, cause string, next time.Time, now time.Time) error {
	if len(cause) > 1000 {
		cause = cause[:1000]
	}
	var err error
	if next.IsZero() {
		_, err = s.db.ExecContext(ctx, s.db.Rebind("UPDATE deliveries SET state = ?, attempts = ?, last_error = ?, dead_time = ? WHERE id = ?"),
			StateDeadLettered, attempts, cause, now.UTC().Format(time.RFC3339Nano), id)
	} else {
		_, err = s.db.ExecContext(ctx, s.db.Rebind("UPDATE deliveries SET attempts = ?, last_error = ?, next_attempt_ms = ? WHERE id = ?"),
			attempts, cause, next.UnixMilli(), id)
	}
	if err != nil {
		return fmt.Errorf("record failed delivery: %w", err)
	}
	return nil
}

// Queryer is a database or a transaction.
type Queryer = records.Queryer

// Subscription is a recipient's choice for one topic.
type Subscription struct {
	Recipient    string `db:"recipient"`
	Topic        string `db:"topic"`
	Channels     string `db:"channels"` // comma-separated: email,webhook
	Language     string `db:"language"`
	EmailAddress string `db:"email_address"`
}

// HasChannel reports whether the subscription includes channel.
func (s Subscription) HasChannel(channel string) bool {
	for _, c := range strings.Split(s.Channels, ",") {
		if c == channel {
			return true
		}
	}
	return false
}

// GetSubscription returns a recipient's subscription to topic, or the
// default (inbox only, Swedish) with found false.
func GetSubscription(ctx context.Context, q Queryer, recipient, topic string) (sub Subscription, found bool, err error) {
	err = sqlx.GetContext(ctx, q, &sub, q.Rebind(
		"SELECT recipient, topic, channels, language, email_address FROM subscriptions WHERE recipient = ? AND topic = ?"), recipient, topic)
	if errors.Is(err, sql.ErrNoRows) {
		return Subscription{Recipient: recipient, Topic: topic, Language: "sv"}, false, nil
	}
	if err != nil {
		return Subscription{}, false, fmt.Errorf("get subscription: %w", err)
	}
	return sub, true, nil
}

// PutSubscription creates or replaces a subscription within tx.
func PutSubscription(ctx context.Context, tx Tx, sub Subscription) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM subscriptions WHERE recipient = ? AND topic = ?"), sub.Recipient, sub.Topic); err != nil {
		return fmt.Errorf("put subscription: %w", err)
	}
	_, err := sqlx.NamedExecContext(ctx, tx, "INSERT INTO subscriptions (recipient, topic, channels, language, email_address) "+
		"VALUES (:recipient, :topic, :channels, :language, :email_address)", sub)
	if err != nil {
		return fmt.Errorf("put subscription: %w", err)
	}
	return nil
}

// ListSubscriptions lists a recipient's subscriptions by topic.
func (s *Store) ListSubscriptions(ctx context.Context, recipient string, page listing.Page) ([]Subscription, error) {
	return records.All[Subscription](ctx, s.db, "list subscriptions",
		"SELECT recipient, topic, channels, language, email_address FROM subscriptions WHERE recipient = ? ORDER BY topic LIMIT ? OFFSET ?",
		recipient, page.Limit(), page.Offset)
}

// Webhook is a recipient's HTTPS endpoint.
type Webhook struct {
	Recipient   string `db:"recipient"`
	ID          string `db:"id"`
	URL         string `db:"url"`
	Description string `db:"description"`
	Secret      string `db:"secret"`
	CreateTime  string `db:"create_time"`
}

const webhookColumns = "recipient, id, url, description, secret, create_time"

// CreateWebhook stores a webhook within tx.
func CreateWebhook(ctx context.Context, tx Tx, w Webhook) error {
	_, err := sqlx.NamedExecContext(ctx, tx, "INSERT INTO webhooks ("+webhookColumns+") VALUES (:recipient, :id, :url, :description, :secret, :create_time)", w)
	if err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	return nil
}

// Webhooks lists a recipient's webhooks, oldest first.
func Webhooks(ctx context.Context, q Queryer, recipient string, limit int, offset int64) ([]Webhook, error) {
	return records.All[Webhook](ctx, q, "list webhooks",
		"SELECT "+webhookColumns+" FROM webhooks WHERE recipient = ? ORDER BY create_time, id LIMIT ? OFFSET ?", recipient, limit, offset)
}

// ListWebhooks lists a page of a recipient's webhooks.
func (s *Store) ListWebhooks(ctx context.Context, recipient string, page listing.Page) ([]Webhook, error) {
	return Webhooks(ctx, s.db, recipient, page.Limit(), page.Offset)
}

// GetWebhook returns one webhook.
func (s *Store) GetWebhook(ctx context.Context, recipient, id string) (Webhook, error) {
	return records.One[Webhook](ctx, s.db, "webhook", "SELECT "+webhookColumns+" FROM webhooks WHERE recipient = ? AND id = ?", recipient, id)
}

// DeleteWebhook removes a webhook within tx.
func DeleteWebhook(ctx context.Context, tx Tx, recipient, id string) error {
	return records.ExecOne(ctx, tx, "delete webhook", "DELETE FROM webhooks WHERE recipient = ? AND id = ?", recipient, id)
}
