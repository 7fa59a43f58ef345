package tenant

import (
	"encoding/json"
	"fmt"
	"time"
)

// Event is a domain event of a tenant's event log: written by the database
// in the transaction of the change it reports (migrations/00010_events.sql),
// one per mutation and type.
type Event struct {
	TenantID  string          `db:"tenant_id"`
	ID        string          `db:"id"` // a UUIDv7: sorts by time
	Type      string          `db:"type"`
	At        time.Time       `db:"at"`
	Actor     string          `db:"actor"`
	Action    string          `db:"action"`
	Subject   *string         `db:"subject"`
	Payload   json.RawMessage `db:"payload"`
	RequestID *string         `db:"request_id"`
}

// EventFilter narrows an event log. All given conditions must hold.
type EventFilter struct {
	Types []string   // any of these wire names
	Since *time.Time // at or after
}

// EventQuery is a page request of an event log, newest first.
type EventQuery struct {
	Page   Page // its cursor is an event id
	Filter EventFilter
}

// MaxEventPage bounds a page of events.
const MaxEventPage = 100

// maxEventFilterTypes bounds filter.types.
const maxEventFilterTypes = 50

// Validate checks the page size and the filter.
func (q *EventQuery) Validate() error {
	if err := q.Page.Check(MaxEventPage); err != nil {
		return err
	}
	if n := len(q.Filter.Types); n > maxEventFilterTypes {
		return Invalid("filter.types", "filter.types takes at most %d types, got %d", maxEventFilterTypes, n)
	}
	for i, t := range q.Filter.Types {
		if t == "" {
			return Invalid(fmt.Sprintf("filter.types[%d]", i), "filter.types[%d] must be an event type", i)
		}
	}
	return nil
}

// EventPage is one page of one tenant's event log, newest first.
type EventPage struct {
	TenantID string
	Events   []*Event
	PageEnds
}
