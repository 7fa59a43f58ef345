// Package combine runs several SELECTs as one PostgreSQL statement and
// hands each its own rows, scanned as sqlx scans a statement's rows. It
// knows nothing of what the SELECTs read: package db decides what to
// combine and when (db/combine.go).
//
// Segment i of the statement is its SELECT with one more column, _n<i>,
// the row's number within the segment. The segments are FULL JOINed on
// that number: row n of the statement holds row n of every segment that
// has one, so the statement has as many rows as its longest segment, not
// the sum of all.
//
// The number of an ordered segment is row_number() OVER (ORDER BY <its
// order>), computed in the segment's own SELECT: PostgreSQL numbers the
// rows in that order whatever plan it picks. A number taken over a
// subquery's rows as they arrive (OVER ()) would follow the subquery's
// ORDER BY only because of how PostgreSQL plans today: SQL treats a
// subquery's rows as a set, and PostgreSQL documents an OVER () numbering
// as unspecified. An unordered segment is numbered as its rows arrive:
// any order is its order.
package combine

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// A Segment is one SELECT of a combined statement.
type Segment struct {
	// Query is one SELECT without its ORDER BY; its placeholders are
	// $1..$len(Args), and it has no other "$<digits>" (they are
	// renumbered as text). An ordered segment's Query starts with SELECT
	// (not SELECT DISTINCT) and is not a set operation such as UNION: its
	// number column goes into that SELECT, where Order's names are in scope.
	Query string
	// Order is the ORDER BY list of Query's rows, in Query's scope
	// ("k.id, a.at DESC"); "" = the rows come in any order.
	Order string
	Args  []any
	// Dest receives the rows: a *[]R, as sqlx.Select takes.
	Dest any

	// For package db's association cache: Shared marks rows that belong to
	// no tenant (plans), kept under the shared version only; NoCache rows
	// that are never kept. Otherwise $1 is the batch's tenant ids.
	Shared, NoCache bool
}

// Text is the segment's statement when it runs alone: Query in Order.
func (s *Segment) Text() string {
	if s.Order == "" {
		return s.Query
	}
	return s.Query + "\nORDER BY " + s.Order
}

// Statement returns the one statement that runs every segment, and its
// arguments: each segment's placeholders are renumbered after those of the
// segments before it. It fails when an ordered segment is not one SELECT
// (its order could not be carried).
func Statement(segs []Segment) (string, []any, error) {
	var b strings.Builder
	var args []any
	b.WriteString("SELECT * FROM ")
	for i := range segs {
		s := &segs[i]
		if i > 0 {
			b.WriteString("\nFULL JOIN ")
		}
		text, err := segmentText(s.Query, s.Order, i, len(args))
		if err != nil {
			return "", nil, fmt.Errorf("combined statement: segment %d: %w", i, err)
		}
		b.WriteString(text)
		if i > 0 {
			// Row n of this segment joins row n of the others.
			fmt.Fprintf(&b, " ON b%d._n%d = COALESCE(", i, i)
			for j := range i {
				if j > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "b%d._n%d", j, j)
			}
			b.WriteString(")")
		}
		args = append(args, s.Args...)
	}
	return b.String(), args, nil
}

// segmentKey is a segment's place in a statement: its text, its position
// and the number of placeholders before it.
type segmentKey struct {
	query, order string
	i, off       int
}

// segmentTexts remembers each segment's text once: the queries are their
// callers' constants and the positions few, so every statement of a shape
// after the first reuses the texts instead of rewriting them.
var segmentTexts sync.Map // segmentKey -> string

// segmentText returns segment i, "(SELECT <number> AS _n<i>, ...) b<i>",
// its placeholders shifted by off.
func segmentText(query, order string, i, off int) (string, error) {
	k := segmentKey{query, order, i, off}
	if v, ok := segmentTexts.Load(k); ok {
		return v.(string), nil
	}
	var text string
	if order == "" {
		text = fmt.Sprintf("(SELECT row_number() OVER () AS _n%d, x.* FROM (%s) x) b%d", i, query, i)
	} else {
		rest, ok := afterSelect(query)
		if !ok {
			return "", fmt.Errorf("an ordered segment must be one SELECT (not DISTINCT): %.40q", query)
		}
		// The same ORDER BY twice: the window's numbers the rows, the
		// query's keeps a LIMIT of the query meaningful. PostgreSQL sorts
		// once for both.
		text = fmt.Sprintf("(SELECT row_number() OVER (ORDER BY %s) AS _n%d, %s\nORDER BY %s) b%d", order, i, rest, order, i)
	}
	text = renumbered(text, off)
	segmentTexts.Store(k, text)
	return text, nil
}

// afterSelect returns what follows the leading SELECT of q, and whether q
// starts with SELECT (and not SELECT DISTINCT).
func afterSelect(q string) (string, bool) {
	q = strings.TrimLeftFunc(q, unicode.IsSpace)
	const kw = "SELECT"
	if len(q) <= len(kw) || !strings.EqualFold(q[:len(kw)], kw) || !unicode.IsSpace(rune(q[len(kw)])) {
		return "", false
	}
	rest := strings.TrimLeftFunc(q[len(kw):], unicode.IsSpace)
	if w := "DISTINCT"; len(rest) >= len(w) && strings.EqualFold(rest[:len(w)], w) {
		return "", false
	}
	return rest, true
}

var placeholder = regexp.MustCompile(`\$(\d+)`)

// renumbered returns q with every $n as $(n+off).
func renumbered(q string, off int) string {
	if off == 0 {
		return q
	}
	return placeholder.ReplaceAllStringFunc(q, func(m string) string {
		n, _ := strconv.Atoi(m[1:])
		return "$" + strconv.Itoa(n+off)
	})
}
