// Package resolvers implements the GraphQL schema: thin resolvers that turn
// arguments into Store calls, the per-operation dataloaders, the
// @hasPermission directive and the error presenter, all wired by NewSchema,
// which the server and the tests share.
package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"tenantapi/db"
	"tenantapi/egress"
	"tenantapi/graph"
	"tenantapi/live"
	"tenantapi/tenant"
)

// Resolver is the root resolver; it holds the application's dependencies.
type Resolver struct {
	Store        *db.Store
	Egress       *egress.Client // outbound requests to tenant-supplied URLs (SSO tests, webhooks)
	SSOLoginBase string         // SsoConfig.loginUrl's base (tenant.ParseSSOLoginBase)
	PublicURL    string         // where this deployment is reached (PUBLIC_URL): SsoConfig.callbackUrl's base
	// MaxActiveAPIKeys caps each tenant's active API keys (createApiKey).
	MaxActiveAPIKeys int
	// Live hands out the events of live subscriptions (subscriptions.go);
	// nil answers them with UNAVAILABLE.
	Live *live.Hub
	// MaxMembers caps each tenant's members (inviteMember).
	MaxMembers int
	// Mailer sends invitations and password resets; nil sends nothing.
	Mailer tenant.Mailer
	// LinkBase is where emailed links point (the deployment's public URL);
	// "" puts only the token and its mutation in the emails.
	LinkBase string
	// LoginGuard throttles login and requestPasswordReset; nil = none.
	LoginGuard tenant.LoginGuard
	// InvoiceBase is put before Invoice.pdfUrl (PUBLIC_BASE_URL); "" leaves
	// it relative.
	InvoiceBase string
	// InvoiceLinkKey signs Invoice.signedPdfUrl (httpapi checks it).
	InvoiceLinkKey []byte

	// perms is the @hasPermission of each association's field, read from
	// the executable schema by NewSchema (associationPermissions).
	perms map[string]tenant.Permission
	// nodePerms is the permission node(id:) needs for each Node type (""
	// for none), read from the executable schema by NewSchema
	// (nodePermissions).
	nodePerms map[string]tenant.Permission
}

// Deps are the schema's dependencies besides the Store.
type Deps struct {
	Egress *egress.Client
	// PublicURL is where this deployment is reached (PUBLIC_URL); "" =
	// tenant.DefaultPublicURL.
	PublicURL string
	// SSOLoginBase is where tenants' users start an SSO login (loginUrl is
	// it + "/<tenant id>"); "" = PublicURL + tenant.SSOLoginPath.
	SSOLoginBase string
	// MaxActiveAPIKeys caps each tenant's active API keys
	// (API_KEYS_MAX_ACTIVE); 0 = tenant.DefaultMaxActiveAPIKeys.
	MaxActiveAPIKeys int
	// Live is the instance's hub of live subscriptions (live/); nil
	// refuses subscriptions.
	Live *live.Hub
	// MaxMembers caps each tenant's members (MEMBERS_MAX); 0 =
	// tenant.DefaultMaxMembers.
	MaxMembers int
	// Mailer sends invitations and password resets (the mail package);
	// nil sends nothing and reports emailSent: false.
	Mailer tenant.Mailer
	// LinkBase is where emailed links point (PUBLIC_URL, issue 14 §3); ""
	// = the emails carry only the token and the mutation that takes it.
	LinkBase string
	// LoginGuard throttles logins and reset requests; nil = unthrottled.
	LoginGuard tenant.LoginGuard
	// InvoiceBase is put before Invoice.pdfUrl (PUBLIC_BASE_URL for now;
	// PUBLIC_URL once it exists); "" leaves it relative.
	InvoiceBase string
	// InvoiceLinkKey signs Invoice.signedPdfUrl; httpapi checks it.
	InvoiceLinkKey []byte
}

// NewSchema builds the executable schema with its directive wired. The
// server and the tests both build it here, so tests exercise exactly what
// production runs.
func NewSchema(store *db.Store, deps Deps) graphql.ExecutableSchema {
	if deps.Egress == nil {
		deps.Egress = egress.New(egress.Options{})
	}
	if deps.PublicURL == "" {
		deps.PublicURL = tenant.DefaultPublicURL
	}
	if deps.SSOLoginBase == "" {
		deps.SSOLoginBase = deps.PublicURL + tenant.SSOLoginPath
	}
	if deps.MaxActiveAPIKeys <= 0 {
		deps.MaxActiveAPIKeys = tenant.DefaultMaxActiveAPIKeys
	}
	if deps.MaxMembers <= 0 {
		deps.MaxMembers = tenant.DefaultMaxMembers
	}
	r := &Resolver{Store: store, Egress: deps.Egress, SSOLoginBase: deps.SSOLoginBase, PublicURL: deps.PublicURL, MaxActiveAPIKeys: deps.MaxActiveAPIKeys,
		MaxMembers: deps.MaxMembers, Mailer: deps.Mailer, LinkBase: deps.LinkBase, LoginGuard: deps.LoginGuard, Live: deps.Live,
		InvoiceBase: deps.InvoiceBase, InvoiceLinkKey: deps.InvoiceLinkKey}
	cfg := graph.Config{Resolvers: r}
	cfg.Directives.HasPermission = HasPermission
	es := graph.NewExecutableSchema(cfg)
	perms, err := associationPermissions(es.Schema())
	if err != nil {
		// The table and the compiled-in schema disagree: a build that can
		// never serve correctly (TestAssociationTableMatchesSchema).
		panic(err)
	}
	r.perms = perms
	if r.nodePerms, err = nodePermissions(es.Schema()); err != nil {
		panic(err) // likewise (TestNodeTableMatchesSchema)
	}
	return es
}

// HasPermission implements @hasPermission: it runs the field only when the
// caller holds perm.
func HasPermission(ctx context.Context, _ any, next graphql.Resolver, perm tenant.Permission) (any, error) {
	a := tenant.ActorFrom(ctx)
	if a.Kind == tenant.Anonymous {
		return nil, tenant.Errorf(tenant.EUNAUTHENTICATED, "authentication required: send Authorization: Bearer <API key or admin secret>")
	}
	if !a.Has(perm) {
		return nil, forbidden(a, perm)
	}
	return next(ctx)
}

// forbidden is the refusal of a caller that lacks perm.
func forbidden(a *tenant.Actor, perm tenant.Permission) error {
	if a.Kind == tenant.MemberActor {
		return tenant.Errorf(tenant.EFORBIDDEN, "this needs the %s permission (%s), which the %s role does not hold", perm.EnumName(), perm, a.Role)
	}
	return tenant.Errorf(tenant.EFORBIDDEN, "this needs the %s permission (%s), which the API key does not hold", perm.EnumName(), perm)
}

// deref returns *p, or the zero value for nil (optional GraphQL arguments).
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
