package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"tenantapi/tenant"
)

// This file holds what protects the server from hostile or careless
// requests before they cost anything: limits on GraphQL documents checked
// before validation (tokens, depth, aliases, directives, copies of a field,
// fields once fragments are expanded) and after it (page sizes, cost),
// automatic persisted queries, the introspection and suggestion switches,
// the refusal of cross-site "simple" requests and of batches, the deadline
// of every request, and the recovery of panics outside resolvers.

// Limits bound the GraphQL documents the server accepts. A zero field takes
// its value from DefaultLimits. README (Query limits) explains each one.
type Limits struct {
	MaxDepth       int // nesting of fields (introspection's ofType excepted: see maxIntrospectionDepth)
	MaxAliases     int // aliased fields in a document, fragments expanded
	MaxDirectives  int // directives on one field, fragment spread, inline fragment or operation
	MaxTokens      int // lexical tokens of the document (comments are free)
	MaxCost        int // cost of the operation: see costSchema
	MaxFieldCopies int // selections of one response name in one merged selection set
}

// DefaultLimits let every query of the dashboard, GraphiQL's introspection
// and the README's examples through with room to spare (TestRealisticQueriesPass
// measures them) while hostile documents are refused within milliseconds
// (BenchmarkHostileDocuments).
var DefaultLimits = Limits{
	MaxDepth:       10,
	MaxAliases:     30,
	MaxDirectives:  5,
	MaxTokens:      5000,
	MaxCost:        50000,
	MaxFieldCopies: 20,
}

func (l Limits) withDefaults() Limits {
	for _, f := range []struct {
		v *int
		d int
	}{
		{&l.MaxDepth, DefaultLimits.MaxDepth}, {&l.MaxAliases, DefaultLimits.MaxAliases},
		{&l.MaxDirectives, DefaultLimits.MaxDirectives}, {&l.MaxTokens, DefaultLimits.MaxTokens},
		{&l.MaxCost, DefaultLimits.MaxCost}, {&l.MaxFieldCopies, DefaultLimits.MaxFieldCopies},
	} {
		if *f.v <= 0 {
			*f.v = f.d
		}
	}
	return l
}

// MaxPageSize is the largest `first` (or `last`) of a connection field.
const MaxPageSize = 100

// DefaultRequestTimeout is the deadline of a request when
// Config.RequestTimeout is zero.
const DefaultRequestTimeout = 15 * time.Second

// maxIntrospectionDepth bounds the nesting under __schema and __type,
// ofType included. QUERY_MAX_DEPTH counts introspection like any field
// except ofType: GraphiQL's introspection query nests 15 levels, nine of
// them ofType (a chain as long as a type's wrappers, [T!]! needing three,
// whose cost introspectionLimits counts), and 6 without them.
const maxIntrospectionDepth = 20

// maxPersistedQueryBytes is the longest query the persisted-query cache
// keeps: 1,000 entries of at most 32 KiB. A longer query still runs; the
// client just sends it in full each time.
const maxPersistedQueryBytes = 32 << 10

// Refusal codes, in extensions.code.
const (
	codeTooDeep        = "QUERY_TOO_DEEP"
	codeTooManyAliases = "TOO_MANY_ALIASES"
	codeTooManyDirs    = "TOO_MANY_DIRECTIVES"
	codeTooManyTokens  = "TOO_MANY_TOKENS"
	codeTooManyCopies  = "TOO_MANY_FIELD_COPIES"
	codeTooComplex     = "QUERY_TOO_COMPLEX"
	codeIntrospection  = "INTROSPECTION_DISABLED"
	codeBadPersisted   = "PERSISTED_QUERY_INVALID"
	codeBadUserInput   = "BAD_USER_INPUT"
	codeBatching       = "BATCHING_NOT_SUPPORTED"
	codeMediaType      = "UNSUPPORTED_MEDIA_TYPE"
)

