package tenant

import (
	"io"
	"strconv"
	"time"
)

// Capacity reservations: the services that create policies and enroll
// watchlist subjects reserve a seat before they do (and release it after
// deleting or unenrolling), so the count never passes the limit, however
// many of them run at once.

// CapacityResource is what a reservation counts: the GraphQL enum
// CapacityResource.
type CapacityResource string

// Reservable resources.
const (
	// ResourcePolicies is the policies a tenant defined (Usage.policies),
	// limited by its plan's policies (nil: unlimited).
	ResourcePolicies CapacityResource = "POLICIES"
	// ResourceWatchlistSubjects is the subjects monitored
	// (WatchlistSeats.activeSubjects), limited by the seats granted.
	ResourceWatchlistSubjects CapacityResource = "WATCHLIST_SUBJECTS"
)

// Valid reports whether r is a known resource.
func (r CapacityResource) Valid() bool {
	return r == ResourcePolicies || r == ResourceWatchlistSubjects
}

// LimitName is the name of the limit that bounds r, as errors give it.
func (r CapacityResource) LimitName() string {
	if r == ResourcePolicies {
		return "policies"
	}
	return "watchlistSeats"
}

// UnmarshalGQL decodes the GraphQL enum CapacityResource.
func (r *CapacityResource) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	if !CapacityResource(s).Valid() {
		return Invalid("resource", "resource must be POLICIES or WATCHLIST_SUBJECTS, got %q", s)
	}
	*r = CapacityResource(s)
	return nil
}

// MarshalGQL encodes the GraphQL enum CapacityResource.
func (r CapacityResource) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(r))) }

// Limits of reserveCapacity.
const (
	// MaxReservation bounds one reservation or release.
	MaxReservation = 10_000
	// MaxRequestIDLength bounds a reservation's request id.
	MaxRequestIDLength = 100
	// ReservationRetention is how long a reservation's request id is
	// remembered: a retry within it gets the first answer.
	ReservationRetention = 7 * 24 * time.Hour
)

// ReservationInput is the input of reserveCapacity.
type ReservationInput struct {
	Resource CapacityResource
	// Quantity reserves (positive) or releases (negative) seats.
	Quantity  int
	RequestID string
}

// Normalize validates the input.
func (in *ReservationInput) Normalize() error {
	if !in.Resource.Valid() {
		return Invalid("resource", "resource must be POLICIES or WATCHLIST_SUBJECTS, got %q", in.Resource)
	}
	if in.Quantity == 0 || in.Quantity > MaxReservation || in.Quantity < -MaxReservation {
		return Invalid("quantity", "quantity must be 1 to %s (reserve) or -1 to -%s (release), got %d", FormatCount(MaxReservation), FormatCount(MaxReservation), in.Quantity)
	}
	return checkText("requestId", in.RequestID, MaxRequestIDLength)
}

// Reservation is the answer of reserveCapacity: where the resource stands
// after the request (or after the first request with the same id).
type Reservation struct {
	TenantID  string
	RequestID string
	Resource  CapacityResource
	Quantity  int
	Used      int
	// Limit is nil when unlimited.
	Limit *int
	// Replayed reports that the request id was already used: nothing
	// changed and this is the first answer.
	Replayed bool
}

// Remaining is Limit - Used, never negative; nil when unlimited.
func (r *Reservation) Remaining() *int { return remainingOf(r.Limit, r.Used) }

// CapacityExceeded is the error of a reservation that would pass its limit.
func CapacityExceeded(res CapacityResource, limit, used, want int) *Error {
	what := map[CapacityResource]string{ResourcePolicies: "policies (the plan's policies)", ResourceWatchlistSubjects: "watchlist subjects (the seats granted)"}[res]
	e := Errorf(EQUOTA, "the limit of %s %s is reached: %s in use, %s left, this request reserves %s; nothing was reserved",
		FormatCount(limit), what, FormatCount(used), FormatCount(max(0, limit-used)), FormatCount(want))
	e.Limit = &LimitHit{Name: res.LimitName(), Limit: limit, Used: used, Requested: want}
	return e
}
