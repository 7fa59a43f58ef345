//go:build benchceiling

package db

import (
	"fmt"
	"reflect"
	"sync"
	"time"
)

// This file is compiled only into the benchmark's "ceiling" build
// (go build -tags benchceiling; make bench builds bin/tenantapi-ceiling):
// every loader batch's rows are kept in memory, by query text and
// arguments, the first time they are read, and never read again. It is not
// a cache (nothing is invalidated): it measures what this API would serve
// if reading a tenant's associations cost nothing, which bounds what any
// SQL-side change could gain (docs/benchmarks.md, "The ceiling").

const ceiling = true

var ceilingRows sync.Map // query and arguments -> the []R of the first read

// ceilingKey is query and the values of args (fmt prints a pointer
// argument, such as pq.Array's, as &[...] only at the top level), without
// instants: a batch given the clock (credits expire) is read once too.
func ceilingKey(query string, args []any) string {
	vals := make([]any, len(args))
	for i, a := range args {
		if _, ok := a.(time.Time); ok {
			a = "now"
		}
		vals[i] = a
	}
	return query + "\x00" + fmt.Sprint(vals...)
}

// ceilingGet fills dest (a *[]R) with the rows kept for query and args.
func ceilingGet(dest any, query string, args []any) bool {
	v, ok := ceilingRows.Load(ceilingKey(query, args))
	if ok {
		reflect.ValueOf(dest).Elem().Set(reflect.ValueOf(v))
	}
	return ok
}

// ceilingPut keeps the rows of dest for query and args.
func ceilingPut(dest any, query string, args []any) {
	ceilingRows.Store(ceilingKey(query, args), reflect.ValueOf(dest).Elem().Interface())
}
