package db

import (
	linked "container/list"
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"

	"tenantapi/db/combine"
	"tenantapi/tenant"
)

// The association cache: an exact, per-tenant cache of the loader batches
// a query's prefetch runs (Tenant's associations), shared by the requests
// of one Store and bounded in bytes.
//
// Exact, not time-based: every tenant has a data version that each
// writing transaction changes at its commit (triggers on every table with
// a tenant_id, on tenants, and a shared version for plans:
// migrations/00026_tenant_versions.sql), and the reads that start a
// request (a key's or a session's lookup, the admin's tenant or page of
// tenants) read the versions in the same statement as the tenant. A batch
// is kept with the versions of the tenants it reads, and used only by a
// request that saw the same versions. A request's batches are read after
// its versions, so what a batch keeps is never older than the versions it
// is kept under: a read after a committed write, on any instance, misses
// and reads the database.
//
// What is cached is a batch's rows as scanned (before any computation
// with the clock, such as credits expiring), keyed by its SQL text and
// arguments, which carry the caller's scope: a key of one tenant and the
// admin never share an entry. Batches given an instant, and batches that
// show bookkeeping the versions ignore (an API key's lastUsedAt), are
// never kept. Only query operations use it (resolvers/prefetch.go): a
// mutation's tenant may be read before its own write.

// DefaultAssocCacheBytes is the association cache's bound when
// Options.AssocCacheBytes is 0.
const DefaultAssocCacheBytes = 32 << 20

// AssocCacheStats are the cache's counters since the Store opened.
type AssocCacheStats struct {
	Hits, Misses, Evictions uint64
	Entries                 int
	Bytes, MaxBytes         int64
}

type assocCache struct {
	max int64

	mu      sync.Mutex
	bytes   int64
	lru     linked.List // of *assocEntry, most recently used first
	entries map[string]*linked.Element
	stats   AssocCacheStats
}

type assocEntry struct {
	key      string
	versions []int64 // the shared version, then each tenant's, in the batch's order
	rows     reflect.Value
	size     int64
}

func newAssocCache(max int64) *assocCache {
	return &assocCache{max: max, entries: map[string]*linked.Element{}}
}

// versionBook is the versions a request saw, by tenant id.
type versionBook struct {
	shared  int64
	tenants map[string]int64
}

type versionBookKey struct{}

// WithTenantVersions returns ctx whose batches may be answered by the
// association cache for ts: the tenants as the request read them, with
// their versions (tenant.Tenant.DataVersion). A tenant read without them,
// or tenants read by different statements, leave ctx as it is.
func WithTenantVersions(ctx context.Context, ts []*tenant.Tenant) context.Context {
	if len(ts) == 0 {
		return ctx
	}
	b := &versionBook{shared: ts[0].SharedVersion, tenants: make(map[string]int64, len(ts))}
	if old, ok := ctx.Value(versionBookKey{}).(*versionBook); ok && old.shared == b.shared {
		for id, v := range old.tenants {
			b.tenants[id] = v
		}
	}
	for _, t := range ts {
		if t.DataVersion == 0 || t.SharedVersion != b.shared {
			return ctx
		}
		if v, ok := b.tenants[t.ID]; ok && v != t.DataVersion {
			return ctx
		}
		b.tenants[t.ID] = t.DataVersion
	}
	return context.WithValue(ctx, versionBookKey{}, b)
}

// cacheable returns seg's key and the versions it depends on, or false
// when seg is not kept: no versions in ctx, an argument the key cannot
// carry exactly (an instant), or a tenant ($1) the request did not read.
func (b *versionBook) cacheable(seg *combine.Segment) (string, []int64, bool) {
	if b == nil || seg.NoCache {
		return "", nil, false
	}
	var key strings.Builder
	key.WriteString(segmentID(seg.Text()))
	versions := []int64{b.shared}
	for i, a := range seg.Args {
		key.WriteByte(0)
		switch v := a.(type) {
		case nil:
			key.WriteString("<nil>")
		case bool:
			key.WriteString(strconv.FormatBool(v))
		case string:
			key.WriteString(v)
		case int:
			key.WriteString(strconv.Itoa(v))
		case int64:
			key.WriteString(strconv.FormatInt(v, 10))
		case tenant.Date:
			key.WriteString(v.String())
		case *string:
			if v == nil {
				key.WriteString("<nil>")
			} else {
				key.WriteString("*" + *v)
			}
		case *pq.StringArray:
			if i == 0 && !seg.Shared {
				// $1 is the batch's tenants: each must have been read by
				// this request, and its version joins the entry's.
				for _, id := range *v {
					tv, ok := b.tenants[id]
					if !ok {
						return "", nil, false
					}
					versions = append(versions, tv)
				}
			}
			key.WriteString(strings.Join(*v, ","))
		case time.Time, *time.Time:
			return "", nil, false
		default:
			fmt.Fprintf(&key, "%T:%v", a, a)
		}
	}
	if !seg.Shared && len(versions) == 1 {
		return "", nil, false // no tenants named: nothing to check the rows against
	}
	return key.String(), versions, true
}

