package resolvers

import (
	"strings"

	"tenantapi/graph"
	"tenantapi/tenant"
)

// WireType is the wire name of an EventType (API_KEY_CREATED ->
// api_key.created): the NotificationEvent of the same name's (the one
// catalog, which spells the two-word verbs: WATCHLIST_SEATS_LOW ->
// watchlist.seats_low), otherwise the value lower-cased, its last
// underscore a dot.
func WireType(t graph.EventType) string {
	if w := tenant.NotificationEvent(t).Type(); w != "" {
		return w
	}
	s := strings.ToLower(string(t))
	i := strings.LastIndexByte(s, '_')
	if i < 0 {
		return s
	}
	return s[:i] + "." + s[i+1:]
}

// EventTypeOf is the EventType of a wire name (the inverse of WireType).
func EventTypeOf(wire string) graph.EventType {
	return graph.EventType(strings.ToUpper(strings.ReplaceAll(wire, ".", "_")))
}
