package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/tenant"
)

// Notification channels live in notification_channels, one row per tenant
// created by its first change; a tenant without a row reads as the
// defaults at version 0 with no updatedAt/updatedBy, like the screening
// configuration, and its first change makes it version 1. Webhook secrets are stored only sealed by s.Sealer; reads show a
// hint made of the stored tail and never decrypt. Only WebhookTarget, which
// signs deliveries, opens them.

// channelCols are the readable columns: never the sealed secrets.
const channelCols = `n.tenant_id, n.emails, n.webhook_url, n.events, n.webhook_secret_tail,
	n.webhook_secret_created_at, n.previous_webhook_secret_expires_at, n.webhook_disabled_at, n.webhook_disabled_reason,
	n.version, n.updated_at, n.updated_by`

type channelsRow struct {
	TenantID          string         `db:"tenant_id"`
	Emails            pq.StringArray `db:"emails"`
	WebhookURL        *string        `db:"webhook_url"`
	Events            pq.StringArray `db:"events"`
	SecretTail        *string        `db:"webhook_secret_tail"`
	SecretCreatedAt   *time.Time     `db:"webhook_secret_created_at"`
	PreviousExpiresAt *time.Time     `db:"previous_webhook_secret_expires_at"`
	DisabledAt        *time.Time     `db:"webhook_disabled_at"`
	DisabledReason    *string        `db:"webhook_disabled_reason"`
	Version           int            `db:"version"`
	UpdatedAt         *time.Time     `db:"updated_at"`
	UpdatedBy         *string        `db:"updated_by"`
	// Only the write path selects these.
	SecretSealed   *string `db:"webhook_secret_sealed"`
	PreviousSealed *string `db:"previous_webhook_secret_sealed"`
}

func (r *channelsRow) channels(now time.Time) *tenant.NotificationChannels {
	c := &tenant.NotificationChannels{
		TenantID: r.TenantID, Emails: []string(r.Emails), WebhookURL: r.WebhookURL,
		Events: make([]tenant.NotificationEvent, len(r.Events)), WebhookSecretCreatedAt: r.SecretCreatedAt,
		Version: r.Version, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy,
		WebhookDisabledAt: r.DisabledAt, WebhookDisabledReason: r.DisabledReason,
	}
	if c.Emails == nil {
		c.Emails = []string{}
	}
	for i, e := range r.Events {
		c.Events[i] = tenant.NotificationEvent(e)
	}
	if r.SecretTail != nil {
		h := tenant.WebhookSecretHint(*r.SecretTail)
		c.WebhookSecretHint = &h
	}
	if r.PreviousExpiresAt != nil && r.PreviousExpiresAt.After(now) {
		c.PreviousWebhookSecretExpiresAt = r.PreviousExpiresAt
	}
	return c
}

// setSecret seals secret as the tenant's current one.
func (r *channelsRow) setSecret(s tenant.Sealer, secret string, now time.Time) {
	sealed, tail := s.Seal(r.TenantID, []byte(secret)), tenant.WebhookSecretTail(secret)
	r.SecretSealed, r.SecretTail, r.SecretCreatedAt = &sealed, &tail, &now
}

// NotificationChannelsByTenant loads the notification channels of each
// tenant id, in key order: the defaults at version 0 (no updatedAt or
// updatedBy) for a tenant that configured none, ENOTFOUND for a tenant the
// caller may not see. It is a loader batch.
func (s *Store) NotificationChannelsByTenant(ctx context.Context, ids []string) ([]*tenant.NotificationChannels, []error) {
	all, own := scope(ctx)
	var rows []channelsRow
	err := s.selectBatch(ctx, &rows, `SELECT t.id AS tenant_id, COALESCE(n.emails, '{}') AS emails,
		n.webhook_url, COALESCE(n.events, '{}') AS events, n.webhook_secret_tail, n.webhook_secret_created_at,
		n.previous_webhook_secret_expires_at, n.webhook_disabled_at, n.webhook_disabled_reason, COALESCE(n.version, 0) AS version, n.updated_at, n.updated_by
		FROM tenants t LEFT JOIN notification_channels n ON n.tenant_id = t.id
		WHERE t.id = ANY($1::uuid[]) AND ($2 OR t.id = $3)`, pq.Array(validIDs(ids)), all, own)
	now := s.Now()
	return inKeyOrder(ids, rows, err, "tenant", func(r *channelsRow) (string, *tenant.NotificationChannels) { return r.TenantID, r.channels(now) })
}

