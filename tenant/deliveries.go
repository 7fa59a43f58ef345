package tenant

import (
	"encoding/json"
	"io"
	"strconv"
	"time"
)

// DeliveryStatus is where a webhook delivery stands.
type DeliveryStatus string

// The states of a delivery: PENDING until an attempt succeeds (SUCCEEDED)
// or the retry schedule is exhausted (FAILED).
const (
	DeliveryPending   DeliveryStatus = "PENDING"
	DeliverySucceeded DeliveryStatus = "SUCCEEDED"
	DeliveryFailed    DeliveryStatus = "FAILED"
)

// UnmarshalGQL decodes the GraphQL enum WebhookDeliveryStatus.
func (s *DeliveryStatus) UnmarshalGQL(v any) error {
	str, _ := v.(string)
	switch DeliveryStatus(str) {
	case DeliveryPending, DeliverySucceeded, DeliveryFailed:
		*s = DeliveryStatus(str)
		return nil
	}
	return Invalid("filter.status", "filter.status must be PENDING, SUCCEEDED or FAILED, got %q", str)
}

// MarshalGQL encodes the GraphQL enum WebhookDeliveryStatus.
func (s DeliveryStatus) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// DeliveryChannel is how a delivery reaches the tenant.
type DeliveryChannel string

// The channels: an HTTPS POST to the webhookUrl, or a message to one
// address of the channels' emails.
const (
	ChannelWebhook DeliveryChannel = "WEBHOOK"
	ChannelEmail   DeliveryChannel = "EMAIL"
)

// UnmarshalGQL decodes the GraphQL enum DeliveryChannel.
func (c *DeliveryChannel) UnmarshalGQL(v any) error {
	str, _ := v.(string)
	switch DeliveryChannel(str) {
	case ChannelWebhook, ChannelEmail:
		*c = DeliveryChannel(str)
		return nil
	}
	return Invalid("filter.channel", "filter.channel must be WEBHOOK or EMAIL, got %q", str)
}

// MarshalGQL encodes the GraphQL enum DeliveryChannel.
func (c DeliveryChannel) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(c))) }

// MailtoPrefix starts the url of an email delivery: mailto:<address>.
const MailtoPrefix = "mailto:"

// EmailedAlways lists the event types (wire names) mailed to every address
// of a tenant's channels whether or not they subscribe to them.
var EmailedAlways = []string{"webhook_endpoint.disabled"}

// WebhookDelivery is one event owed to one endpoint (a webhook URL or an
// email address), with its attempts.
type WebhookDelivery struct {
	TenantID      string          `db:"tenant_id"`
	ID            string          `db:"id"` // a UUIDv7: sorts by time
	EventID       string          `db:"event_id"`
	EventType     string          `db:"event_type"` // the wire name
	Channel       DeliveryChannel `db:"channel"`
	URL           string          `db:"url"` // mailto:<address> for an email
	Status        DeliveryStatus  `db:"status"`
	AttemptCount  int             `db:"attempts"`
	CreatedAt     time.Time       `db:"created_at"`
	NextAttemptAt *time.Time      `db:"next_attempt_at"` // nil once no attempt is due
	Attempts      []*WebhookAttempt
}

// MaxDeliveryAttemptsShown is the most attempts a delivery lists, oldest
// first: the retry schedule has 8, and a worker that lost its lease may log
// one more for each; the rest stay in the database.
const MaxDeliveryAttemptsShown = 20

// WebhookAttempt is one attempt of a delivery: an HTTP request, or an SMTP
// transaction (HTTPStatus nil, ResponseBody the server's reply).
type WebhookAttempt struct {
	DeliveryID   string    `db:"delivery_id"`
	At           time.Time `db:"at"`
	HTTPStatus   *int      `db:"http_status"` // nil: no response arrived
	LatencyMs    int       `db:"latency_ms"`
	ResponseBody *string   `db:"response_body"` // the first 1 KB
	Error        *string   `db:"error"`
}

// DeliveryFilter narrows a delivery log. All given conditions must hold.
type DeliveryFilter struct {
	Status    *DeliveryStatus
	Channel   *DeliveryChannel
	EventType string // a wire name, or ""
}

// DeliveryQuery is a page request of a delivery log, newest first.
type DeliveryQuery struct {
	Page   Page // its cursor is a delivery id
	Filter DeliveryFilter
}

// MaxDeliveryPage bounds a page of deliveries.
const MaxDeliveryPage = 100

// Validate checks the page size.
func (q *DeliveryQuery) Validate() error {
	return q.Page.Check(MaxDeliveryPage)
}

// DeliveryPage is one page of one tenant's delivery log, newest first.
type DeliveryPage struct {
	TenantID   string
	Deliveries []*WebhookDelivery
	PageEnds
}

// DueDelivery is a delivery a worker claimed: what it needs to make one
// attempt. Lease identifies the claim; recording the attempt under a lease
// another worker has since taken over changes nothing but the log.
type DueDelivery struct {
	TenantID   string          `db:"tenant_id"`
	TenantName string          `db:"tenant_name"`
	ID         string          `db:"id"`
	Channel    DeliveryChannel `db:"channel"`
	EventID    string          `db:"event_id"`
	EventType  string          `db:"event_type"`
	OccurredAt time.Time       `db:"occurred_at"`
	Payload    json.RawMessage `db:"payload"`
	URL        string          `db:"url"`
	Attempts   int             `db:"attempts"` // made before this one
	Lease      string          `db:"lease"`
}

// WireTypes maps each NotificationEvent name (SUBSCRIPTION_CHANGED) to its
// wire name (subscription.changed), in two parallel lists for SQL.
func WireTypes() (names, wires []string) {
	for _, e := range AllNotificationEvents {
		names = append(names, string(e))
		wires = append(wires, e.Type())
	}
	return names, wires
}

// MaxReplayEvents bounds replayEvents: a replay that would queue more
// events is refused (narrow it with a later since or fewer types).
const MaxReplayEvents = 1000

// ReplayQuery is which events of a tenant's log replayEvents queues again.
type ReplayQuery struct {
	Since time.Time
	Types []string // wire names; empty: every type
}

// Validate checks the types filter (at most 50, like an event filter).
func (q *ReplayQuery) Validate() error {
	if n := len(q.Types); n > maxEventFilterTypes {
		return Invalid("types", "types takes at most %d types, got %d", maxEventFilterTypes, n)
	}
	return nil
}

// ReplayResult is what replayEvents did.
type ReplayResult struct {
	TenantID string
	// Queued is how many new deliveries were queued.
	Queued int `db:"queued"`
	// Skipped is how many of the matching events already had a delivery to
	// the webhookUrl waiting for its first attempt (not queued again).
	Skipped int `db:"skipped"`
}
