package httpapi

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// admission bounds how many GraphQL responses execute at once in this
// instance (QUERY_MAX_CONCURRENT): a query or mutation holds a slot while
// it executes, a subscription only while it computes each event. Others
// wait their turn, in arrival order, until their deadline (REQUEST_TIMEOUT),
// and then answer SERVICE_UNAVAILABLE with nothing executed. Executing
// fewer operations at once keeps the live heap small, so the collector does
// not run continuously under the soft memory limit (GOMEMLIMIT): at 50
// clients on the admin list of 100, an unbounded server spent most of its
// CPU collecting (docs/benchmarks.md).
type admission chan struct{}

func newAdmission(n int) admission {
	if n <= 0 {
		return nil
	}
	return make(admission, n)
}

// aroundResponses is a gqlgen response middleware.
func (a admission) aroundResponses(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	// A subscription's response handler waits for its next event: holding
	// a slot there would let idle subscribers starve every query.
	if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Subscription {
		return next(ctx)
	}
	select {
	case a <- struct{}{}:
	case <-ctx.Done():
		return &graphql.Response{Errors: gqlerror.List{refusal("SERVICE_UNAVAILABLE", nil,
			"the server is busy: the request waited for its turn until its deadline and nothing ran; retry")}}
	}
	defer func() { <-a }()
	return next(ctx)
}