// lockChannels locks the tenant and returns its channels row with its
// sealed secrets, or the defaults (version 0, never updated) when it has
// none yet, refusing with ECONFLICT when expectedVersion is stale.
func lockChannels(ctx context.Context, tx sqlx.ExtContext, tenantID string, expectedVersion *int) (*channelsRow, error) {
	if _, err := lockTenant(ctx, tx, tenantID, false); err != nil {
		return nil, err
	}
	var r channelsRow
	err := sqlx.GetContext(ctx, tx, &r, `SELECT `+channelCols+`, n.webhook_secret_sealed, n.previous_webhook_secret_sealed
		FROM notification_channels n WHERE n.tenant_id = $1 FOR UPDATE`, tenantID)
	if errors.Is(err, sql.ErrNoRows) {
		r, err = channelsRow{TenantID: tenantID}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := checkVersion("expectedVersion", expectedVersion, r.Version); err != nil {
		return nil, err
	}
	return &r, nil
}

// saveChannels writes r as the tenant's channels, one version up (version 1
// for the first change).
func saveChannels(ctx context.Context, tx sqlx.ExtContext, r *channelsRow, now time.Time, by string) (*channelsRow, error) {
	if r.Emails == nil {
		r.Emails = pq.StringArray{}
	}
	if r.Events == nil {
		r.Events = pq.StringArray{}
	}
	var out channelsRow
	err := sqlx.GetContext(ctx, tx, &out, `INSERT INTO notification_channels AS n (tenant_id, emails, webhook_url, events,
			webhook_secret_sealed, webhook_secret_tail, webhook_secret_created_at,
			previous_webhook_secret_sealed, previous_webhook_secret_expires_at, version, updated_at, updated_by,
			webhook_disabled_at, webhook_disabled_reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (tenant_id) DO UPDATE SET emails = EXCLUDED.emails, webhook_url = EXCLUDED.webhook_url,
			events = EXCLUDED.events, webhook_secret_sealed = EXCLUDED.webhook_secret_sealed,
			webhook_secret_tail = EXCLUDED.webhook_secret_tail, webhook_secret_created_at = EXCLUDED.webhook_secret_created_at,
			previous_webhook_secret_sealed = EXCLUDED.previous_webhook_secret_sealed,
			previous_webhook_secret_expires_at = EXCLUDED.previous_webhook_secret_expires_at,
			version = EXCLUDED.version, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by,
			webhook_disabled_at = EXCLUDED.webhook_disabled_at, webhook_disabled_reason = EXCLUDED.webhook_disabled_reason
		RETURNING `+channelCols,
		r.TenantID, r.Emails, r.WebhookURL, r.Events, r.SecretSealed, r.SecretTail, r.SecretCreatedAt,
		r.PreviousSealed, r.PreviousExpiresAt, r.Version+1, now, by, r.DisabledAt, r.DisabledReason)
	return &out, err
}

// UpdateNotificationChannels applies p to a tenant's notification channels
// as the caller. The first time a webhook URL is set while the tenant has
// no secret (and p gives none), a secret is generated and returned: the
// only time it is ever shown. A given p.WebhookSecret replaces the current
// one at once and is not returned. With p.ValidateOnly it runs every check,
// saves nothing and generates no secret.
// Codes: EINVALID, ENOTFOUND, ECONFLICT (version mismatch, deleted tenant).
func (s *Store) UpdateNotificationChannels(ctx context.Context, tenantID string, p tenant.NotificationChannelsPatch) (*tenant.NotificationChannels, string, error) {
	if err := p.Normalize(); err != nil {
		return nil, "", err
	}
	if s.Sealer == nil {
		return nil, "", errors.New("db: Store.Sealer is required to store webhook secrets")
	}
	var out *tenant.NotificationChannels
	var secret string
	err := s.inTxDry(ctx, p.ValidateOnly, func(tx sqlx.ExtContext, now time.Time) error {
		var err error
		out, secret, err = s.updateNotificationChannels(ctx, tx, now, tenantID, &p)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return out, secret, nil
}

// updateNotificationChannels applies the normalized p to a tenant's
// channels inside the caller's transaction, and returns the secret it
// generated ("" when none: with p.ValidateOnly it never generates one).
func (s *Store) updateNotificationChannels(ctx context.Context, tx sqlx.ExtContext, now time.Time, tenantID string, p *tenant.NotificationChannelsPatch) (*tenant.NotificationChannels, string, error) {
	r, err := lockChannels(ctx, tx, tenantID, p.ExpectedVersion)
	if err != nil {
		return nil, "", err
	}
	if p.Emails == nil && p.WebhookURL == nil && p.Events == nil && p.WebhookSecret == nil {
		return r.channels(now), "", nil // nothing to change: no write, no new version
	}
	if p.Emails != nil {
		r.Emails = p.Emails
	}
	if p.WebhookURL != nil {
		// A new (or the same, given again) URL is a fresh endpoint: enabled.
		r.DisabledAt, r.DisabledReason = nil, nil
		r.WebhookURL = p.WebhookURL
		if *p.WebhookURL == "" {
			r.WebhookURL = nil
		}
	}
	if p.Events != nil {
		r.Events = make(pq.StringArray, len(p.Events))
		for i, e := range p.Events {
			r.Events[i] = string(e)
		}
	}
	var secret string
	switch {
	case p.WebhookSecret != nil:
		r.setSecret(s.Sealer, *p.WebhookSecret, now)
		r.PreviousSealed, r.PreviousExpiresAt = nil, nil
	case r.WebhookURL != nil && r.SecretSealed == nil && !p.ValidateOnly:
		secret = tenant.NewWebhookSecret()
		r.setSecret(s.Sealer, secret, now)
	}
	saved, err := saveChannels(ctx, tx, r, now, tenant.ActorFrom(ctx).ActorID())
	if err != nil {
		return nil, "", err
	}
	return saved.channels(now), secret, nil
}

// RotateWebhookSecret generates a new webhook signing secret for a tenant
// and returns it: the only time it is shown. The replaced secret keeps
// signing deliveries, next to the new one, for tenant.WebhookSecretGrace
// unless in.RevokePrevious. A tenant without a secret gets its first one.
// With in.ValidateOnly it checks and saves nothing, generating no secret.
// Codes: ENOTFOUND, ECONFLICT (version mismatch, deleted tenant).
func (s *Store) RotateWebhookSecret(ctx context.Context, tenantID string, in tenant.RotateWebhookSecret) (*tenant.NotificationChannels, string, error) {
	if s.Sealer == nil {
		return nil, "", errors.New("db: Store.Sealer is required to store webhook secrets")
	}
	by := tenant.ActorFrom(ctx).ActorID()
	var out *tenant.NotificationChannels
	var secret string
	err := s.inTxDry(ctx, in.ValidateOnly, func(tx sqlx.ExtContext, now time.Time) error {
		r, err := lockChannels(ctx, tx, tenantID, in.ExpectedVersion)
		if err != nil {
			return err
		}
		if r.SecretSealed != nil && !in.RevokePrevious {
			exp := now.Add(tenant.WebhookSecretGrace)
			r.PreviousSealed, r.PreviousExpiresAt = r.SecretSealed, &exp
		} else {
			r.PreviousSealed, r.PreviousExpiresAt = nil, nil
		}
		if !in.ValidateOnly {
			secret = tenant.NewWebhookSecret()
			r.setSecret(s.Sealer, secret, now)
		}
		saved, err := saveChannels(ctx, tx, r, now, by)
		if err != nil {
			return err
		}
		out = saved.channels(now)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, secret, nil
}

// EnableWebhookEndpoint enables a tenant's webhook endpoint that failing
// disabled: deliveries of new events to it resume (those that failed
// meanwhile can be sent with RedeliverEvent). The change is audited under
// the caller's action (enableWebhookEndpoint), which types its event
// webhook_endpoint.enabled. An endpoint that is not disabled is returned
// unchanged, with no new version and no event.
// Codes: ENOTFOUND, EINVALID (no webhookUrl), ECONFLICT (deleted tenant).
func (s *Store) EnableWebhookEndpoint(ctx context.Context, tenantID string) (*tenant.NotificationChannels, error) {
	by := tenant.ActorFrom(ctx).ActorID()
	var out *tenant.NotificationChannels
	err := s.inTx(ctx, func(tx sqlx.ExtContext, now time.Time) error {
		r, err := lockChannels(ctx, tx, tenantID, nil)
		if err != nil {
			return err
		}
		if r.WebhookURL == nil {
			return tenant.Invalid("tenantId", "no webhookUrl is configured for this tenant: set one with updateNotificationChannels")
		}
		if r.DisabledAt == nil {
			out = r.channels(now)
			return nil
		}
		r.DisabledAt, r.DisabledReason = nil, nil
		saved, err := saveChannels(ctx, tx, r, now, by)
		if err != nil {
			return err
		}
		out = saved.channels(now)
		return nil
	})
	return out, err
}

// WebhookTarget returns where a tenant's webhooks go and the secrets, in
// clear, that sign them: the current one, then a rotated-out one still in
// its grace period. For the webhook sender only; never for a response.
// Codes: ENOTFOUND, ECONFLICT (deleted tenant), EINVALID (no webhookUrl).
func (s *Store) WebhookTarget(ctx context.Context, tenantID string) (*tenant.WebhookTarget, error) {
	if !tenant.ValidID(tenantID) {
		return nil, tenant.NotFound("tenant")
	}
	all, own := scope(ctx)
	var r struct {
		ID                string        `db:"id"`
		Status            tenant.Status `db:"status"`
		URL               *string       `db:"webhook_url"`
		Sealed            *string       `db:"webhook_secret_sealed"`
		PreviousSealed    *string       `db:"previous_webhook_secret_sealed"`
		PreviousExpiresAt *time.Time    `db:"previous_webhook_secret_expires_at"`
	}
	err := sqlx.GetContext(ctx, s.q(), &r, `SELECT t.id, t.status, n.webhook_url, n.webhook_secret_sealed,
		n.previous_webhook_secret_sealed, n.previous_webhook_secret_expires_at
		FROM tenants t LEFT JOIN notification_channels n ON n.tenant_id = t.id
		WHERE t.id = $1 AND ($2 OR t.id = $3)`, tenantID, all, own)
	if err != nil {
		return nil, notFoundAs(err, "tenant")
	}
	if r.Status == tenant.StatusDeleted {
		return nil, tenant.Errorf(tenant.ECONFLICT, "tenant is deleted; restore it with restoreTenant first")
	}
	if r.URL == nil {
		return nil, tenant.Invalid("webhookUrl", "no webhookUrl is configured for this tenant: set one with updateNotificationChannels first")
	}
	if r.Sealed == nil {
		return nil, tenant.Invalid("webhookSecret", "this tenant has no webhook secret: create one with rotateWebhookSecret")
	}
	if s.Sealer == nil {
		return nil, errors.New("db: Store.Sealer is required to open webhook secrets")
	}
	sealed := []string{*r.Sealed}
	if r.PreviousSealed != nil && r.PreviousExpiresAt != nil && r.PreviousExpiresAt.After(s.Now()) {
		sealed = append(sealed, *r.PreviousSealed)
	}
	target := &tenant.WebhookTarget{TenantID: r.ID, URL: *r.URL}
	for _, sl := range sealed {
		b, err := s.Sealer.Open(r.ID, sl)
		if err != nil {
			return nil, fmt.Errorf("opening tenant %s's webhook secret: %w", tenantID, err)
		}
		target.Secrets = append(target.Secrets, string(b))
	}
	return target, nil
}
