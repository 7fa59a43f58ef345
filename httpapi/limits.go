package httpapi

import (
	"context"
	"regexp"
	"time"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// What protects the server from hostile or careless requests before they
// cost anything, installed on gqlgen's server by useLimits: limits on
// GraphQL documents checked before validation (documentlimits.go: tokens,
// depth, aliases, directives, copies of a field, fields once fragments are
// expanded) and after it (cost.go: page sizes, cost), automatic persisted
// queries and the document caches (persisted.go), the introspection
// (introspection.go) and suggestion switches. Around the endpoint,
// guard.go refuses cross-site "simple" requests and oversized bodies,
// gives every request its deadline and recovers panics outside resolvers.

// Limits bound the GraphQL documents the server accepts. A zero field takes
// its value from DefaultLimits. docs/limits.md explains each one.
type Limits struct {
	MaxDepth       int // nesting of fields (introspection's ofType excepted: see maxIntrospectionDepth)
	MaxAliases     int // aliased fields in a document, fragments expanded
	MaxDirectives  int // directives on one field, fragment spread, inline fragment or operation
	MaxTokens      int // lexical tokens of the document (comments are free)
	MaxCost        int // cost of the operation: see costSchema
	MaxFieldCopies int // selections of one response name in one merged selection set
}

// DefaultLimits let every query of the dashboard, GraphiQL's introspection
// and the documentation's examples through with room to spare (TestRealisticQueriesPass
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
	srv.Use(pageSizes{lru.New[struct{}](1000)})
	srv.Use(costLimit{extension.FixedComplexityLimit(lim.MaxCost, complexity.WithIgnoreFields(ignoredByCostLimit)), lru.New[int](1000)})
	// Who may introspect, and its cost added to costLimit's (introspection.go).
	srv.Use(&introspectionLimits{mode: mode, limit: lim.MaxCost})
	if cfg.DisableFieldSuggestions {
		srv.SetDisableSuggestion(true)
		srv.AroundResponses(stripSuggestions)
	}
	srv.AroundOperations(operationDeadline(cfg.requestTimeout()))
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
