package ratelimit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"tenantapi/ratelimit"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func mustAllow(t *testing.T, l ratelimit.Limiter, key string, perMinute int) ratelimit.Decision {
	t.Helper()
	d, err := l.Allow(context.Background(), key, perMinute)
	if err != nil {
		t.Fatalf("Allow(%q, %d): %v", key, perMinute, err)
	}
	return d
}

// exhaust spends a fresh key's whole budget, checking that remaining
// counts down by one, and returns the refusal that follows.
func exhaust(t *testing.T, l ratelimit.Limiter, key string, perMinute int) ratelimit.Decision {
	t.Helper()
	for i := range perMinute {
		d := mustAllow(t, l, key, perMinute)
		if !d.Allowed || d.Remaining != perMinute-1-i || d.Limit != perMinute || d.Window != time.Minute || d.RetryAfter != 0 {
			t.Fatalf("request %d of %d: %+v, want allowed with %d remaining", i+1, perMinute, d, perMinute-1-i)
		}
	}
	d := mustAllow(t, l, key, perMinute)
	if d.Allowed || d.Remaining != 0 {
		t.Fatalf("request %d of %d: %+v, want refused", perMinute+1, perMinute, d)
	}
	return d
}

// conformance is what both limiters must do; it relies on no clock moving
// more than a second or so while it runs.
func conformance(t *testing.T, newLimiter func(t *testing.T) ratelimit.Limiter) {
	t.Run("OK", func(t *testing.T) {
		l := newLimiter(t)
		d := mustAllow(t, l, "tenant:a", 100)
		if !d.Allowed || d.Remaining != 99 || d.ResetAfter <= 0 || d.ResetAfter > time.Second {
			t.Fatalf("first request: %+v, want allowed, 99 remaining, whole again within 0.6 s", d)
		}
	})
	t.Run("ErrExhausted", func(t *testing.T) {
		l := newLimiter(t)
		d := exhaust(t, l, "tenant:a", 5)
		// 5 a minute: one comes back every 12 s; the whole budget in 60 s.
		if d.RetryAfter <= 10*time.Second || d.RetryAfter > 12*time.Second {
			t.Errorf("RetryAfter = %v, want just under 12s", d.RetryAfter)
		}
		if d.ResetAfter <= 58*time.Second || d.ResetAfter > time.Minute {
			t.Errorf("ResetAfter = %v, want just under 1m", d.ResetAfter)
		}
		if again := mustAllow(t, l, "tenant:a", 5); again.Allowed {
			t.Errorf("a refused request was counted as free: %+v", again)
		}
	})
	t.Run("OKOtherKeyUnaffected", func(t *testing.T) {
		l := newLimiter(t)
		exhaust(t, l, "tenant:a", 3)
		if d := mustAllow(t, l, "tenant:b", 3); !d.Allowed || d.Remaining != 2 {
			t.Fatalf("another key after the first is exhausted: %+v, want its full budget", d)
		}
	})
	t.Run("OKBudgetRaised", func(t *testing.T) {
		// A plan upgrade applies to the next request, keeping the part of
		// the window already used: 5 of 5 used is the whole window, which
		// at 10 a minute still leaves none; 5 of 10 leaves 4 after this one.
		l := newLimiter(t)
		exhaust(t, l, "tenant:a", 5)
		if d := mustAllow(t, l, "tenant:a", 10); d.Allowed {
			t.Fatalf("after using the whole window at 5/min, at 10/min: %+v, want refused", d)
		}
		l2 := newLimiter(t)
		for range 5 {
			mustAllow(t, l2, "tenant:a", 10)
		}
		if d := mustAllow(t, l2, "tenant:a", 1000); !d.Allowed || d.Remaining < 490 || d.Remaining > 499 {
			t.Fatalf("half a window used, budget raised to 1000: %+v, want about 499 remaining", d)
		}
	})
	t.Run("ErrBudget", func(t *testing.T) {
		l := newLimiter(t)
		if _, err := l.Allow(context.Background(), "tenant:a", 0); err == nil {
			t.Fatal("a budget of 0 requests a minute was accepted")
		}
	})
}

func TestMemory(t *testing.T) {
	conformance(t, func(t *testing.T) ratelimit.Limiter {
		return ratelimit.NewMemory(ratelimit.MemoryOptions{Now: newClock().Now})
	})
}

// TestMemoryRefill: requests come back one per minute/budget, and the whole
// budget after a minute.
func TestMemoryRefill(t *testing.T) {
	c := newClock()
	l := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: c.Now})
	d := exhaust(t, l, "tenant:a", 100)
	if d.RetryAfter != 600*time.Millisecond || d.ResetAfter != time.Minute {
		t.Fatalf("refusal at 100/min: %+v, want RetryAfter 600ms, ResetAfter 1m", d)
	}
	c.Advance(599 * time.Millisecond)
	if d := mustAllow(t, l, "tenant:a", 100); d.Allowed || d.RetryAfter != time.Millisecond {
		t.Fatalf("1 ms early: %+v, want refused, retry after 1ms", d)
	}
	c.Advance(time.Millisecond)
	if d := mustAllow(t, l, "tenant:a", 100); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("after 600ms: %+v, want one request allowed", d)
	}
	c.Advance(time.Minute)
	if d := mustAllow(t, l, "tenant:a", 100); !d.Allowed || d.Remaining != 99 {
		t.Fatalf("after a minute idle: %+v, want the whole budget", d)
	}
}

