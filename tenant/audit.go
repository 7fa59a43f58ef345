package tenant

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AuditOperation says what happened to the audited object.
type AuditOperation string

// The operations of audit entries.
const (
	AuditInsert AuditOperation = "INSERT" // the object was created
	AuditUpdate AuditOperation = "UPDATE" // some of its fields changed
	AuditDelete AuditOperation = "DELETE" // it was removed
	AuditEvent  AuditOperation = "EVENT"  // a summary written by the code (a usage batch)
)

// MarshalGQL encodes the GraphQL enum AuditOperation.
func (o AuditOperation) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(o))) }

// UnmarshalGQL decodes the GraphQL enum AuditOperation.
func (o *AuditOperation) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	switch AuditOperation(s) {
	case AuditInsert, AuditUpdate, AuditDelete, AuditEvent:
	default:
		ok = false
	}
	if !ok {
		return fmt.Errorf("must be INSERT, UPDATE, DELETE or EVENT, got %v", v)
	}
	*o = AuditOperation(s)
	return nil
}

// Redacted is the value an audit entry shows for a secret.
const Redacted = "[redacted]"

// AuditEntry is one entry of a tenant's audit log: one changed object of one
// transaction. A mutation that changes several objects writes several
// entries sharing its request id.
type AuditEntry struct {
	TenantID   string         `db:"tenant_id"`
	ID         string         `db:"id"`
	At         time.Time      `db:"at"`
	Actor      string         `db:"actor"`  // "admin", "key:<id>" or "system"
	Action     string         `db:"action"` // the mutation, e.g. updateTenantSettings
	Operation  AuditOperation `db:"operation"`
	Table      string         `db:"target_type"`
	TargetID   string         `db:"target_id"`
	RawChanges []byte         `db:"changes"` // {"column": {"before": …, "after": …}}
	RequestID  *string        `db:"request_id"`
	ClientIP   *string        `db:"client_ip"`
}

// AuditChange is one changed field of an entry. Before and After are the
// values as JSON (the API answers them as JSON values, scalar JSON), nil
// when there was none (the object did not exist, or the field was unset).
type AuditChange struct {
	Field    string
	Before   json.RawMessage
	After    json.RawMessage
	Redacted bool
}

// TargetType is the API's name for the type of object the entry is about
// (TenantSettings, ApiKey), or the table in PascalCase when the API has no
// type of that name.
func (e *AuditEntry) TargetType() string {
	if t, ok := auditTypes[e.Table]; ok {
		return t
	}
	return pascal(e.Table)
}

// auditTypes names the GraphQL type of each audited table.
var auditTypes = map[string]string{
	"tenants":               "Tenant",
	"tenant_settings":       "TenantSettings",
	"api_keys":              "ApiKey",
	"sso_configs":           "SsoConfig",
	"notification_channels": "NotificationChannels",
	"screening_keywords":    "KeywordList",
	"screening_industries":  "IndustryConfig",
	"risk_matrices":         "RiskMatrix",
	"risk_matrix_weights":   "RiskWeight",
	"website_configs":       "WebsiteConfig",
	"watchlist_seats":       "WatchlistSeats",
	"billing_accounts":      "Billing",
	"invoices":              "Invoice",
	"credit_grants":         "CreditGrant",
}

// Changes decodes the entry's changed fields, sorted by field name. Field
// names are the columns in camelCase, which for most is the API's field.
func (e *AuditEntry) Changes() ([]*AuditChange, error) {
	var raw map[string]struct {
		Before json.RawMessage `json:"before"`
		After  json.RawMessage `json:"after"`
	}
	if err := json.Unmarshal(e.RawChanges, &raw); err != nil {
		return nil, fmt.Errorf("audit entry %s: changes: %w", e.ID, err)
	}
	out := make([]*AuditChange, 0, len(raw))
	for col, c := range raw {
		ch := &AuditChange{Field: camel(col), Before: jsonValue(c.Before), After: jsonValue(c.After)}
		red := `"` + Redacted + `"`
		ch.Redacted = string(ch.Before) == red || string(ch.After) == red
		out = append(out, ch)
	}
	slices.SortFunc(out, func(a, b *AuditChange) int { return strings.Compare(a.Field, b.Field) })
	return out, nil
}

// jsonValue is raw compacted (jsonb's text has spaces after commas), or nil
// for none (absent, or JSON null).
func jsonValue(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// camel turns a column name into the API's spelling: ip_allowlist ->
// ipAllowlist.
func camel(col string) string {
	parts := strings.Split(col, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

func pascal(col string) string {
	c := camel(col)
	if c == "" {
		return c
	}
	return strings.ToUpper(c[:1]) + c[1:]
}

// AuditFilter narrows an audit log. All given conditions must hold.
type AuditFilter struct {
	Actions []string   // any of these actions
	Actor   *string    // exactly this actor
	Since   *time.Time // at or after
	Until   *time.Time // before
}

// AuditQuery is a page request of audit logs.
type AuditQuery struct {
	Page   Page
	Filter AuditFilter
}

// MaxAuditChanges bounds AuditEntry.changes: an entry lists the changed
// columns of one row, so the widest audited table bounds it (the audit
// triggers' tables; TestAuditChangesBound checks every one), and an
// EVENT's summary has a handful of fields.
const MaxAuditChanges = 40

// The bounds of audit queries.
const (
	MaxAuditPage        = 100
	maxAuditFilterItems = 20
	maxAuditFilterLen   = 100
)

// Validate checks the page size and the filter.
func (q *AuditQuery) Validate() error {
	if err := q.Page.Check(MaxAuditPage); err != nil {
		return err
	}
	f := &q.Filter
	if len(f.Actions) > maxAuditFilterItems {
		return Invalid("filter.action", "filter.action takes at most %d actions, got %d", maxAuditFilterItems, len(f.Actions))
	}
	for i, a := range f.Actions {
		if a == "" || len(a) > maxAuditFilterLen {
			return Invalid(fmt.Sprintf("filter.action[%d]", i), "filter.action[%d] must be 1 to %d characters, such as updateTenantSettings, got %q", i, maxAuditFilterLen, a)
		}
	}
	if f.Actor != nil && (*f.Actor == "" || len(*f.Actor) > maxAuditFilterLen) {
		return Invalid("filter.actor", "filter.actor must be 1 to %d characters, such as admin or key:<id>, got %q", maxAuditFilterLen, *f.Actor)
	}
	if f.Since != nil && f.Until != nil && !f.Since.Before(*f.Until) {
		return Invalid("filter.until", "filter.until (%s) must be after filter.since (%s)", f.Until.UTC().Format(time.RFC3339), f.Since.UTC().Format(time.RFC3339))
	}
	return nil
}

// Key identifies the query for grouping loader keys: tenants asked with the
// same query load in one statement.
func (q AuditQuery) Key() string {
	b, _ := json.Marshal(q)
	return string(b)
}

// AuditPage is one page of one tenant's audit log, newest first.
type AuditPage struct {
	TenantID string
	Entries  []*AuditEntry
	PageEnds
	Query AuditQuery // for totalCount
}

type actionKey struct{}

// WithAction returns ctx carrying the name of the operation being run (the
// GraphQL mutation), which audit entries record.
func WithAction(ctx context.Context, action string) context.Context {
	return context.WithValue(ctx, actionKey{}, action)
}

// Action returns the operation name of ctx, or "".
func Action(ctx context.Context) string {
	s, _ := ctx.Value(actionKey{}).(string)
	return s
}
