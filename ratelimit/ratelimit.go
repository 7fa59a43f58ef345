// Package ratelimit limits requests per key to a budget of requests a
// minute with GCRA (the generic cell rate algorithm): an in-process limiter
// (Memory) and a Redis-backed one (Redis) that several API instances share.
// Both run the same arithmetic, the one of go-redis/redis_rate's Lua script,
// so they give the same answers to the same requests.
//
// GCRA with a burst equal to the rate behaves like a token bucket holding a
// minute's budget and refilled continuously: a fresh key may spend its whole
// budget at once, then gets one request back every minute/budget. Its state
// is one instant per key (the theoretical arrival time, TAT); a key whose TAT
// has passed holds its full budget and needs no state at all, which makes
// forgetting idle keys lossless.
package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Window is the period budgets are expressed in: requests a minute.
const Window = time.Minute

// Decision is the outcome of one request against a key's budget.
type Decision struct {
	Allowed   bool
	Limit     int           // the budget: requests per Window
	Remaining int           // requests that may still be sent at once
	Window    time.Duration // always Window
	// RetryAfter is, for a refused request, how long until one request is
	// allowed again; 0 when allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the whole budget is available again.
	ResetAfter time.Duration
}

// Limiter decides whether one more request charged to key fits a budget of
// perMinute requests a minute, and counts it when it does. The budget is
// passed with each request so that a change (a tenant's new plan) applies
// to the next request: GCRA keeps the fraction of the window consumed.
type Limiter interface {
	Allow(ctx context.Context, key string, perMinute int) (Decision, error)
}

// gcra charges one request at now to a key whose theoretical arrival time is
// tat (zero for a key without state) and returns the decision and the new
// TAT to keep (unchanged when refused). It is redis_rate's allowN with
// burst = rate and cost 1.
func gcra(now, tat time.Time, perMinute int) (Decision, time.Time) {
	interval := Window / time.Duration(perMinute) // one request's share of the window
	burst := interval * time.Duration(perMinute)  // how far ahead of now the TAT may run
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	diff := now.Sub(next.Add(-burst)) // negative: the request arrived before it is allowed
	d := Decision{Limit: perMinute, Window: Window}
	if diff < 0 {
		d.RetryAfter, d.ResetAfter = -diff, tat.Sub(now)
		return d, tat
	}
	d.Allowed, d.Remaining, d.ResetAfter = true, int(diff/interval), next.Sub(now)
	return d, next
}

// MemoryOptions tune the in-process limiter.
type MemoryOptions struct {
	// Now is the clock; time.Now when nil. Tests inject one.
	Now func() time.Time
	// MaxKeys bounds the keys tracked at once (100,000 when 0). Keys whose
	// budget is full again are forgotten first (losslessly); past the bound
	// with none of those, arbitrary keys are forgotten, each getting its
	// full budget back: the bound protects memory against a flood of
	// anonymous addresses, at the price of leniency towards them.
	MaxKeys int
}

// Memory is the in-process limiter: one TAT per key in a bounded map, keys
// forgotten once idle long enough for their budget to be full. It is safe
// for concurrent use. Each API instance has its own: behind a load balancer
// with n instances a tenant gets up to n times its budget (use Redis).
type Memory struct {
	now     func() time.Time
	maxKeys int

	mu        sync.Mutex
	tat       map[string]time.Time
	lastSweep time.Time
}

// NewMemory returns an in-process limiter.
func NewMemory(o MemoryOptions) *Memory {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = 100_000
	}
	return &Memory{now: o.Now, maxKeys: o.MaxKeys, tat: make(map[string]time.Time)}
}

// Allow implements Limiter. It never fails but for a budget below 1.
func (m *Memory) Allow(_ context.Context, key string, perMinute int) (Decision, error) {
	if perMinute < 1 {
		return Decision{}, fmt.Errorf("ratelimit: a budget must be at least 1 request a minute, got %d", perMinute)
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if now.Sub(m.lastSweep) >= Window {
		m.sweep(now)
	}
	tat, known := m.tat[key]
	d, next := gcra(now, tat, perMinute)
	if d.Allowed {
		if !known && len(m.tat) >= m.maxKeys {
			m.makeRoom(now)
		}
		m.tat[key] = next
	}
	return d, nil
}

// Len reports how many keys have state.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tat)
}

// sweep forgets the keys whose budget is full again: they read exactly as
// keys never seen.
func (m *Memory) sweep(now time.Time) {
	for k, tat := range m.tat {
		if !tat.After(now) {
			delete(m.tat, k)
		}
	}
	m.lastSweep = now
}

// makeRoom sweeps and, if the map is still full, forgets arbitrary keys
// down to 90% of the bound, so the next sweep is thousands of inserts away.
func (m *Memory) makeRoom(now time.Time) {
	m.sweep(now)
	for k := range m.tat {
		if len(m.tat) < m.maxKeys*9/10 {
			break
		}
		delete(m.tat, k)
	}
}
