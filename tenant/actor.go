package tenant

import (
	"context"
	"net/netip"
	"slices"
	"strings"
)

// ActorKind says how a caller authenticated.
type ActorKind int

// The kinds of caller.
const (
	Anonymous   ActorKind = iota // no credentials
	Admin                        // the platform operator's ADMIN_SECRET
	APIKey                       // a tenant's API key
	MemberActor                  // a tenant's member, through a session
)

// Actor is the authenticated caller of a request.
type Actor struct {
	Kind        ActorKind
	KeyID       string // the API key's id (APIKey only)
	TenantID    string // the key's or member's own tenant (APIKey, Member)
	Permissions []Permission
	// MemberID, SessionID and Role are the member's, their session's and
	// their role (Member only); Permissions are the role's.
	MemberID, SessionID string
	Role                Role
	// IPAllowlist is the key's or member's tenant's allowlist (APIKey,
	// Member); empty allows any address.
	IPAllowlist []netip.Prefix
	// RequestsPerMinute is the API rate of the key's tenant's current plan
	// (APIKey only), read with the key at each request so a plan change
	// applies to the next request.
	RequestsPerMinute int
	// Tenant is the key's tenant as read with the key (APIKey only): `me`
	// answers from it instead of reading it again. It belongs to one HTTP
	// request; a websocket connection, which outlives the read, drops it
	// (ForConnection).
	Tenant *Tenant
}

// ForConnection returns the actor for a long-lived connection: without the
// tenant read at authentication, which would go stale.
func (a *Actor) ForConnection() *Actor {
	if a.Tenant == nil {
		return a
	}
	c := *a
	c.Tenant = nil
	return &c
}

// AllowsIP reports whether the actor may call from addr: the operator
// always may; a key only from its tenant's allowlist, when it has one.
func (a *Actor) AllowsIP(addr netip.Addr) bool {
	if (a.Kind != APIKey && a.Kind != MemberActor) || len(a.IPAllowlist) == 0 {
		return true
	}
	return AllowlistPermits(a.IPAllowlist, addr)
}

// AllowlistPermits reports whether addr is inside one of the prefixes.
// IPv4-mapped IPv6 addresses match their IPv4 rules.
func AllowlistPermits(list []netip.Prefix, addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range list {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// ActorID is how audit fields (createdBy, modifiedBy) name the actor:
// "admin" for the operator, "key:<id>" for an API key, "member:<id>" for
// a member.
func (a *Actor) ActorID() string {
	switch a.Kind {
	case Admin:
		return "admin"
	case APIKey:
		return "key:" + a.KeyID
	case MemberActor:
		return "member:" + a.MemberID
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
	id := strings.ToLower(*tenantID) // ids are UUIDs: compare them case-insensitively
	if id == a.TenantID || a.AllTenants() {
		return id, nil
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

type clientIPKey struct{}

// WithClientIP returns ctx carrying the caller's address (after trusted
// proxies), used by the allowlist, its lock-out protection and audit.
func WithClientIP(ctx context.Context, ip netip.Addr) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// ClientIP returns the caller's address, or the zero Addr if unknown.
func ClientIP(ctx context.Context) netip.Addr {
	ip, _ := ctx.Value(clientIPKey{}).(netip.Addr)
	return ip
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

type userAgentKey struct{}

// WithUserAgent returns ctx carrying the client's User-Agent, which a new
// session records so its member can tell their sessions apart.
func WithUserAgent(ctx context.Context, ua string) context.Context {
	return context.WithValue(ctx, userAgentKey{}, ua)
}

// UserAgent returns the client's User-Agent, or "".
func UserAgent(ctx context.Context) string {
	s, _ := ctx.Value(userAgentKey{}).(string)
	return s
}
