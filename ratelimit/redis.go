package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// RedisOptions tune the Redis-backed limiter.
type RedisOptions struct {
	// Prefix starts every key ("tenantapi:" when empty), so environments
	// (and tests) sharing one Redis keep separate budgets. redis_rate adds
	// its own "rate:" in front.
	Prefix string
	// Fallback answers while Redis does not. nil: Allow returns the error
	// and the caller decides.
	Fallback Limiter
	// Timeout bounds one Redis round trip (250 ms when 0), so an outage
	// costs a request at most that before the fallback answers.
	Timeout time.Duration
	// Cooldown is how long the fallback answers alone after a failure
	// before Redis is tried again (5 s when 0), so an outage does not cost
	// every request a timeout.
	Cooldown time.Duration
	// Logger receives one warning when Redis stops answering and one line
	// when it answers again; slog.Default() when nil.
	Logger *slog.Logger
}

// Redis is the limiter shared by every API instance using the same Redis:
// go-redis/redis_rate's GCRA, run as a Lua script, so each decision is one
// atomic round trip and the clock is Redis's own (instances' clocks may
// differ). Keys expire in Redis once their budget is full again.
//
// When Redis fails it fails over, neither open nor closed: Fallback (the
// in-process limiter in production) answers, so every instance keeps
// enforcing each budget on its own while Redis is away. Failures counts the
// failed round trips for metrics.
type Redis struct {
	client   redis.UniversalClient
	limiter  *redis_rate.Limiter
	prefix   string
	fallback Limiter
	timeout  time.Duration
	cooldown time.Duration
	log      *slog.Logger

	failures  atomic.Uint64
	downUntil atomic.Int64 // UnixNano until which Redis is not tried
	down      atomic.Bool  // Redis is failing (for the two log lines)
}

// NewRedis returns a limiter over client.
func NewRedis(client redis.UniversalClient, o RedisOptions) *Redis {
	if o.Prefix == "" {
		o.Prefix = "tenantapi:"
	}
	if o.Timeout <= 0 {
		o.Timeout = 250 * time.Millisecond
	}
	if o.Cooldown <= 0 {
		o.Cooldown = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Redis{client: client, limiter: redis_rate.NewLimiter(client), prefix: o.Prefix, fallback: o.Fallback,
		timeout: o.Timeout, cooldown: o.Cooldown, log: o.Logger}
}

// ParseRedisURL checks a redis:// or rediss:// (TLS) URL. Its error never
// repeats the URL, which may hold a password.
func ParseRedisURL(url string) (*redis.Options, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, errors.New("not a Redis URL: use redis://[:password@]host:port/db, or rediss:// for TLS")
	}
	return opt, nil
}

// OpenRedis connects to the Redis at url (see ParseRedisURL) with short
// timeouts: a rate limiter must answer fast or step aside. It does not
// wait for Redis to answer: the fallback covers an unreachable one.
func OpenRedis(url string, o RedisOptions) (*Redis, error) {
	opt, err := ParseRedisURL(url)
	if err != nil {
		return nil, err
	}
	opt.DialTimeout = time.Second
	opt.ReadTimeout = 500 * time.Millisecond
	opt.WriteTimeout = 500 * time.Millisecond
	opt.MaxRetries = 1
	quietRedisLog.Do(func() { redis.SetLogger(debugLogger{}) })
	return NewRedis(redis.NewClient(opt), o), nil
}

// go-redis prints each failed dial to stderr on its own; Redis.Allow already
// logs an outage once (and its end), so those lines go to slog at debug
// level. SetLogger is process-wide: this package is go-redis's only user.
var quietRedisLog sync.Once

type debugLogger struct{}

func (debugLogger) Printf(ctx context.Context, format string, v ...any) {
	slog.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}

// Close closes the Redis client.
func (r *Redis) Close() error { return r.client.Close() }

// Ping checks that Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	return r.client.Ping(ctx).Err()
}

// Failures counts the Redis round trips that failed since start.
func (r *Redis) Failures() uint64 { return r.failures.Load() }

// Degraded reports whether the fallback is answering instead of Redis.
func (r *Redis) Degraded() bool { return r.down.Load() }

// Allow implements Limiter.
func (r *Redis) Allow(ctx context.Context, key string, perMinute int) (Decision, error) {
	if perMinute < 1 {
		return Decision{}, errors.New("ratelimit: a budget must be at least 1 request a minute")
	}
	if r.fallback != nil && time.Now().UnixNano() < r.downUntil.Load() {
		return r.fallback.Allow(ctx, key, perMinute)
	}
	rctx, cancel := context.WithTimeout(ctx, r.timeout)
	res, err := r.limiter.Allow(rctx, r.prefix+key, redis_rate.PerMinute(perMinute))
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return Decision{}, ctx.Err() // the caller went away: not Redis's fault
		}
		r.failures.Add(1)
		r.downUntil.Store(time.Now().Add(r.cooldown).UnixNano())
		if r.down.CompareAndSwap(false, true) {
			r.log.Warn("rate limiter: Redis does not answer; each instance enforces the budgets on its own until it does",
				"err", err, "retry_in", r.cooldown.String())
		}
		if r.fallback == nil {
			return Decision{}, err
		}
		return r.fallback.Allow(ctx, key, perMinute)
	}
	if r.down.CompareAndSwap(true, false) {
		r.log.Info("rate limiter: Redis answers again; budgets are shared again")
	}
	d := Decision{Allowed: res.Allowed > 0, Limit: perMinute, Window: Window, ResetAfter: res.ResetAfter}
	if d.Allowed {
		d.Remaining = remaining(res.ResetAfter, perMinute)
	} else {
		d.RetryAfter = res.RetryAfter
	}
	return d, nil
}

// remaining recomputes an allowed request's remaining budget from its reset
// time (remaining = (window − resetAfter) / interval, exactly, in GCRA).
// redis_rate's Lua computes it in floating-point seconds since 2017 and
// truncates, so 60/100 = 0.6 s intervals come back one short: 98 left after
// the first of 100. A microsecond of slack absorbs that error, far below
// any interval.
func remaining(resetAfter time.Duration, perMinute int) int {
	n := int((Window - resetAfter + time.Microsecond) / (Window / time.Duration(perMinute)))
	return max(0, min(n, perMinute-1))
}