func init() {
	// Refusals of the document are request errors, like parse and
	// validation errors: 400 with application/graphql-response+json, and
	// (through specTransport) 200 with application/json. BAD_USER_INPUT
	// only reaches the transport this way from pageSizes, before anything
	// runs; resolvers' input errors are execution errors and keep 200.
	for _, code := range []string{codeTooDeep, codeTooManyAliases, codeTooManyDirs, codeTooManyTokens,
		codeTooManyCopies, codeTooComplex, codeIntrospection, codeBadPersisted, codeBadUserInput} {
		errcode.RegisterErrorType(code, errcode.KindProtocol)
	}
}

// useLimits installs the document limits, persisted queries and the
// introspection and suggestion switches on srv. Order matters: the document
// is checked before a persisted-query cache can keep it; page sizes before
// cost, so an oversized page is named as such.
func useLimits(srv *handler.Server, cfg Config) {
	lim := cfg.Limits.withDefaults()
	srv.SetParserTokenLimit(lim.MaxTokens) // the same limit, again, on gqlgen's own parse
	mode := cfg.Introspection.orDefault()
	srv.Use(documentLimits{lim: lim, introspection: mode != IntrospectionOff, passed: lru.New[struct{}](1000)})
	// gqlgen parses and validates each document once, then serves it from
	// this cache (8.6% of a dashboard request's CPU before; docs/benchmarks.md).
	srv.SetQueryCache(boundedDocCache{lru.New[*ast.QueryDocument](1000)})
	srv.Use(persistedQueries{extension.AutomaticPersistedQuery{Cache: boundedCache{lru.New[string](1000)}}})
	srv.Use(pageSizes{})
	srv.Use(costLimit{extension.FixedComplexityLimit(lim.MaxCost, complexity.WithIgnoreFields(ignoredByCostLimit))})
	// Who may introspect, and its cost added to costLimit's (introspection.go).
	srv.Use(&introspectionLimits{mode: mode, limit: lim.MaxCost})
	if cfg.DisableFieldSuggestions {
		srv.SetDisableSuggestion(true)
		srv.AroundResponses(stripSuggestions)
	}
	srv.AroundOperations(operationDeadline(cfg.requestTimeout()))
}

func (c Config) requestTimeout() time.Duration {
	if c.RequestTimeout > 0 {
		return c.RequestTimeout
	}
	return DefaultRequestTimeout
}

// refusal is a GraphQL error refusing the document, at pos when known.
func refusal(code string, pos *ast.Position, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	if pos != nil {
		err.Locations = []gqlerror.Location{{Line: pos.Line, Column: pos.Column}}
	}
	errcode.Set(err, code)
	return err
}

// documentLimits checks a document before gqlgen validates it: some of
// gqlparser's rules (overlapping fields) take time quadratic in the copies
// of a field, so a 4 KB document of 1,000 copies costs half a second of
// CPU to validate. It parses the document itself, under the token limit,
// and walks it as execution would merge it: fragments expanded (each
// fragment spread at most once on a path, so cycles end), fields of the
// same response name merged.
type documentLimits struct {
	lim           Limits
	introspection bool
	// passed remembers documents that passed, so a dashboard's repeated
	// query is walked once, not on every request (nil: no memory).
	passed graphql.Cache[struct{}]
}

// maxRememberedQuery bounds what the document caches keep, so 1,000
// entries cannot grow without bound.
const maxRememberedQuery = 32 << 10

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = documentLimits{}

func (documentLimits) ExtensionName() string                   { return "DocumentLimits" }
func (documentLimits) Validate(graphql.ExecutableSchema) error { return nil }
func (d documentLimits) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if p.Query == "" {
		return nil // a persisted-query hash: its document was checked when it was stored
	}
	if d.passed != nil {
		if _, ok := d.passed.Get(ctx, p.Query); ok {
			return nil
		}
	}
	if err := d.check(p.Query); err != nil {
		return err
	}
	if d.passed != nil && len(p.Query) <= maxRememberedQuery {
		d.passed.Add(ctx, p.Query, struct{}{})
	}
	return nil
}