// segmentIDs numbers the statements' texts, so an entry's key holds a few
// bytes instead of its SQL: the texts are the store's own, a few dozen.
var segmentIDs sync.Map // text -> its number, as a string

var segmentCount atomic.Int64

func segmentID(text string) string {
	if id, ok := segmentIDs.Load(text); ok {
		return id.(string)
	}
	id, _ := segmentIDs.LoadOrStore(text, "#"+strconv.FormatInt(segmentCount.Add(1), 10))
	return id.(string)
}

// get fills dest (a *[]R) with a copy of the rows kept for key under
// versions.
func (c *assocCache) get(key string, versions []int64, dest any) bool {
	c.mu.Lock()
	el, ok := c.entries[key]
	if !ok || !equalVersions(el.Value.(*assocEntry).versions, versions) {
		c.stats.Misses++
		c.mu.Unlock()
		return false
	}
	c.lru.MoveToFront(el)
	c.stats.Hits++
	rows := el.Value.(*assocEntry).rows
	c.mu.Unlock()
	// A copy of the slice: a batch may reorder or update its rows.
	cp := reflect.MakeSlice(rows.Type(), rows.Len(), rows.Len())
	reflect.Copy(cp, rows)
	reflect.ValueOf(dest).Elem().Set(cp)
	return true
}

// put keeps the rows of dest (a *[]R) for key under versions.
func (c *assocCache) put(key string, versions []int64, dest any) {
	rows := reflect.ValueOf(dest).Elem()
	cp := reflect.MakeSlice(rows.Type(), rows.Len(), rows.Len())
	reflect.Copy(cp, rows)
	e := &assocEntry{key: key, versions: versions, rows: cp}
	e.size = int64(len(key)) + int64(len(versions))*8 + 200 + sizeOf(cp, 0)
	if e.size > c.max/8 {
		return // one entry never takes more than an eighth of the cache
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.removeLocked(el)
	}
	c.entries[key] = c.lru.PushFront(e)
	c.bytes += e.size
	for c.bytes > c.max {
		c.removeLocked(c.lru.Back())
		c.stats.Evictions++
	}
}

func (c *assocCache) removeLocked(el *linked.Element) {
	e := el.Value.(*assocEntry)
	c.lru.Remove(el)
	delete(c.entries, e.key)
	c.bytes -= e.size
}

func (c *assocCache) snapshot() AssocCacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries, s.Bytes, s.MaxBytes = len(c.entries), c.bytes, c.max
	return s
}

// AssocCacheStats reports the association cache's counters (zero when it
// is off).
func (s *Store) AssocCacheStats() AssocCacheStats {
	if s.assoc == nil {
		return AssocCacheStats{}
	}
	return s.assoc.snapshot()
}

func equalVersions(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// sizeOf estimates the bytes v holds beyond its own header: strings',
// slices' and pointers' targets, recursively.
func sizeOf(v reflect.Value, depth int) int64 {
	if depth > 8 {
		return 0
	}
	switch v.Kind() {
	case reflect.String:
		return int64(v.Len())
	case reflect.Slice:
		if v.IsNil() {
			return 0
		}
		n := int64(v.Cap()) * int64(v.Type().Elem().Size())
		for i := range v.Len() {
			n += sizeOf(v.Index(i), depth+1)
		}
		return n
	case reflect.Pointer:
		if v.IsNil() {
			return 0
		}
		return int64(v.Type().Elem().Size()) + sizeOf(v.Elem(), depth+1)
	case reflect.Struct:
		var n int64
		for i := range v.NumField() {
			n += sizeOf(v.Field(i), depth+1)
		}
		return n
	case reflect.Map:
		var n int64
		it := v.MapRange()
		for it.Next() {
			n += int64(v.Type().Key().Size()+v.Type().Elem().Size()) + sizeOf(it.Key(), depth+1) + sizeOf(it.Value(), depth+1)
		}
		return n
	case reflect.Interface:
		if v.IsNil() {
			return 0
		}
		return int64(v.Elem().Type().Size()) + sizeOf(v.Elem(), depth+1)
	}
	return 0
}
