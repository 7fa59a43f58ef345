// Package delivery is the delivery worker of both channels, webhooks and
// email. Every instance runs one;
// they share the work through PostgreSQL (db/deliveries.go): new events are
// fanned out to the subscribed endpoints, due deliveries are claimed under a
// lease with FOR UPDATE SKIP LOCKED, and each attempt is signed and sent by
// webhook.Sender (the egress guard, no redirects, a timeout) and logged. A
// failed attempt is retried on Config.Schedule; after its last, the delivery
// is FAILED. Email deliveries (one per event and address, url
// mailto:<address>) go through the same queue and schedule, sent by
// mail.Sender. A webhook endpoint failing for Config.DisableAfter is
// disabled (db.Store.RecordAttempt). A shared pool of Config.Workers goroutines makes the attempts,
// at most Config.PerEndpoint at once per endpoint URL, so one slow endpoint
// never holds up another tenant's deliveries.
package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"tenantapi/db"
	"tenantapi/mail"
	"tenantapi/tenant"
	"tenantapi/webhook"
)

// DefaultSchedule is the delay before each attempt of a delivery, Svix's
// schedule: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after
// each failure (8 attempts over about 27.6 hours).
var DefaultSchedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// Config tunes a Worker; zero fields take the defaults.
type Config struct {
	Workers     int             // attempts in flight at once in this instance (8)
	PerEndpoint int             // attempts in flight at once per endpoint URL in this instance (2)
	Schedule    []time.Duration // DefaultSchedule
	// Jitter spreads each retry delay by up to this fraction either way
	// (0.1), so endpoints that failed together are not retried together.
	Jitter  float64
	Timeout time.Duration // per attempt (10 s)
	// Lease is how long a claim holds a delivery (Timeout + 30 s): past it,
	// another instance retries a delivery whose worker died mid-attempt.
	Lease time.Duration
	Poll  time.Duration // how often to look for new events and due retries (1 s)
	Batch int           // events fanned out per statement (100)
	Log   *slog.Logger
	// Mail sends email deliveries; nil fails them (and logs why).
	Mail *mail.Sender
	// BaseURL is where people reach the API, for links in email; "" none.
	BaseURL string
	// DisableAfter is how long a webhook endpoint may fail without a
	// success before it is disabled (DefaultDisableAfter); negative: never.
	DisableAfter time.Duration
}

// DefaultDisableAfter is Svix's: an endpoint failing for 5 days is disabled.
const DefaultDisableAfter = 5 * 24 * time.Hour

