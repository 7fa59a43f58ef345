package db

// Page is the window of a connection to read: Size items from the start
// (skipping Offset of them) or after Cursor, forwards; or, Backward, the
// last Size items before Cursor (or of the whole list when Cursor is "").
// The resolvers build it from first/after/last/before/offset
// (resolvers/connection.go); a store method returns the items in list
// order whatever the direction.
type Page struct {
	Size     int
	Cursor   string
	Backward bool
	Offset   int
}

// Forward is the Page of first items after cursor ("" from the start).
func Forward(first int, cursor string) Page { return Page{Size: first, Cursor: cursor} }

// cmp is the row comparison that keeps a list ordered newest first (by
// its key, descending) on the far side of the page's cursor: older keys
// forwards, newer ones backwards.
func (p Page) cmp() string {
	if p.Backward {
		return ">"
	}
	return "<"
}

// dir is the direction the page is read in: a list ordered newest first
// is read DESC forwards, ASC backwards (then reversed).
func (p Page) dir() string {
	if p.Backward {
		return "ASC"
	}
	return "DESC"
}

// beyond is the comparison that finds items on the near side of the
// cursor, for the page info's other direction (hasPreviousPage forwards,
// hasNextPage backwards).
func (p Page) beyond() string {
	if p.Backward {
		return "<="
	}
	return ">="
}

// reverse reverses s in place (a backward page is read in reverse order).
func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}
