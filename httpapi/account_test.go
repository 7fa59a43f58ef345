package httpapi_test

import (
	"testing"
	"time"
)

const qAccount = `query($id: ID!) { tenant(id: $id) { accountStatus {
	subscription { status plan { id } month limits { interactionsPerMonth users } usage { interactionsThisMonth activeUsers }
		remaining { interactions users policies } }
	credits { remaining }
	watchlist { availableSeats remainingSeats }
	requiresPayment canDoScreening } } }`

type accountOut struct {
	Tenant struct {
		AccountStatus struct {
			Subscription struct {
				Status    string
				Plan      struct{ ID string }
				Month     string
				Remaining struct{ Interactions, Users, Policies *int }
			}
			Credits         struct{ Remaining int }
			RequiresPayment bool
			CanDoScreening  bool
		}
	}
}

// TestAccountStatus walks a starter tenant through the reference's states:
// quota left, quota used up (no screening), credits granted (screening
// again), subscription cancelled with credits (no payment needed yet), and
// cancelled without credits (payment required).
func TestAccountStatus(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	e := newUsageEnv(t, now)
	id, key := e.tenantOn("starter")
	read := func(token string) accountOut {
		t.Helper()
		var out accountOut
		e.mustGQL(token, qAccount, map[string]any{"id": id}, &out)
		return out
	}
	check := func(name string, got accountOut, status string, remaining, credits int, requiresPayment, canScreen bool) {
		t.Helper()
		a := got.Tenant.AccountStatus
		if a.Subscription.Status != status || a.Subscription.Plan.ID != "starter" || a.Subscription.Month != "2026-11-01" ||
			a.Subscription.Remaining.Interactions == nil || *a.Subscription.Remaining.Interactions != remaining ||
			a.Credits.Remaining != credits || a.RequiresPayment != requiresPayment || a.CanDoScreening != canScreen {
			t.Errorf("%s: %+v (remaining %v)", name, a, a.Subscription.Remaining.Interactions)
		}
	}

	check("OKFresh", read(key), "ACTIVE", 10000, 0, false, true)
	e.seedUsed(id, "2026-11-02", 10000)
	check("ErrQuotaUsedUp", read(key), "ACTIVE", 0, 0, false, false)
	e.grant(id, 500, nil, "welcome")
	check("OKCredits", read(key), "ACTIVE", 0, 500, false, true)
	e.mustGQL(testAdminSecret, `mutation($id: ID) { updateBilling(input: {tenantId: $id, status: CANCELLED}) { billing { status } } }`, map[string]any{"id": id}, nil)
	check("OKCancelledWithCredits", read(key), "CANCELLED", 0, 500, false, true)

	// Another tenant, cancelled with no credits: payment required.
	id2, key2 := e.tenantOn("starter")
	e.mustGQL(testAdminSecret, `mutation($id: ID) { updateBilling(input: {tenantId: $id, status: CANCELLED}) { billing { status } } }`, map[string]any{"id": id2}, nil)
	var out accountOut
	e.mustGQL(key2, qAccount, map[string]any{"id": id2}, &out)
	if a := out.Tenant.AccountStatus; !a.RequiresPayment || a.CanDoScreening {
		t.Errorf("ErrCancelledNoCredits: %+v", a)
	}

	// Permission: BILLING_READ.
	limited := e.createKey(id, "TENANT_READ")
	r := e.gql(limited, qAccount, map[string]any{"id": id})
	if r.Code() != "FORBIDDEN" || len(r.Errors[0].Path) != 2 {
		t.Errorf("ErrNoBillingRead: %s", r.Raw)
	}
	// Isolation: another tenant's key cannot read it.
	if r := e.gql(key2, qAccount, map[string]any{"id": id}); r.Code() != "NOT_FOUND" {
		t.Errorf("ErrOtherTenant: %s", r.Raw)
	}
}