func (c *Config) defaults() {
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.PerEndpoint <= 0 {
		c.PerEndpoint = 2
	}
	if len(c.Schedule) == 0 {
		c.Schedule = DefaultSchedule
	}
	if c.Jitter < 0 {
		c.Jitter = 0
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = c.Timeout + 30*time.Second
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 100
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.DisableAfter == 0 {
		c.DisableAfter = DefaultDisableAfter
	}
}

// Worker delivers webhooks; see the package comment.
type Worker struct {
	store  *db.Store
	sender *webhook.Sender
	cfg    Config

	mu       sync.Mutex
	inFlight map[string]int // per endpoint URL
	free     int            // idle pool slots
	wake     chan struct{}  // new events may be waiting (Wake)
	freed    chan struct{}  // a pool slot came free
}

// New returns a Worker over store sending with sender.
func New(store *db.Store, sender *webhook.Sender, cfg Config) *Worker {
	cfg.defaults()
	return &Worker{store: store, sender: sender, cfg: cfg, inFlight: map[string]int{}, free: cfg.Workers,
		wake: make(chan struct{}, 1), freed: make(chan struct{}, 1)}
}

// Run delivers until ctx ends, then waits for the attempts in flight (each
// bounded by Config.Timeout) and returns.
func (w *Worker) Run(ctx context.Context) {
	sys := tenant.WithActor(ctx, &tenant.Actor{Kind: tenant.Admin})
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	// Events are fanned out on each poll, on a wake-up and while batches
	// come back full; a freed slot only claims, so a busy worker does not
	// look for new events after every attempt.
	dispatch := true
	for {
		if dispatch {
			n, err := w.store.DispatchEvents(sys, w.cfg.Batch)
			if err != nil && ctx.Err() == nil {
				w.cfg.Log.Error("webhook deliveries: fanning out events", "err", err)
			}
			dispatch = n == w.cfg.Batch
		}
		w.claim(sys, &wg)
		if dispatch {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			dispatch = true
		case <-w.wake:
			dispatch = true
		case <-w.freed:
		}
	}
}

// Wake makes the worker look for new events now rather than at its next
// poll; it never blocks (server.go calls it on every event notification).
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// claim leases as many due deliveries as the pool has room for and starts
// an attempt of each.
func (w *Worker) claim(ctx context.Context, wg *sync.WaitGroup) {
	w.mu.Lock()
	free := w.free
	var busy []string
	for url, n := range w.inFlight {
		if n >= w.cfg.PerEndpoint {
			busy = append(busy, url)
		}
	}
	w.mu.Unlock()
	if free == 0 {
		return
	}
	due, err := w.store.ClaimDeliveries(ctx, free, w.cfg.PerEndpoint, w.cfg.Lease, busy)
	if err != nil {
		if ctx.Err() == nil {
			w.cfg.Log.Error("webhook deliveries: claiming", "err", err)
		}
		return
	}
	for _, d := range due {
		w.mu.Lock()
		ok := w.free > 0 && w.inFlight[d.URL] < w.cfg.PerEndpoint
		if ok {
			w.free--
			w.inFlight[d.URL]++
		}
		w.mu.Unlock()
		if !ok {
			// Over the endpoint's limit within this batch: due again at once,
			// for whichever worker has room.
			if err := w.store.ReleaseDelivery(context.WithoutCancel(ctx), d); err != nil {
				w.cfg.Log.Error("webhook deliveries: releasing", "err", err)
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.attempt(context.WithoutCancel(ctx), d)
			w.mu.Lock()
			w.free++
			if w.inFlight[d.URL]--; w.inFlight[d.URL] == 0 {
				delete(w.inFlight, d.URL)
			}
			w.mu.Unlock()
			select { // a slot is free: look for more work now
			case w.freed <- struct{}{}:
			default:
			}
		}()
	}
}

// attempt makes one attempt of d and records it. It runs to completion
// even while the worker stops (bounded by the timeout), so no attempt is
// made without being logged.
func (w *Worker) attempt(ctx context.Context, d *tenant.DueDelivery) {
	o := db.AttemptOutcome{At: w.store.Now(), DisableAfter: max(w.cfg.DisableAfter, 0)}
	if d.Channel == tenant.ChannelEmail {
		w.email(ctx, d, &o)
	} else {
		w.webhook(ctx, d, &o)
	}
	if !o.Delivered {
		if n := d.Attempts + 1; n < len(w.cfg.Schedule) {
			next := w.store.Now().Add(w.jitter(w.cfg.Schedule[n]))
			o.Next = &next
		}
	}
	held, err := w.store.RecordAttempt(ctx, d, o)
	if err != nil {
		w.cfg.Log.Error("deliveries: recording an attempt", "tenant", d.TenantID, "delivery", d.ID, "err", err)
	} else if !held {
		w.cfg.Log.Warn("deliveries: an attempt outlived its lease; another worker took the delivery over", "delivery", d.ID)
	}
}

// email makes one attempt of an email delivery into o.
func (w *Worker) email(ctx context.Context, d *tenant.DueDelivery, o *db.AttemptOutcome) {
	if w.cfg.Mail == nil {
		w.cfg.Log.Error("email deliveries: no mail sender configured", "delivery", d.ID)
		o.Error = "email is not configured on this server; the attempt will be retried"
		return
	}
	to := strings.TrimPrefix(d.URL, tenant.MailtoPrefix)
	actx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	start := time.Now()
	res, err := w.cfg.Mail.Send(actx, to, &mail.Notice{TenantID: d.TenantID, TenantName: d.TenantName, EventID: d.EventID,
		EventType: d.EventType, OccurredAt: d.OccurredAt, Payload: d.Payload, BaseURL: w.cfg.BaseURL})
	o.Latency = time.Since(start)
	if err != nil {
		w.cfg.Log.Error("email deliveries: sending", "tenant", d.TenantID, "delivery", d.ID, "err", err)
		o.Error = "internal error sending the email; the attempt will be retried"
		return
	}
	o.Delivered, o.Error, o.Body = res.Delivered, res.Error, res.Reply
	if res.Path != "" {
		w.cfg.Log.Info("email written as a file (no SMTP_URL)", "path", res.Path, "to", to, "event", d.EventType, "tenant", d.TenantID)
	}
}

// webhook makes one attempt of a webhook delivery into o.
func (w *Worker) webhook(ctx context.Context, d *tenant.DueDelivery, o *db.AttemptOutcome) {
	target, err := w.store.WebhookTarget(ctx, d.TenantID)
	if err != nil {
		var te *tenant.Error
		if errors.As(err, &te) && te.Code != tenant.EINTERNAL && te.Code != tenant.EUNAVAILABLE {
			o.Error = te.Message // the tenant's own configuration: no webhookUrl or secret, deleted
		} else {
			w.cfg.Log.Error("webhook deliveries: loading the signing secrets", "tenant", d.TenantID, "err", err)
			o.Error = "internal error loading the signing secrets; the attempt will be retried"
		}
	} else {
		body, _ := json.Marshal(webhook.Message{ID: d.EventID, Type: d.EventType, TenantID: d.TenantID, OccurredAt: d.OccurredAt.UTC(), Data: d.Payload})
		actx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
		res, err := w.sender.Deliver(actx, d.URL, target.Secrets, d.EventID, body)
		cancel()
		if err != nil {
			w.cfg.Log.Error("webhook deliveries: signing", "tenant", d.TenantID, "err", err)
			o.Error = "internal error signing the delivery"
		} else {
			o.HTTPStatus, o.Latency, o.Body, o.Error, o.Delivered = res.StatusCode, res.Latency, res.Body, res.Error, res.Delivered
		}
	}
}

// jitter spreads d by up to Config.Jitter either way.
func (w *Worker) jitter(d time.Duration) time.Duration {
	if w.cfg.Jitter == 0 || d == 0 {
		return d
	}
	return time.Duration(float64(d) * (1 + w.cfg.Jitter*(2*rand.Float64()-1)))
}
