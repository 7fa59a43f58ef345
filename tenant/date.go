package tenant

import (
	"database/sql/driver"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Date is a calendar day in UTC: the GraphQL scalar Date, written as an
// RFC 3339 full-date (`2026-03-31`). It holds midnight UTC of that day, so
// two Dates compare with ==. The zero Date is no day (IsZero).
type Date struct{ t time.Time }

// DateLayout is the form of a Date in the API and in PostgreSQL.
const DateLayout = "2006-01-02"

// NewDate returns the day year-month-day; out-of-range values normalize
// as in time.Date (month 13 is January of the next year).
func NewDate(year int, month time.Month, day int) Date {
	return Date{time.Date(year, month, day, 0, 0, 0, 0, time.UTC)}
}

// DateOf returns the UTC calendar day of t.
func DateOf(t time.Time) Date {
	t = t.UTC()
	return NewDate(t.Year(), t.Month(), t.Day())
}

// ParseDate parses an RFC 3339 full-date (YYYY-MM-DD, a day that exists:
// 2028-02-29 yes, 2026-02-29 no). field names the input in the error; when
// it is "" the message starts with "must be", and the error presenter puts
// the argument's name in front of it.
func ParseDate(field, s string) (Date, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil || len(s) != len(DateLayout) {
		msg := fmt.Sprintf("must be a date in the form YYYY-MM-DD (RFC 3339 full-date) that exists, such as 2026-03-31, got %q", s)
		if field != "" {
			msg = field + " " + msg
		}
		return Date{}, &Error{Code: EINVALID, Field: field, Message: msg}
	}
	return Date{t}, nil
}

// Time is midnight UTC at the start of the day.
func (d Date) Time() time.Time { return d.t }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d.t.IsZero() }

// String is the RFC 3339 full-date, `2026-03-31`.
func (d Date) String() string { return d.t.Format(DateLayout) }

// AddDays returns the day n days after d (before, for negative n).
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }

// Before reports whether d is an earlier day than o.
func (d Date) Before(o Date) bool { return d.t.Before(o.t) }

// After reports whether d is a later day than o.
func (d Date) After(o Date) bool { return d.t.After(o.t) }

// DaysUntil is the number of days from d to o: 0 for the same day,
// negative when o is earlier.
func (d Date) DaysUntil(o Date) int { return int(o.t.Sub(d.t) / (24 * time.Hour)) }

// Year is the year of d.
func (d Date) Year() int { return d.t.Year() }

// Month is the month of d.
func (d Date) Month() time.Month { return d.t.Month() }

// Day is the day of the month of d.
func (d Date) Day() int { return d.t.Day() }

// Weekday is the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.t.Weekday() }

// MonthStart is the first day of d's month.
func (d Date) MonthStart() Date { return NewDate(d.Year(), d.Month(), 1) }

// WeekStart is the Monday of d's ISO 8601 week.
func (d Date) WeekStart() Date { return d.AddDays(-((int(d.Weekday()) + 6) % 7)) }

// MarshalGQL writes the GraphQL scalar Date.
func (d Date) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(d.String())) }

// UnmarshalGQL reads the GraphQL scalar Date. Its error has no field: the
// error presenter names the argument or input field from the input path.
func (d *Date) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return &Error{Code: EINVALID, Message: fmt.Sprintf("must be a date string in the form YYYY-MM-DD (RFC 3339 full-date), got %v", v)}
	}
	p, err := ParseDate("", s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// Value stores a Date in a PostgreSQL date column.
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.String(), nil
}

// Scan reads a PostgreSQL date column.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Date{}
	case time.Time:
		*d = NewDate(v.Year(), v.Month(), v.Day())
	case string:
		return d.scanString(v)
	case []byte:
		return d.scanString(string(v))
	default:
		return fmt.Errorf("tenant.Date: cannot scan %T", src)
	}
	return nil
}

func (d *Date) scanString(s string) error {
	t, err := time.Parse(DateLayout, s[:min(len(s), len(DateLayout))])
	if err != nil {
		return fmt.Errorf("tenant.Date: %w", err)
	}
	*d = Date{t}
	return nil
}

// DateOrTime is the input scalar DateOrTime: a Date (`2026-03-31`), or an
// RFC 3339 instant (`2026-03-31T23:59:59Z`, `2026-03-31T18:00:00-05:00`)
// standing for its UTC day. It lets a date argument take what a client
// holds, as the reference's "ISO 8601" start_date and end_date do, while
// the Date scalar stays strict.
type DateOrTime struct{ Date }

// UnmarshalGQL reads the GraphQL scalar DateOrTime. Its error has no field:
// the error presenter names the argument from the input path.
func (d *DateOrTime) UnmarshalGQL(v any) error {
	const want = "must be a date (YYYY-MM-DD, such as 2026-03-31) or an RFC 3339 instant with a time zone (such as 2026-03-31T23:59:59Z)"
	s, ok := v.(string)
	if !ok {
		return &Error{Code: EINVALID, Message: want + ", got a " + fmt.Sprintf("%T", v)}
	}
	if len(s) == len(DateLayout) {
		p, err := ParseDate("", s)
		if err != nil {
			return err // Date's own message: the form, or a day that does not exist
		}
		d.Date = p
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return &Error{Code: EINVALID, Message: fmt.Sprintf("%s, got %q", want, s)}
	}
	d.Date = DateOf(t)
	return nil
}

// MarshalGQL writes the day, as Date does (the scalar is input-only).
func (d DateOrTime) MarshalGQL(w io.Writer) { d.Date.MarshalGQL(w) }
