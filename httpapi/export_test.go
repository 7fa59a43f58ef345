package httpapi

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/validator"

	"tenantapi/resolvers"
)

// This file exists only in tests: it lets the external tests reach
// unexported hooks. Production code cannot set them.

// SetFieldMiddleware installs f around every field resolver of the server
// New builds from cfg: tests make a resolver panic with it, or count the
// resolvers that run.
func SetFieldMiddleware(cfg *Config, f graphql.FieldMiddleware) { cfg.testAroundFields = f }

// SetClock makes the failed-authentication refusals of the server New
// builds from cfg keep time with now (the test's limiter clock).
func SetClock(cfg *Config, now func() time.Time) { cfg.testNow = now }

// SetWebsocketTimers sets the websocket's connection_init timeout and the
// interval at which a socket's credential is checked while operations run.
func SetWebsocketTimers(cfg *Config, initTimeout, recheck time.Duration) {
	cfg.testWSInitTimeout, cfg.testWSRecheck = initTimeout, recheck
}

// RecoverHTTP is recoverHTTP, the panic guard around the GraphQL endpoint.
var RecoverHTTP = recoverHTTP

// CountRateLimited is countRateLimited, which the rate limiter calls.
var CountRateLimited = countRateLimited

// Measure returns what the limits see of query: its depth (as
// QUERY_MAX_DEPTH counts it) and its cost (as QUERY_MAX_COST counts it,
// vars applied).
func Measure(query string, vars map[string]any) (depth, cost int, err error) {
	huge := Limits{MaxAliases: 1 << 30, MaxDirectives: 1 << 30, MaxTokens: 1 << 30, MaxCost: 1 << 30, MaxFieldCopies: 1 << 30}
	for depth = 1; depth < 100; depth++ {
		huge.MaxDepth = depth
		if e := (documentLimits{lim: huge, introspection: true}).check(query); e == nil || e.Extensions["code"] != codeTooDeep {
			break
		}
	}
	es := resolvers.NewSchema(nil, resolvers.Deps{})
	doc, gerr := gqlparser.LoadQueryWithRules(es.Schema(), query, nil)
	if gerr != nil {
		return 0, 0, gerr
	}
	op := doc.Operations[0]
	coerced, verr := validator.VariableValues(es.Schema(), op, vars)
	if verr != nil {
		return 0, 0, verr
	}
	cost = complexity.Calculate(context.Background(), costSchema{es}, op, coerced, complexity.WithIgnoreFields(ignoredByCostLimit))
	intro, _ := introspectionCost(es.Schema(), introspectionRoots(op.SelectionSet, nil), coerced, 1<<30)
	return depth, cost + intro, nil
}

// ListBounds is listBounds: the most items of each list field, which the
// cost counts.
var ListBounds = listBounds
