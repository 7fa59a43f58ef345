// Package live fans committed events out to the subscriptions of this
// instance (docs/events.md: Live subscriptions). A trigger NOTIFYs the
// channel tenant_events with "<tenant id>:<event id>" for every event
// (migrations/00013_event_notify.sql); PostgreSQL delivers it at commit, to
// every instance that LISTENs, so a change committed through instance A
// reaches a subscriber connected to instance B. Each instance holds one
// listening connection (lib/pq's Listener, which reconnects by itself).
//
// The hub carries ids only: a subscriber reads the rows back through the
// store, with its tenant scope in the SQL. Handing an id to a subscriber
// never blocks: each has a bounded queue, and a subscriber that falls
// behind by more than it holds is told to rescan (read everything after
// the last event it sent) instead of holding up the others. After the
// listening connection was lost and regained, every subscriber rescans,
// so notifications sent while it was down are caught up from the table
// rather than lost.
package live

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"

	"tenantapi/tenant"
)

// Channel is the PostgreSQL notification channel of events.
const Channel = "tenant_events"

// Defaults of Options.
const (
	DefaultPerCredential = 10
	DefaultQueue         = 256
)

// Options tune a Hub; zero fields take the defaults.
type Options struct {
	// PerCredential caps the subscriptions one credential (an API key, or
	// the admin secret) holds open at once in this instance
	// (LIVE_SUBSCRIPTIONS_PER_CREDENTIAL, 10).
	PerCredential int
	// Queue is how many event ids a subscriber may have waiting before it
	// is told to rescan instead (256).
	Queue int
	// OnEvent is called, without blocking, for every notification and
	// after every reconnection (server.go wakes the webhook worker with it).
	OnEvent func()
	Log     *slog.Logger
}

// Hub is one instance's listener and its subscribers.
type Hub struct {
	url  string
	opts Options

	mu    sync.Mutex
	subs  map[string]map[*Sub]struct{} // by tenant id
	perCr map[string]int               // open subscriptions by credential
	ready chan struct{}                // closed once the listener is connected
	once  sync.Once
}

// New returns a Hub that listens through a connection to dbURL; Run
// starts it.
func New(dbURL string, opts Options) *Hub {
	if opts.PerCredential <= 0 {
		opts.PerCredential = DefaultPerCredential
	}
	if opts.Queue <= 0 {
		opts.Queue = DefaultQueue
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Hub{url: dbURL, opts: opts, subs: map[string]map[*Sub]struct{}{}, perCr: map[string]int{}, ready: make(chan struct{})}
}

// Ready is closed once the hub listens: notifications committed after it
// reach the subscribers (tests wait for it).
func (h *Hub) Ready() <-chan struct{} { return h.ready }

// Run listens until ctx ends.
func (h *Hub) Run(ctx context.Context) error {
	l := pq.NewListener(h.url, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventConnectionAttemptFailed, pq.ListenerEventDisconnected:
			if ctx.Err() == nil {
				h.opts.Log.Warn("live subscriptions: the listening connection is down; reconnecting", "err", err)
			}
		case pq.ListenerEventReconnected:
			h.opts.Log.Info("live subscriptions: listening again; subscribers catch up from the event log")
		}
	})
	defer l.Close()
	if err := l.Listen(Channel); err != nil {
		return err
	}
	h.once.Do(func() { close(h.ready) })
	ping := time.NewTicker(30 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-l.Notify:
			if n == nil {
				// Reconnected: what was sent while the connection was down
				// is lost to LISTEN, not to the table.
				h.rescanAll()
			} else {
				h.dispatch(n.Extra)
			}
			if h.opts.OnEvent != nil {
				h.opts.OnEvent()
			}
		case <-ping.C:
			// A dead connection is noticed (and re-established) by a ping
			// when no notification comes.
			go func() { _ = l.Ping() }()
		}
	}
}

// dispatch hands the event of one notification to its tenant's
// subscribers.
func (h *Hub) dispatch(extra string) {
	tenantID, eventID, ok := strings.Cut(extra, ":")
	if !ok {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[tenantID] {
		s.push(eventID)
	}
}

func (h *Hub) rescanAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, set := range h.subs {
		for s := range set {
			s.markRescan()
		}
	}
}

// Subscribe registers a subscriber to tenantID's events for the actor of
// ctx; Close ends it. Codes: ERATELIMITED (the credential holds
// Options.PerCredential subscriptions already).
func (h *Hub) Subscribe(ctx context.Context, tenantID string) (*Sub, error) {
	cred := tenant.ActorFrom(ctx).ActorID()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.perCr[cred] >= h.opts.PerCredential {
		return nil, tenant.Errorf(tenant.ERATELIMITED,
			"this credential already holds %d live subscriptions, the most this server allows at once (LIVE_SUBSCRIPTIONS_PER_CREDENTIAL): complete one first", h.opts.PerCredential)
	}
	h.perCr[cred]++
	s := &Sub{h: h, tenantID: tenantID, cred: cred, max: h.opts.Queue, signal: make(chan struct{}, 1)}
	if h.subs[tenantID] == nil {
		h.subs[tenantID] = map[*Sub]struct{}{}
	}
	h.subs[tenantID][s] = struct{}{}
	return s, nil
}

// Sub is one subscription's queue of event ids.
type Sub struct {
	h        *Hub
	tenantID string
	cred     string
	max      int
	signal   chan struct{} // holds one token while something waits

	mu      sync.Mutex
	pending []string
	rescan  bool
	closed  bool
}

// C receives a token when ids are waiting or a rescan is due: call Take.
func (s *Sub) C() <-chan struct{} { return s.signal }

// Take returns the event ids waiting, in notification (commit) order, and
// whether the subscriber must rescan instead: read every event after the
// last one it sent, because some ids were dropped.
func (s *Sub) Take() (ids []string, rescan bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids, rescan = s.pending, s.rescan
	s.pending, s.rescan = nil, false
	return ids, rescan
}

func (s *Sub) push(id string) {
	s.mu.Lock()
	if len(s.pending) >= s.max {
		s.pending, s.rescan = nil, true // coalesce: a rescan covers them all
	} else if !s.rescan {
		s.pending = append(s.pending, id)
	}
	s.mu.Unlock()
	s.wake()
}

// Rescan asks for a rescan at the next Take (a read that failed).
func (s *Sub) Rescan() { s.markRescan() }

func (s *Sub) markRescan() {
	s.mu.Lock()
	s.pending, s.rescan = nil, true
	s.mu.Unlock()
	s.wake()
}

func (s *Sub) wake() {
	select {
	case s.signal <- struct{}{}:
	default: // a token is waiting already
	}
}

// Close unregisters the subscriber; it may be called more than once.
func (s *Sub) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs[s.tenantID], s)
	if len(h.subs[s.tenantID]) == 0 {
		delete(h.subs, s.tenantID)
	}
	if h.perCr[s.cred]--; h.perCr[s.cred] <= 0 {
		delete(h.perCr, s.cred)
	}
}

// Count is how many subscribers tenantID has in this instance.
func (h *Hub) Count(tenantID string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs[tenantID])
}
