package tenant

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// NotificationEvent is something a tenant is told about, by email and
// webhook: every event type of the event log (EventType, by the same name
// and wire name), and four the screening platform writes. The GraphQL enum
// NotificationEvent maps onto these values.
type NotificationEvent string

// The events a tenant could subscribe to first (the others are named by
// the catalog below only).
const (
	EventScreeningCompleted     NotificationEvent = "SCREENING_COMPLETED"
	EventWebValidationCompleted NotificationEvent = "WEB_VALIDATION_COMPLETED"
	EventRiskAlert              NotificationEvent = "RISK_ALERT"
	EventWatchlistMatch         NotificationEvent = "WATCHLIST_MATCH"
	EventWatchlistSeatsLow      NotificationEvent = "WATCHLIST_SEATS_LOW"
	EventCreditsLow             NotificationEvent = "CREDITS_LOW"
	EventQuotaExceeded          NotificationEvent = "QUOTA_EXCEEDED"
	EventSubscriptionChanged    NotificationEvent = "SUBSCRIPTION_CHANGED"
	EventInvoiceIssued          NotificationEvent = "INVOICE_ISSUED"
)

// notificationCatalog is every event with its wire name, in the order the
// schema shows them: the first nine, then the rest of the EventType
// catalog in its order (a test checks each EventType is here, with the
// same wire name).
var notificationCatalog = []struct {
	Event NotificationEvent
	Wire  string
}{
	{EventScreeningCompleted, "screening.completed"},
	{EventWebValidationCompleted, "web_validation.completed"},
	{EventRiskAlert, "risk.alert"},
	{EventWatchlistMatch, "watchlist.match"},
	{EventWatchlistSeatsLow, TypeWatchlistSeatsLow},
	{EventCreditsLow, TypeCreditsLow},
	{EventQuotaExceeded, TypeQuotaExceeded},
	{EventSubscriptionChanged, "subscription.changed"},
	{EventInvoiceIssued, "invoice.issued"},
	{"TENANT_CREATED", "tenant.created"},
	{"TENANT_UPDATED", "tenant.updated"},
	{"TENANT_SUSPENDED", "tenant.suspended"},
	{"TENANT_DELETED", "tenant.deleted"},
	{"TENANT_RESTORED", "tenant.restored"},
	{"SETTINGS_UPDATED", "settings.updated"},
	{"API_KEY_CREATED", "api_key.created"},
	{"API_KEY_UPDATED", "api_key.updated"},
	{"API_KEY_REVOKED", "api_key.revoked"},
	{"SSO_UPDATED", "sso.updated"},
	{"SSO_TESTED", "sso.tested"},
	{"NOTIFICATION_CHANNELS_UPDATED", "notification_channels.updated"},
	{"KEYWORDS_UPDATED", "keywords.updated"},
	{"INDUSTRIES_UPDATED", "industries.updated"},
	{"RISK_MATRIX_UPDATED", "risk_matrix.updated"},
	{"WEBSITE_CONFIG_UPDATED", "website_config.updated"},
	{"WATCHLIST_UPDATED", "watchlist.updated"},
	{"BILLING_UPDATED", "billing.updated"},
	{"INVOICE_PAID", "invoice.paid"},
	{"INVOICE_VOIDED", "invoice.voided"},
	{"CREDITS_GRANTED", "credits.granted"},
	{"USAGE_RECORDED", "usage.recorded"},
	{"QUOTA_THRESHOLD", TypeQuotaThreshold},
	{"API_KEY_EXPIRING", TypeAPIKeyExpiring},
	{"SSO_TEST_FAILED", TypeSSOTestFailed},
	{"PLAN_CHANGE_SCHEDULED", TypePlanChangeScheduled},
	{"PLAN_CHANGE_APPLIED", TypePlanChangeApplied},
	{"WEBHOOK_ENDPOINT_DISABLED", "webhook_endpoint.disabled"},
	{"WEBHOOK_ENDPOINT_ENABLED", "webhook_endpoint.enabled"},
	{"MEMBER_INVITED", "member.invited"},
	{"MEMBER_JOINED", "member.joined"},
	{"MEMBER_ROLE_CHANGED", "member.role_changed"},
	{"MEMBER_DEACTIVATED", "member.deactivated"},
	{"MEMBER_REMOVED", "member.removed"},
	{"MEMBER_UPDATED", "member.updated"},
}

// AllNotificationEvents lists every event, in the order the schema shows them.
var AllNotificationEvents = func() []NotificationEvent {
	out := make([]NotificationEvent, len(notificationCatalog))
	for i, c := range notificationCatalog {
		out[i] = c.Event
	}
	return out
}()