// check refuses query with the first limit it exceeds, or returns nil; a
// document that does not parse is left to gqlgen, which reports it.
func (d documentLimits) check(query string) *gqlerror.Error {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, d.lim.MaxTokens)
	if err != nil {
		if g, ok := err.(*gqlerror.Error); ok && strings.HasPrefix(g.Message, "exceeded token limit") {
			return refusal(codeTooManyTokens, nil, "the document has more than %d tokens; at most %d are allowed", d.lim.MaxTokens, d.lim.MaxTokens)
		}
		return nil
	}
	w := &docWalker{limits: d, doc: doc, expanding: map[string]bool{}}
	for _, op := range doc.Operations {
		w.aliases = 0
		w.directives(op.Directives, op.Position)
		w.walk([]ast.SelectionSet{op.SelectionSet}, 0, 0, false)
	}
	// Fragments are validated on their own too, used or not.
	for _, f := range doc.Fragments {
		w.aliases = 0
		w.directives(f.Directives, f.Position)
		w.walk([]ast.SelectionSet{f.SelectionSet}, 0, 0, strings.HasPrefix(f.TypeCondition, "__"))
	}
	return w.err
}

type docWalker struct {
	limits    documentLimits
	doc       *ast.QueryDocument
	expanding map[string]bool // fragments being expanded into the current selection set
	aliases   int             // aliased fields of the current operation or fragment
	fields    int             // fields visited in the whole document, fragments expanded
	err       *gqlerror.Error
}

func (w *docWalker) fail(err *gqlerror.Error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *docWalker) directives(list ast.DirectiveList, pos *ast.Position) {
	if n := len(list); n > w.limits.lim.MaxDirectives {
		w.fail(refusal(codeTooManyDirs, pos, "a field carries %d directives; at most %d are allowed per field", n, w.limits.lim.MaxDirectives))
	}
}

// walk checks the selection sets that execution merges into one (the
// selections of every copy of a field), then their fields' selections;
// nest is the nesting of the fields walked, depth the same without
// introspection's ofType (see maxIntrospectionDepth).
func (w *docWalker) walk(sets []ast.SelectionSet, depth, nest int, introspection bool) {
	type group struct {
		fields []*ast.Field
	}
	var order []string
	groups := map[string]*group{}
	var collect func(set ast.SelectionSet)
	collect = func(set ast.SelectionSet) {
		for _, sel := range set {
			if w.err != nil {
				return
			}
			switch s := sel.(type) {
			case *ast.Field:
				w.directives(s.Directives, s.Position)
				if w.fields++; w.fields > w.limits.lim.MaxCost {
					w.fail(refusal(codeTooComplex, s.Position, "the document selects more than %d fields once its fragments are expanded; the cost limit is %d", w.limits.lim.MaxCost, w.limits.lim.MaxCost))
					return
				}
				if s.Alias != s.Name {
					if w.aliases++; w.aliases > w.limits.lim.MaxAliases {
						w.fail(refusal(codeTooManyAliases, s.Position, "the operation uses more than %d aliases; at most %d are allowed", w.limits.lim.MaxAliases, w.limits.lim.MaxAliases))
						return
					}
				}
				if !w.limits.introspection && (s.Name == "__schema" || s.Name == "__type") {
					w.fail(refusal(codeIntrospection, s.Position, "introspection is disabled on this server; __typename is still available"))
					return
				}
				g := groups[s.Alias]
				if g == nil {
					g = &group{}
					groups[s.Alias] = g
					order = append(order, s.Alias)
				}
				if g.fields = append(g.fields, s); len(g.fields) > w.limits.lim.MaxFieldCopies {
					w.fail(refusal(codeTooManyCopies, s.Position, "%q is selected more than %d times in one selection set (fragments included); at most %d are allowed", s.Alias, w.limits.lim.MaxFieldCopies, w.limits.lim.MaxFieldCopies))
					return
				}
			case *ast.InlineFragment:
				w.directives(s.Directives, s.Position)
				collect(s.SelectionSet)
			case *ast.FragmentSpread:
				w.directives(s.Directives, s.Position)
				def := w.doc.Fragments.ForName(s.Name)
				if def == nil || w.expanding[s.Name] {
					continue // unknown or cyclic: validation reports it
				}
				w.expanding[s.Name] = true
				collect(def.SelectionSet)
				delete(w.expanding, s.Name)
			}
		}
	}
	for _, set := range sets {
		collect(set)
	}
	for _, key := range order {
		if w.err != nil {
			return
		}
		g := groups[key]
		first := g.fields[0]
		intro := introspection || first.Name == "__schema" || first.Name == "__type"
		d := depth + 1
		if intro && first.Name == "ofType" {
			d = depth
		}
		switch {
		case d > w.limits.lim.MaxDepth:
			w.fail(refusal(codeTooDeep, first.Position, "the query nests fields more than %d levels deep; at most %d are allowed", w.limits.lim.MaxDepth, w.limits.lim.MaxDepth))
			return
		case intro && nest+1 > maxIntrospectionDepth:
			w.fail(refusal(codeTooDeep, first.Position, "the introspection query nests fields more than %d levels deep; at most %d are allowed", maxIntrospectionDepth, maxIntrospectionDepth))
			return
		}
		var subs []ast.SelectionSet
		for _, f := range g.fields {
			if len(f.SelectionSet) > 0 {
				subs = append(subs, f.SelectionSet)
			}
		}
		if len(subs) > 0 {
			w.walk(subs, d, nest+1, intro)
		}
	}
}

