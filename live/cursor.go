package live

import (
	"encoding/binary"
	"time"

	"github.com/google/uuid"
)

// Margin is how far before the last event sent a rescan reads: event ids
// are UUIDv7s of their transaction's time, and a transaction may commit
// after a later one, so "after the last id sent" alone could skip an event
// that committed late. The ids sent within the margin are remembered, so a
// rescan sends none twice.
const Margin = 10 * time.Second

// Cursor remembers what one subscriber has sent.
type Cursor struct {
	start string // events before the subscription are never rescanned
	last  time.Time
	seen  map[string]time.Time // ids sent, by their time
}

// NewCursor starts a cursor at now.
func NewCursor(now time.Time) *Cursor {
	return &Cursor{start: Floor(now), last: now, seen: map[string]time.Time{}}
}

// After is the event id a rescan reads after.
func (c *Cursor) After() string {
	f := Floor(c.last.Add(-Margin))
	if f < c.start {
		return c.start
	}
	return f
}

// Fresh reports whether id was not sent yet and marks it sent.
func (c *Cursor) Fresh(id string) bool {
	if _, ok := c.seen[id]; ok {
		return false
	}
	at := idTime(id)
	c.seen[id] = at
	if at.After(c.last) {
		c.last = at
		for k, t := range c.seen {
			if t.Before(c.last.Add(-2 * Margin)) {
				delete(c.seen, k)
			}
		}
	}
	return true
}

// Floor is the smallest UUIDv7 of the millisecond of t.
func Floor(t time.Time) string {
	var u uuid.UUID
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(t.UnixMilli()))
	copy(u[:6], ms[2:])
	u[6] = 0x70
	u[8] = 0x80
	return u.String()
}

// idTime is the time a UUIDv7 carries (the zero time for another id).
func idTime(id string) time.Time {
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 7 {
		return time.Time{}
	}
	var ms [8]byte
	copy(ms[2:], u[:6])
	return time.UnixMilli(int64(binary.BigEndian.Uint64(ms[:])))
}
