package tenant

import (
	"context"
	"slices"
)

// ActorKind says how a caller authenticated.
type ActorKind int

// The kinds of caller.
const (
	Anonymous ActorKind = iota // no credentials
	Admin                      // the platform operator's ADMIN_SECRET
	APIKey                     // a tenant's API key
)

// Actor is the authenticated caller of a request.
type Actor struct {
	Kind        ActorKind
	KeyID       string // the API key's id (APIKey only)
	TenantID    string // the key's own tenant (APIKey only)
	Permissions []Permission
}

// ActorID is how audit fields (createdBy, modifiedBy) name the actor:
// "admin" for the operator, "key:<id>" for an API key.
func (a *Actor) ActorID() string {
	switch a.Kind {
	case Admin:
		return "admin"
	case APIKey:
		return "key:" + a.KeyID
	}
	return "anonymous"
}

// Has reports whether the actor holds p. The operator holds everything.
func (a *Actor) Has(p Permission) bool {
	if a.Kind == Admin {
		return true
	}
	return slices.Contains(a.Permissions, p)
}

// AllTenants reports whether the actor may reach every tenant: the operator
// and keys holding tenant:manage.
func (a *Actor) AllTenants() bool { return a.Has(PermTenantManage) }

// OwnTenant is the actor's own tenant id, or "" for the operator.
func (a *Actor) OwnTenant() string { return a.TenantID }

// TargetTenant resolves the tenant an operation acts on: the caller's own
// when tenantID is nil, any tenant for a caller holding tenant:manage, and
// otherwise ENOTFOUND, so a foreign id reads exactly like a missing one.
func (a *Actor) TargetTenant(tenantID *string) (string, error) {
	if tenantID == nil || *tenantID == "" {
		if a.TenantID == "" {
			return "", Invalid("tenantId", "tenantId is required when authenticating with the admin secret, which has no tenant of its own")
		}
		return a.TenantID, nil
	}
	if *tenantID == a.TenantID || a.AllTenants() {
		return *tenantID, nil
	}
	return "", NotFound("tenant")
}

type actorKey struct{}

// WithActor returns ctx carrying the actor.
func WithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the request's actor; an anonymous one if none was set.
func ActorFrom(ctx context.Context) *Actor {
	if a, ok := ctx.Value(actorKey{}).(*Actor); ok {
		return a
	}
	return &Actor{Kind: Anonymous}
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id used in logs and audit.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id of ctx, or "".
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey{}).(string)
	return s
}