// isConnection reports whether a field returns a Relay connection.
func isConnection(t *ast.Type) bool { return t != nil && strings.HasSuffix(t.Name(), "Connection") }

// pageSize returns the page size a connection field asks for: first, or
// last, defaults applied. ok is false for other fields; given is false when
// the field has a page argument but none was given.
func pageSize(def *ast.FieldDefinition, args map[string]any) (n int64, arg string, given, ok bool) {
	if def == nil || !isConnection(def.Type) {
		return 0, "", false, false
	}
	for _, name := range []string{"first", "last"} {
		if def.Arguments.ForName(name) == nil {
			continue
		}
		if arg == "" {
			arg = name
		}
		if v, isInt := toInt(args[name]); isInt {
			return v, name, true, true
		}
	}
	return 0, arg, false, arg != ""
}

func toInt(v any) (int64, bool) {
	switch v := v.(type) {
	case int:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	case float64:
		return int64(v), v == math.Trunc(v)
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	}
	return 0, false
}

// pageSizes refuses, before anything runs, a connection field whose first
// (or last) is missing or outside 1..MaxPageSize: its cost could not be
// known, and a nested connection would otherwise fail only after the outer
// page was loaded. The error is the resolvers' own: BAD_USER_INPUT on
// "first".
type pageSizes struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = pageSizes{}

func (pageSizes) ExtensionName() string                   { return "PageSizes" }
func (pageSizes) Validate(graphql.ExecutableSchema) error { return nil }
func (pageSizes) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	var err *gqlerror.Error
	var walk func(set ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			if err != nil {
				return
			}
			switch s := sel.(type) {
			case *ast.Field:
				if s.Definition != nil && s.ObjectDefinition != nil {
					n, arg, given, ok := pageSize(s.Definition, s.ArgumentMap(opCtx.Variables))
					where := s.ObjectDefinition.Name + "." + s.Name
					switch {
					case ok && !given:
						err = pageError(s.Position, arg, fmt.Sprintf("%s must be given on %s (a page size from 1 to %d)", arg, where, MaxPageSize))
					case ok && (n < 1 || n > MaxPageSize):
						err = pageError(s.Position, arg, fmt.Sprintf("%s must be between 1 and %d (the page size of %s), got %d", arg, MaxPageSize, where, n))
					}
				}
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if s.Definition != nil {
					walk(s.Definition.SelectionSet)
				}
			}
		}
	}
	if opCtx.Operation != nil {
		walk(opCtx.Operation.SelectionSet)
	}
	return err
}

func pageError(pos *ast.Position, field, msg string) *gqlerror.Error {
	err := refusal(codeBadUserInput, pos, "%s", msg)
	err.Extensions["field"] = field
	return err
}

// costLimit is gqlgen's ComplexityLimit over costSchema, with its refusal
// worded for clients and coded QUERY_TOO_COMPLEX.
type costLimit struct{ *extension.ComplexityLimit }

func (c costLimit) Validate(es graphql.ExecutableSchema) error {
	return c.ComplexityLimit.Validate(costSchema{es})
}

