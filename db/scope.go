package db

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"tenantapi/tenant"
)

// What every tenant-scoped read, loader batch and write of the store
// shares: the caller's scope as SQL arguments, the batches' keys and key
// order, and the locked read and version check that start a write.

// scope returns the SQL arguments that confine a query to what the caller
// may see: ($all OR tenant_id = $own). Every tenant-scoped query carries it,
// so isolation does not depend on the resolvers alone.
func scope(ctx context.Context) (all bool, own any) {
	a := tenant.ActorFrom(ctx)
	if id := a.OwnTenant(); id != "" {
		own = id
	}
	return a.AllTenants(), own
}

// validIDs drops ids that are not UUIDs (they cannot exist, and PostgreSQL
// would refuse the whole batch); inKeyOrder gives them ENOTFOUND.
func validIDs(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if tenant.ValidID(id) {
			out = append(out, id)
		}
	}
	return out
}

// inKeyOrder maps rows back to the loader's keys: results[i] belongs to
// keys[i], a key with no row gets its own ENOTFOUND, never a shifted row.
func inKeyOrder[R any, V any](keys []string, rows []R, err error, what string, kv func(*R) (string, V)) ([]V, []error) {
	out := make([]V, len(keys))
	errs := make([]error, len(keys))
	if err != nil {
		err = translate(err)
		for i := range errs {
			errs[i] = err
		}
		return out, errs
	}
	byKey := make(map[string]V, len(rows))
	for i := range rows {
		k, v := kv(&rows[i])
		byKey[k] = v
	}
	for i, k := range keys {
		v, ok := byKey[k]
		if !ok {
			errs[i] = tenant.NotFound(what)
			continue
		}
		out[i] = v
	}
	return out, errs
}

// lockTenant loads and locks a tenant the caller may change. Deleted
// tenants answer ECONFLICT unless allowDeleted.
func lockTenant(ctx context.Context, tx sqlx.ExtContext, id string, allowDeleted bool) (*tenant.Tenant, error) {
	if !tenant.ValidID(id) {
		return nil, tenant.NotFound("tenant")
	}
	all, own := scope(ctx)
	var t tenant.Tenant
	err := sqlx.GetContext(ctx, tx, &t, `SELECT `+tenantCols+` FROM tenants t
		WHERE t.id = $1 AND ($2 OR t.id = $3) FOR UPDATE`, id, all, own)
	if err != nil {
		return nil, notFoundAs(err, "tenant")
	}
	if t.Status == tenant.StatusDeleted && !allowDeleted {
		return nil, tenant.Errorf(tenant.ECONFLICT, "tenant is deleted; restore it with restoreTenant first")
	}
	return &t, nil
}

// checkVersion refuses a write whose expected version (the client's
// optimistic lock, field names its argument) is not the row's: ECONFLICT.
func checkVersion(field string, expected *int, actual int) error {
	if expected != nil && *expected != actual {
		return &tenant.Error{Code: tenant.ECONFLICT, Field: field,
			Message: fmt.Sprintf("the object changed since you read it: expected version %d, current version %d; reload and retry", *expected, actual)}
	}
	return nil
}
