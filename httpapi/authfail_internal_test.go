package httpapi

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"tenantapi/ratelimit"
	"tenantapi/tenant"
)

// TestPenaltyLookupsBounded: the key lookups of addresses past their
// failed-authentication budget share maxPenaltyLookups slots; one that
// cannot get a slot before its deadline answers EUNAVAILABLE (a 503), not a
// refusal of the key, and a slot comes back when a lookup ends.
func TestPenaltyLookupsBounded(t *testing.T) {
	f := newAuthFailures(Config{RateLimiter: ratelimit.NewMemory(ratelimit.MemoryOptions{}), FailedAuthPerMinute: 1})
	var releases []func()
	for range maxPenaltyLookups {
		release, err := f.lookup(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := f.lookup(ctx); tenant.ErrorCode(err) != tenant.EUNAVAILABLE || !strings.Contains(err.Error(), "could not be checked in time") {
		t.Fatalf("lookup with every slot taken: %v, want EUNAVAILABLE", err)
	}
	releases[0]()
	release, err := f.lookup(context.Background())
	if err != nil {
		t.Fatalf("lookup after a slot came back: %v", err)
	}
	release()
	if _, refused := f.refusing(netip.MustParseAddr("203.0.113.1")); refused {
		t.Fatal("an address that never failed is refused")
	}
}