func (c costLimit) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if err := c.ComplexityLimit.MutateOperationContext(ctx, opCtx); err == nil {
		return nil
	}
	s, _ := opCtx.Stats.GetExtension(c.ExtensionName()).(*extension.ComplexityStats)
	if s == nil {
		return refusal(codeTooComplex, nil, "the query costs more than the limit")
	}
	return refusal(codeTooComplex, nil, "the query costs %d, over the limit of %d: each field costs 1 and a connection costs first × what each of its items selects; ask for smaller pages or fewer fields", s.Complexity, s.ComplexityLimit)
}

// costSchema is the executable schema with the cost model of the API: a
// field costs 1 plus what it selects, except a connection field (one that
// returns a *Connection), which costs its page size (first or last) times
// what it selects, at least 1, and a list field, which costs the most items
// it can hold (listBounds) times what each selects, at least 1.
type costSchema struct{ graphql.ExecutableSchema }

func (s costSchema) Complexity(ctx context.Context, typeName, field string, childComplexity int, args map[string]any) (int, bool) {
	if t := s.Schema().Types[typeName]; t != nil {
		if n, _, given, ok := pageSize(t.Fields.ForName(field), args); ok {
			if !given || n < 1 {
				n = MaxPageSize // pageSizes refuses these first; never cheaper than the largest page
			}
			return mulSaturating(int(min(n, math.MaxInt32)), max(childComplexity, 1)), true
		}
	}
	if n, ok := listBounds[typeName+"."+field]; ok {
		return mulSaturating(n, max(childComplexity, 1)), true
	}
	return s.ExecutableSchema.Complexity(ctx, typeName, field, childComplexity, args)
}

// listBounds is the most items each list field of the schema can return
// (connections aside: `first` bounds their pages), by "Type.field". Each is
// the constant its write path enforces (tenant's validators), or the size of
// the enum or catalog its items are distinct members of, so the cost of a
// query is its real upper bound. TestEveryListFieldBounded fails on a list
// field missing here: a list that grows with tenant data must have a
// maximum enforced on write, or be a connection.
var listBounds = map[string]int{
	"TenantSettings.ipAllowlist":  tenant.MaxAllowlistEntries,   // NormalizeAllowlist
	"NotificationChannels.emails": tenant.MaxNotificationEmails, // NormalizeEmails
	"NotificationChannels.events": len(tenant.AllNotificationEvents),
	"KeywordList.items":           tenant.MaxKeywords, // NormalizeKeywords
	"IndustryConfig.allowed":      len(tenant.IndustryCatalog),
	"IndustryConfig.blocked":      len(tenant.IndustryCatalog),
	"Query.industryCatalog":       len(tenant.IndustryCatalog),
	"RiskMatrix.weights":          len(tenant.WebChecks), // each check at most once
	"WebsiteConfig.enabledChecks": len(tenant.WebChecks),
	"ApiKey.permissions":          len(tenant.AllPermissions), // de-duplicated on creation
	"Viewer.permissions":          len(tenant.AllPermissions),
	"Query.plans":                 tenant.MaxPlans,
	"AuditEntry.changes":          tenant.MaxAuditChanges,
	"Stats.trends":                tenant.MaxStatsBuckets,
	"Credits.grants":              tenant.MaxCreditGrants,
	"TokenReport.metricsByType":   tenant.MaxTokenTypes,
}

func mulSaturating(a, b int) int {
	if a > 0 && b > math.MaxInt/a {
		return math.MaxInt
	}
	return a * b
}

// persistedQueries is gqlgen's automatic persisted queries (Apollo's
// protocol: extensions.persistedQuery.sha256Hash) with its refusals coded.
type persistedQueries struct {
	extension.AutomaticPersistedQuery
}

func (p persistedQueries) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	err := p.AutomaticPersistedQuery.MutateOperationParameters(ctx, raw)
	if err != nil && err.Extensions["code"] == nil {
		// An unknown version, a malformed extension, a hash that does not
		// match the query.
		errcode.Set(err, codeBadPersisted)
	}
	return err
}