// PlatformEvents are the events the screening platform writes, not this
// API's event log.
var PlatformEvents = []NotificationEvent{EventScreeningCompleted, EventWebValidationCompleted, EventRiskAlert, EventWatchlistMatch}

// Valid reports whether e is a known event.
func (e NotificationEvent) Valid() bool { _, ok := eventTypes[e]; return ok }

// Type is the event's `type` in webhook payloads, Standard Webhooks style
// (SCREENING_COMPLETED -> "screening.completed"); "" for an unknown event.
func (e NotificationEvent) Type() string { return eventTypes[e] }

var eventTypes = func() map[NotificationEvent]string {
	m := make(map[NotificationEvent]string, len(notificationCatalog))
	for _, c := range notificationCatalog {
		m[c.Event] = c.Wire
	}
	return m
}()

// TestWebhookType is the `type` of the event sendTestWebhook delivers.
const TestWebhookType = "webhook.test"

// UnmarshalGQL decodes the GraphQL enum NotificationEvent.
func (e *NotificationEvent) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	if ev := NotificationEvent(s); ev.Valid() {
		*e = ev
		return nil
	}
	return Invalid("events", "%q is not a notification event", s)
}

// MarshalGQL encodes the GraphQL enum NotificationEvent.
func (e NotificationEvent) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(string(e)))
}

// NotificationChannels is where and about what a tenant is notified. A
// tenant that never configured them reads as the defaults: no addresses, no
// webhook, no events, Version 0 with UpdatedAt and UpdatedBy nil; each
// change adds 1.
type NotificationChannels struct {
	TenantID   string
	Emails     []string
	WebhookURL *string
	Events     []NotificationEvent
	// WebhookSecretHint is the masked secret (whsec_…1a2b), nil when none.
	WebhookSecretHint      *string
	WebhookSecretCreatedAt *time.Time
	// PreviousWebhookSecretExpiresAt is when the secret a rotation replaced
	// stops signing deliveries; nil when there is none (or it expired).
	PreviousWebhookSecretExpiresAt *time.Time
	// WebhookDisabledAt is when the webhook endpoint was disabled for
	// failing (nil: it is not), and WebhookDisabledReason why.
	WebhookDisabledAt     *time.Time
	WebhookDisabledReason *string
	Version               int
	UpdatedAt             *time.Time
	UpdatedBy             *string
}

// Limits and formats of notification channels.
const (
	MaxNotificationEmails = 20
	MaxEmailLength        = 254
	MaxWebhookURLLength   = 2048
	// WebhookSecretPrefix starts every webhook signing secret.
	WebhookSecretPrefix = "whsec_"
	// WebhookSecretGrace is how long a rotated-out secret keeps signing
	// deliveries (next to the new one), so receivers can switch without
	// dropping any.
	WebhookSecretGrace = 24 * time.Hour
)

// NotificationChannelsPatch changes a tenant's notification channels.
// Nil fields are left alone; lists replace the stored ones (an empty list
// clears); an empty WebhookURL removes the webhook.
type NotificationChannelsPatch struct {
	Emails          []string
	WebhookURL      *string
	Events          []NotificationEvent
	WebhookSecret   *string
	ExpectedVersion *int
	ValidateOnly    bool
}

// Normalize validates the patch and canonicalizes it in place.
func (p *NotificationChannelsPatch) Normalize() error {
	if p.Emails != nil {
		l, err := NormalizeEmails("emails", p.Emails)
		if err != nil {
			return err
		}
		p.Emails = l
	}
	if p.WebhookURL != nil && strings.TrimSpace(*p.WebhookURL) != "" {
		u, err := ValidateWebhookURL("webhookUrl", *p.WebhookURL)
		if err != nil {
			return err
		}
		p.WebhookURL = &u
	} else if p.WebhookURL != nil {
		p.WebhookURL = new(string)
	}
	if p.Events != nil {
		l, err := NormalizeEvents("events", p.Events)
		if err != nil {
			return err
		}
		p.Events = l
	}
	if p.WebhookSecret != nil && !ValidWebhookSecret(*p.WebhookSecret) {
		// Never echo the value: it is meant to be a secret.
		return Invalid("webhookSecret", "webhookSecret must be %s followed by 64 lower-case hexadecimal characters (32 random bytes, the format this API generates); leave it out to have one generated", WebhookSecretPrefix)
	}
	return nil
}

// RotateWebhookSecret is the input of a webhook secret rotation.
type RotateWebhookSecret struct {
	// RevokePrevious stops the replaced secret at once instead of letting it
	// sign deliveries for WebhookSecretGrace (for a leaked secret).
	RevokePrevious  bool
	ExpectedVersion *int
	ValidateOnly    bool
}