// TestMemoryEviction: keys whose budget is whole again are forgotten, and
// the map never grows past MaxKeys.
func TestMemoryEviction(t *testing.T) {
	t.Run("OKIdle", func(t *testing.T) {
		c := newClock()
		l := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: c.Now})
		for _, k := range []string{"ip:192.0.2.1", "ip:192.0.2.2", "ip:192.0.2.3"} {
			mustAllow(t, l, k, 60)
		}
		exhaust(t, l, "tenant:busy", 60)
		c.Advance(time.Minute)
		mustAllow(t, l, "tenant:busy", 60) // a minute since the last sweep: sweeps first
		if n := l.Len(); n != 1 {
			t.Fatalf("after a minute idle, %d keys have state, want only the one just used", n)
		}
	})
	t.Run("OKBounded", func(t *testing.T) {
		c := newClock()
		l := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: c.Now, MaxKeys: 100})
		for i := range 1000 {
			mustAllow(t, l, "ip:"+string(rune('a'+i%26))+hex.EncodeToString([]byte{byte(i >> 8), byte(i)}), 60)
			if n := l.Len(); n > 100 {
				t.Fatalf("after %d keys, %d have state, want at most 100", i+1, n)
			}
		}
	})
}

// TestMemoryConcurrent: concurrent requests never get more than the budget.
func TestMemoryConcurrent(t *testing.T) {
	l := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: newClock().Now})
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if d := mustAllow(t, l, "tenant:a", 100); d.Allowed {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 100 {
		t.Fatalf("%d of 400 concurrent requests allowed, want exactly 100", allowed)
	}
}

// redisURL is the Redis of the tests (scripts/test.sh sets it), or skips.
func redisURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		t.Skip("TEST_REDIS_URL is unset: scripts/test.sh sets it when a Redis answers on 127.0.0.1:6379 or redis-server is installed (apt-get install redis-server)")
	}
	return u
}

// testPrefix keeps each test's keys apart from every other test's, so tests
// may run in parallel against one Redis.
func testPrefix(t *testing.T) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "test:" + t.Name() + ":" + hex.EncodeToString(b[:]) + ":"
}

func openRedis(t *testing.T, url, prefix string, fallback ratelimit.Limiter) *ratelimit.Redis {
	t.Helper()
	r, err := ratelimit.OpenRedis(url, ratelimit.RedisOptions{Prefix: prefix, Fallback: fallback, Cooldown: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestRedis(t *testing.T) {
	url := redisURL(t)
	conformance(t, func(t *testing.T) ratelimit.Limiter {
		r := openRedis(t, url, testPrefix(t), nil)
		if err := r.Ping(context.Background()); err != nil {
			t.Fatalf("Redis at TEST_REDIS_URL does not answer: %v", err)
		}
		return r
	})
}

// TestRedisShared: two limiters (two API instances) on one Redis share one
// budget per key.
func TestRedisShared(t *testing.T) {
	url := redisURL(t)
	prefix := testPrefix(t)
	a, b := openRedis(t, url, prefix, nil), openRedis(t, url, prefix, nil)
	for i := range 10 {
		l := a
		if i%2 == 1 {
			l = b
		}
		if d := mustAllow(t, l, "tenant:x", 10); !d.Allowed || d.Remaining != 9-i {
			t.Fatalf("request %d, alternating instances: %+v, want %d remaining", i+1, d, 9-i)
		}
	}
	for _, l := range []*ratelimit.Redis{a, b} {
		if d := mustAllow(t, l, "tenant:x", 10); d.Allowed {
			t.Fatalf("11th request: %+v, want refused by both instances", d)
		}
	}
}

// TestRedisFailover: with Redis unreachable, the fallback answers at once
// (the failure is counted), or without one the error reaches the caller.
func TestRedisFailover(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "redis://" + ln.Addr().String() + "/0"
	ln.Close() // nothing listens there any more: connections are refused

	t.Run("OKFallback", func(t *testing.T) {
		local := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: newClock().Now})
		r := openRedis(t, dead, testPrefix(t), local)
		exhaust(t, r, "tenant:a", 3) // the fallback enforces the budget
		if r.Failures() != 1 || !r.Degraded() {
			t.Fatalf("Failures() = %d, Degraded() = %v: want 1 failure (then the cooldown skips Redis), degraded", r.Failures(), r.Degraded())
		}
	})
	t.Run("ErrNoFallback", func(t *testing.T) {
		r := openRedis(t, dead, testPrefix(t), nil)
		if _, err := r.Allow(context.Background(), "tenant:a", 3); err == nil {
			t.Fatal("Allow succeeded with Redis unreachable and no fallback")
		}
	})
}
