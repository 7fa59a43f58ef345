package tenant

// AccountStatus is the screening reference's one-call dashboard summary:
// the subscription with its limits, usage and what remains this period, the
// free-tier credits, the watchlist seats, and the two answers a dashboard
// needs most: must the tenant pay, and can it screen now.
type AccountStatus struct {
	Subscription    *Subscription
	Credits         *Credits
	Watchlist       *WatchlistSeats
	RequiresPayment bool
	CanDoScreening  bool
}

// Subscription is the subscription part of AccountStatus, for the current
// calendar month (UTC), the period the quota counts in.
type Subscription struct {
	Status    BillingStatus
	Plan      *Plan
	Month     Date
	Limits    *Limits
	Usage     *Usage
	Remaining *Remaining
}

// Remaining is what is left of each limit this period; nil is unlimited.
type Remaining struct {
	Users        *int
	Policies     *int
	Interactions *int
}

// Standing is what decides whether a tenant can screen, and so whether
// recordUsage accepts usage: one rule (CanScreen) for both.
type Standing struct {
	Tenant       Status        // the tenant's own status
	Subscription BillingStatus // the subscription's status
	// QuotaRemaining is the month's interactions left in the plan's quota;
	// nil is unlimited.
	QuotaRemaining *int
	Credits        int // credits left (unexpired grants)
}

// SubscriptionActive reports whether the subscription pays for the plan's
// monthly quota: only an ACTIVE subscription of a tenant that is not
// suspended (or deleted) does. Otherwise usage is paid by credits alone.
func (s Standing) SubscriptionActive() bool {
	return s.Tenant == StatusActive && s.Subscription == BillingActive
}

// CanScreen is the screening reference's rule: an active subscription with
// quota left (or unlimited), or credits left. A suspended or deleted
// tenant never screens.
func (s Standing) CanScreen() bool {
	if s.Tenant != StatusActive {
		return false
	}
	quotaLeft := s.QuotaRemaining == nil || *s.QuotaRemaining > 0
	return (s.SubscriptionActive() && quotaLeft) || s.Credits > 0
}

// NewAccountStatus derives the summary from its parts. canDoScreening is
// Standing.CanScreen, the rule recordUsage applies too; requiresPayment is
// the reference's "no active subscription and no credits".
func NewAccountStatus(ts Status, b *Billing, p *Plan, q *Quota, u *Usage, c *Credits, w *WatchlistSeats) *AccountStatus {
	limits := p.Limits()
	remaining := &Remaining{
		Users:        remainingOf(limits.Users, u.ActiveUsers),
		Policies:     remainingOf(limits.Policies, u.Policies),
		Interactions: q.Remaining,
	}
	st := Standing{Tenant: ts, Subscription: b.Status, QuotaRemaining: q.Remaining, Credits: c.Remaining}
	return &AccountStatus{
		Subscription:    &Subscription{Status: b.Status, Plan: p, Month: q.Month, Limits: limits, Usage: u, Remaining: remaining},
		Credits:         c,
		Watchlist:       w,
		RequiresPayment: b.Status != BillingActive && c.Remaining <= 0,
		CanDoScreening:  st.CanScreen(),
	}
}

func remainingOf(limit *int, used int) *int {
	if limit == nil {
		return nil
	}
	r := max(0, *limit-used)
	return &r
}
