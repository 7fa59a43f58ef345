package resolvers

import (
	"strings"

	"tenantapi/graph"
)

// WireType is the wire name of an EventType (API_KEY_CREATED ->
// api_key.created): the value lower-cased, its last underscore a dot (every
// type ends in a one-word verb).
func WireType(t graph.EventType) string {
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
