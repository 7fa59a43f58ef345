package httpapi_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentUpdatesOneWins sends two updateTenantSettings with the same
// expectedVersion at the same moment, 20 times: each time exactly one
// succeeds, the other answers CONFLICT, and the settings hold the winner's
// values whole (nothing of the loser's), at the next version, with one
// audit entry.
func TestConcurrentUpdatesOneWins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Contended Co", "contended.example.com")
	keys := [2]string{e.createKey(id, "TENANT_READ", "TENANT_UPDATE"), e.createKey(id, "TENANT_READ", "TENANT_UPDATE")}
	const q = `mutation($in: UpdateTenantSettingsInput!) { updateTenantSettings(input: $in) { settings { version auditLogRetentionDays deduplicateTokens } } }`
	type outcome struct {
		r    *result
		days int
	}
	for round := range 20 {
		version := settingsVersion(t, e, id)
		start := make(chan struct{})
		var wg sync.WaitGroup
		var outs [2]outcome
		for i := range 2 {
			// Each contender changes two fields, to distinct values, so a
			// half-saved mix would show.
			days := 100 + round*10 + i
			in := map[string]any{"expectedVersion": version, "auditLogRetentionDays": days, "deduplicateTokens": i == 1}
			wg.Go(func() {
				<-start
				outs[i] = outcome{e.gql(keys[i], q, map[string]any{"in": in}), days}
			})
		}
		close(start)
		wg.Wait()
		var winner *outcome
		for i := range outs {
			switch o := &outs[i]; o.r.Code() {
			case "":
				if winner != nil {
					t.Fatalf("round %d: both updates with expectedVersion %d succeeded", round, version)
				}
				winner = o
			case "CONFLICT":
				if o.r.Field() != "expectedVersion" || !strings.Contains(o.r.Errors[0].Message, fmt.Sprintf("expected version %d, current version %d", version, version+1)) {
					t.Errorf("round %d: conflict = %s", round, o.r.Raw)
				}
			default:
				t.Fatalf("round %d: %s", round, o.r.Raw)
			}
		}
		if winner == nil {
			t.Fatalf("round %d: neither update succeeded", round)
		}
		var now struct {
			Tenant struct {
				Settings struct {
					Version               int
					AuditLogRetentionDays int
					DeduplicateTokens     bool
				}
			}
		}
		e.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { settings { version auditLogRetentionDays deduplicateTokens } } }`, map[string]any{"id": id}, &now)
		st := now.Tenant.Settings
		if st.Version != version+1 || st.AuditLogRetentionDays != winner.days || st.DeduplicateTokens != (winner.days%2 == 1) {
			t.Fatalf("round %d: settings %+v, want version %d with the winner's retention %d and its deduplicateTokens", round, st, version+1, winner.days)
		}
	}
	if n := len(e.entriesFor(id, "updateTenantSettings")); n != 20 {
		t.Errorf("%d audit entries for 20 winning updates, want 20", n)
	}
}
