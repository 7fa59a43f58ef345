package tenant

// Page is the window of a connection to read: Size items from the start
// (skipping Offset of them) or after Cursor, forwards; or, Backward, the
// last Size items before Cursor (or of the whole list when Cursor is "").
// The resolvers build it from first/after/last/before/offset; a store
// method returns the items in list order whatever the direction.
type Page struct {
	Size     int
	Cursor   string
	Backward bool
	Offset   int
}

// CursorField is the argument the page's cursor came in: before for a page
// read backwards, after otherwise.
func (p Page) CursorField() string {
	if p.Backward {
		return "before"
	}
	return "after"
}

// PageEnds says whether items of the list lie before a page and after it
// (Relay's hasPreviousPage and hasNextPage), exactly, in both directions.
type PageEnds struct {
	HasPreviousPage bool
	HasNextPage     bool
}

// Check refuses a page size outside 1 to max, naming the argument that
// gave it (last backwards, first forwards).
func (p Page) Check(max int) error {
	if p.Size < 1 || p.Size > max {
		arg := "first"
		if p.Backward {
			arg = "last"
		}
		return Invalid(arg, "%s must be between 1 and %d, got %d", arg, max, p.Size)
	}
	return nil
}
