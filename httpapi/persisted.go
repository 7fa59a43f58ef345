package httpapi

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// maxPersistedQueryBytes is the longest query the persisted-query cache
// keeps: 1,000 entries of at most 32 KiB. A longer query still runs; the
// client just sends it in full each time.
const maxPersistedQueryBytes = 32 << 10

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