// NormalizeEmails checks each entry is a plain email address, lower-cases
// its domain, and removes duplicates case-insensitively (the first spelling
// wins), in input order; at most MaxNotificationEmails distinct addresses
// remain. field is the input path used in errors.
func NormalizeEmails(field string, in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for i, raw := range in {
		addr, ok := parseEmail(raw)
		if !ok {
			f := fmt.Sprintf("%s[%d]", field, i)
			return nil, Invalid(f, "%s must be a plain email address such as alerts@acme.fr (no display name, at most %d characters), got %q", f, MaxEmailLength, raw)
		}
		if k := strings.ToLower(addr); !seen[k] {
			seen[k] = true
			out = append(out, addr)
		}
	}
	if len(out) > MaxNotificationEmails {
		return nil, Invalid(field, "%s holds at most %d distinct addresses, got %d", field, MaxNotificationEmails, len(out))
	}
	return out, nil
}

func parseEmail(raw string) (string, bool) {
	s := strings.TrimSpace(raw)
	if len(s) > MaxEmailLength {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if len(local) > 64 || strings.ContainsAny(local, `" `) {
		return "", false
	}
	d, err := ValidateDomain("email", domain)
	if err != nil {
		return "", false
	}
	return local + "@" + d, true
}

// ValidateWebhookURL checks raw is an absolute https URL without
// credentials or fragment, at most 2048 characters, whose host is a DNS name
// (acme.fr) or an IP address, and returns it with scheme and host
// lower-cased. Whether the address is public is checked when delivering,
// on the address actually dialled.
func ValidateWebhookURL(field, raw string) (string, error) {
	s := strings.TrimSpace(raw)
	bad := func(why string) error {
		return Invalid(field, "%s must be an https:// URL such as https://hooks.acme.fr/kyc (%s), got %q", field, why, raw)
	}
	if len(s) > MaxWebhookURLLength {
		return "", Invalid(field, "%s must be at most %d characters, got %d", field, MaxWebhookURLLength, len(s))
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return "", bad("not an absolute URL")
	}
	if u.Scheme != "https" {
		return "", bad("deliveries carry signed data, so only https is allowed")
	}
	if u.User != nil {
		// Not echoed: the URL holds a password.
		return "", Invalid(field, "%s must not hold a user name or password (the receiver authenticates deliveries by their signature)", field)
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return "", bad("no #fragment")
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", bad("a host is required")
	}
	if net.ParseIP(host) == nil {
		if _, err := ValidateDomain(field, host); err != nil {
			return "", bad("the host must be a DNS name with at least two labels or an IP address")
		}
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", bad("the port must be 1 to 65535")
		}
	}
	u.Host = strings.ToLower(u.Host)
	return u.String(), nil
}

// NormalizeEvents checks each event is known and removes duplicates, in
// input order.
func NormalizeEvents(field string, in []NotificationEvent) ([]NotificationEvent, error) {
	out := make([]NotificationEvent, 0, len(in))
	seen := make(map[NotificationEvent]bool, len(in))
	for i, e := range in {
		if !e.Valid() {
			f := fmt.Sprintf("%s[%d]", field, i)
			return nil, Invalid(f, "%s: %q is not a notification event", f, e)
		}
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out, nil
}

var webhookSecretRE = regexp.MustCompile(`^whsec_[0-9a-f]{64}$`)

// ValidWebhookSecret reports whether s has the reference's secret format:
// whsec_ + 64 lower-case hex characters. Standard Webhooks libraries take
// the HMAC key as the base64 decoding of what follows whsec_: 64 hex
// characters are valid base64 and decode to a 48-byte key.
func ValidWebhookSecret(s string) bool { return webhookSecretRE.MatchString(s) }

// NewWebhookSecret returns a new secret: whsec_ + 32 bytes from
// crypto/rand in hex.
func NewWebhookSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return WebhookSecretPrefix + hex.EncodeToString(b[:])
}

// WebhookSecretTail is the part of a secret its hint shows: the last four
// characters. Stored next to the sealed secret so reads need not decrypt.
func WebhookSecretTail(secret string) string {
	if len(secret) < 4 {
		return ""
	}
	return secret[len(secret)-4:]
}

// WebhookSecretHint masks a secret given its tail: whsec_…1a2b.
func WebhookSecretHint(tail string) string { return WebhookSecretPrefix + "…" + tail }

// WebhookTarget is where and with what a tenant's webhooks are delivered:
// the URL and the signing secrets in clear (the current one first, then a
// rotated-out one still in its grace period). It never leaves the server.
type WebhookTarget struct {
	TenantID string
	URL      string
	Secrets  []string
}
