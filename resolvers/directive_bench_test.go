package resolvers

import (
	"context"
	"testing"

	"tenantapi/tenant"
)

// BenchmarkHasPermission measures @hasPermission, which wraps every field
// resolver (once per list element for fields of list items): the granted
// path for a key holding every tenant permission (the permission checked is
// the last in its list, the slowest lookup), the operator, and a refusal.
func BenchmarkHasPermission(b *testing.B) {
	next := func(ctx context.Context) (any, error) { return true, nil }
	key := &tenant.Actor{Kind: tenant.APIKey, KeyID: "k", TenantID: "t", Permissions: tenant.TenantPermissions()}
	narrow := &tenant.Actor{Kind: tenant.APIKey, KeyID: "k", TenantID: "t", Permissions: []tenant.Permission{tenant.PermTenantRead}}
	for _, c := range []struct {
		name  string
		actor *tenant.Actor
		perm  tenant.Permission
		ok    bool
	}{
		{"key/granted", key, tenant.PermUsageWrite, true},
		{"admin/granted", &tenant.Actor{Kind: tenant.Admin}, tenant.PermBillingRead, true},
		{"key/forbidden", narrow, tenant.PermBillingRead, false},
	} {
		ctx := tenant.WithActor(context.Background(), c.actor)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, err := HasPermission(ctx, nil, next, c.perm)
				if (err == nil) != c.ok {
					b.Fatalf("err = %v", err)
				}
			}
		})
	}
}
