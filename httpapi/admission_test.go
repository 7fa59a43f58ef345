package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"tenantapi/httpapi"
	"tenantapi/live"
)

// TestAdmission: with QUERY_MAX_CONCURRENT=1, an operation that waits for
// the only slot past its deadline answers SERVICE_UNAVAILABLE and runs
// nothing; one that waits less runs as soon as the slot frees.
func TestAdmission(t *testing.T) {
	t.Parallel()
	entered := make(chan string, 10)
	release := map[string]chan struct{}{"held1": make(chan struct{}), "held2": make(chan struct{})}
	e := newEnvWith(t, func(c *httpapi.Config) {
		c.MaxConcurrent = 1
		c.RequestTimeout = time.Second
		httpapi.SetFieldMiddleware(c, func(ctx context.Context, next graphql.Resolver) (any, error) {
			if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Object == "Query" {
				entered <- fc.Field.Alias
				if ch := release[fc.Field.Alias]; ch != nil {
					<-ch
				}
			}
			return next(ctx)
		})
	})
	hold := func(alias string) chan *result {
		out := make(chan *result, 1)
		go func() { out <- e.gql("", `{ `+alias+`: plans { id } }`, nil) }()
		if got := <-entered; got != alias {
			t.Fatalf("%s ran first", got)
		}
		return out
	}

	// Past its deadline in the queue: refused, nothing of it ran.
	first := hold("held1")
	r := e.gql("", `{ late: plans { id } }`, nil)
	if r.Code() != "SERVICE_UNAVAILABLE" || len(entered) != 0 {
		t.Fatalf("an operation that waited past its deadline = %s", r.Raw)
	}
	close(release["held1"])
	<-first // past its own deadline too, by now

	// A waiting operation runs as soon as the slot frees.
	held := hold("held2")
	waiting := make(chan *result, 1)
	go func() { waiting <- e.gql("", `{ waiting: plans { id } }`, nil) }()
	select {
	case got := <-entered:
		t.Fatalf("%s ran while held2 held the only slot", got)
	case <-time.After(200 * time.Millisecond):
	}
	close(release["held2"])
	for _, c := range []chan *result{held, waiting} {
		if r := <-c; len(r.Errors) != 0 {
			t.Errorf("after the slot freed: %s", r.Raw)
		}
	}
}

// TestAdmissionLeavesSubscriptionsOut: open subscriptions waiting for
// their next event hold no slot, so with QUERY_MAX_CONCURRENT=1 queries
// still run, and the subscribers still get their events.
func TestAdmissionLeavesSubscriptionsOut(t *testing.T) {
	t.Parallel()
	e, hub := liveEnv(t, "", live.Options{}, func(c *httpapi.Config) { c.MaxConcurrent = 1 })
	a := e.createTenant("Admission Live", randomDomain())
	key, _ := e.createKeyWithID(a, "EVENTS_READ", "TENANT_READ")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	streams := []<-chan result{
		sseStream(t, ctx, e, key, `subscription { tenantEvents { id } }`),
		sseStream(t, ctx, e, key, `subscription { tenantEvents { id } }`),
	}
	waitSubscribers(t, hub, a, 2)
	renameTenant(e, a, "Admission Live, renamed") // a query and mutations run with both open
	for i, s := range streams {
		select {
		case r, ok := <-s:
			if !ok || len(r.Errors) != 0 {
				t.Errorf("subscriber %d: %s", i, r.Raw)
			}
		case <-ctx.Done():
			t.Fatalf("subscriber %d got no event", i)
		}
	}
}
