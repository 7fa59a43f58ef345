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

// NewAccountStatus derives the summary from its parts. A subscription counts
// as active only in status ACTIVE; screening is possible with an active
// subscription whose monthly quota is not used up, or with credits left
// (credits are used after the quota, as the reference says).
func NewAccountStatus(b *Billing, p *Plan, q *Quota, u *Usage, c *Credits, w *WatchlistSeats) *AccountStatus {
	limits := p.Limits()
	remaining := &Remaining{
		Users:        remainingOf(limits.Users, u.ActiveUsers),
		Policies:     remainingOf(limits.Policies, u.Policies),
		Interactions: q.Remaining,
	}
	active := b.Status == BillingActive
	quotaLeft := q.Remaining == nil || *q.Remaining > 0
	credits := c.Remaining > 0
	return &AccountStatus{
		Subscription:    &Subscription{Status: b.Status, Plan: p, Month: q.Month, Limits: limits, Usage: u, Remaining: remaining},
		Credits:         c,
		Watchlist:       w,
		RequiresPayment: !active && !credits,
		CanDoScreening:  (active && quotaLeft) || credits,
	}
}

func remainingOf(limit *int, used int) *int {
	if limit == nil {
		return nil
	}
	r := max(0, *limit-used)
	return &r
}