// boundedCache keeps only queries up to maxPersistedQueryBytes, so the
// 1,000 entries stay small whatever clients send.
type boundedCache struct{ graphql.Cache[string] }

func (c boundedCache) Add(ctx context.Context, key, query string) {
	if len(query) <= maxPersistedQueryBytes {
		c.Cache.Add(ctx, key, query)
	}
}

var suggestion = regexp.MustCompile(`\s*Did you mean [^\n]*\?$`)

// stripSuggestions removes "Did you mean ...?" from error messages when
// field suggestions are off: gqlgen's switch covers unknown fields, not
// unknown arguments, types or enum values, which also name schema members.
func stripSuggestions(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp != nil {
		for _, e := range resp.Errors {
			e.Message = suggestion.ReplaceAllString(e.Message, "")
		}
	}
	return resp
}

// operationDeadline gives an operation that has no deadline yet (one over
// a websocket: HTTP requests get theirs in protect) the request timeout.
func operationDeadline(d time.Duration) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if _, ok := ctx.Deadline(); ok {
			return next(ctx)
		}
		if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Subscription {
			return next(ctx)
		}
		ctx, cancel := context.WithTimeout(ctx, d)
		h := next(ctx)
		return func(ctx context.Context) *graphql.Response {
			r := h(ctx)
			if r == nil { // the end of the operation's responses
				cancel()
			}
			return r
		}
	}
}

// protect wraps the GraphQL endpoint: panics outside resolvers become a 500
// and a log line; a POST that is not application/json is refused with 415
// (text/plain, form and multipart bodies are what a browser sends cross-site
// without a CORS preflight, so refusing them closes that CSRF door); and
// every other request gets the request deadline (a websocket's operations
// get theirs one by one in operationDeadline).
func protect(next http.Handler, cfg Config) http.Handler {
	timeout := cfg.requestTimeout()
	return recoverHTTP(cfg.Logger, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > cfg.MaxBodyBytes {
			// Refused before a byte is read, whatever the transport.
			writeRefusal(w, r, http.StatusRequestEntityTooLarge, codeRequestTooLarge,
				fmt.Sprintf("the request is larger than the limit of %d bytes", cfg.MaxBodyBytes))
			return
		}
		if r.Body != nil {
			// Every reader downstream (Idempotency-Key, the transports) is
			// held to the same limit.
			r.Body = http.MaxBytesReader(w, r.Body, cfg.MaxBodyBytes)
		}
		if r.Method == http.MethodPost {
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				writeRefusal(w, r, http.StatusUnsupportedMediaType, codeMediaType,
					"POST requests must have Content-Type: application/json; text/plain, form and multipart bodies are refused (a browser can send them from any site)")
				return
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	}))
}

// recoverHTTP turns a panic of next (outside gqlgen, which recovers its
// own) into a 500 INTERNAL_SERVER_ERROR and a log line with the stack.
func recoverHTTP(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			log.ErrorContext(r.Context(), "panic in HTTP handler", "request_id", tenant.RequestID(r.Context()), "panic", p, "stack", string(debug.Stack()))
			writeError(w, r, http.StatusInternalServerError, nil)
		}()
		next.ServeHTTP(w, r)
	})
}

// writeRefusal answers a request refused before GraphQL read it, in
// GraphQL's response shape with no data key (nothing ran).
func writeRefusal(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	ct := "application/json"
	if acceptsGraphQLResponse(r) {
		ct = "application/graphql-response+json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_, _ = w.Write(errorBody(msg, code))
}

// graphiQLOff answers every page of GraphiQL when introspection is off: it
// could not show the schema.
func graphiQLOff() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("GraphiQL is off because introspection is disabled on this server (INTROSPECTION=off); POST GraphQL to /graphql\n"))
	})
}

// boundedDocCache is gqlgen's parsed-document cache, keeping only documents
// up to maxRememberedQuery bytes of source.
type boundedDocCache struct {
	graphql.Cache[*ast.QueryDocument]
}

func (c boundedDocCache) Add(ctx context.Context, key string, doc *ast.QueryDocument) {
	if len(key) <= maxRememberedQuery {
		c.Cache.Add(ctx, key, doc)
	}
}
