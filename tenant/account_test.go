package tenant

import "testing"

func TestNewAccountStatus(t *testing.T) {
	ten, zero := 10000, 0
	five := 5
	plan := &Plan{ID: "starter", Users: &five, InteractionsPerMonth: &ten, APIRequestsPerMinute: 100}
	unlimited := &Plan{ID: "enterprise", APIRequestsPerMinute: 5000}
	tests := []struct {
		name             string
		status           BillingStatus
		plan             *Plan
		remaining        *int
		credits          int
		wantPay, wantRun bool
	}{
		{"OKActiveQuotaLeft", BillingActive, plan, &ten, 0, false, true},
		{"ErrActiveQuotaUsedUp", BillingActive, plan, &zero, 0, false, false},
		{"OKActiveCreditsAfterQuota", BillingActive, plan, &zero, 10, false, true},
		{"OKUnlimited", BillingActive, unlimited, nil, 0, false, true},
		{"ErrPastDueNoCredits", BillingPastDue, plan, &ten, 0, true, false},
		{"OKCancelledWithCredits", BillingCancelled, plan, &ten, 3, false, true},
		{"ErrNone", BillingNone, plan, &ten, 0, true, false},
		{"ErrCancelledNoCredits", BillingCancelled, plan, &ten, 0, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAccountStatus(StatusActive, &Billing{Status: tc.status}, tc.plan, &Quota{Remaining: tc.remaining}, &Usage{ActiveUsers: 7},
				&Credits{Remaining: tc.credits}, &WatchlistSeats{})
			if a.RequiresPayment != tc.wantPay || a.CanDoScreening != tc.wantRun {
				t.Fatalf("requiresPayment=%v canDoScreening=%v, want %v %v", a.RequiresPayment, a.CanDoScreening, tc.wantPay, tc.wantRun)
			}
			if tc.plan == plan && (a.Subscription.Remaining.Users == nil || *a.Subscription.Remaining.Users != 0) {
				t.Fatalf("users remaining = %v, want 0 (7 active of 5: never negative)", a.Subscription.Remaining.Users)
			}
		})
	}
}
