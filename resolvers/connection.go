package resolvers

import (
	"tenantapi/graph"
	"tenantapi/tenant"
)

// pageInfo is the PageInfo of a page of items: its first and last items'
// cursors, and whether more follow.
func pageInfo[T any](items []T, hasNext bool, cursor func(T) string) *graph.PageInfo {
	pi := &graph.PageInfo{HasNextPage: hasNext}
	if n := len(items); n > 0 {
		start, end := cursor(items[0]), cursor(items[n-1])
		pi.StartCursor, pi.EndCursor = &start, &end
	}
	return pi
}

// pageArgs checks a connection's first (def when nil, 1 to max) and after
// (empty, or a cursor valid says this API returned).
func pageArgs(first *int, after *string, def, max int, valid func(string) error) (int, string, error) {
	n := def
	if first != nil {
		n = *first
	}
	if n < 1 || n > max {
		return n, "", tenant.Invalid("first", "first must be between 1 and %d, got %d", max, n)
	}
	if after == nil || *after == "" {
		return n, "", nil
	}
	if valid(*after) != nil {
		return n, "", tenant.Invalid("after", "after is not a cursor returned by this API")
	}
	return n, *after, nil
}
