package tenant

import "time"

// SSO login (docs/sso.md): what this deployment needs to sign a tenant's
// people in through their identity provider.

// SSOLoginStateTTL is how long a started SSO login may take at the
// identity provider before its state, nonce and PKCE verifier expire.
const SSOLoginStateTTL = 10 * time.Minute

// SSOLogin is a tenant's identity provider as a login needs it, secrets
// opened. Never shown to anyone.
type SSOLogin struct {
	TenantID          string      `db:"tenant_id"`
	Domain            string      `db:"domain"`
	Environment       Environment `db:"environment"`
	TenantStatus      Status      `db:"tenant_status"`
	Enabled           bool        `db:"enabled"`
	Type              *SSOType    `db:"type"`
	Status            SSOStatus   `db:"status"`
	ClientID          string      `db:"client_id"`
	ClientSecret      string      `db:"-"`
	DiscoveryURL      string      `db:"discovery_url"`
	DirectoryTenantID string      `db:"directory_tenant_id"`
	EntraCloud        EntraCloud  `db:"entra_cloud"`
	EntityID          string      `db:"entity_id"`
	IdpMetadataURL    string      `db:"idp_metadata_url"`
	IdpMetadataXML    string      `db:"idp_metadata_xml"`
	IdpX509Cert       string      `db:"idp_x509_cert"`
	DefaultRole       Role        `db:"default_role"`
	Enforced          bool        `db:"enforced"`
	Version           int         `db:"version"`
}

// SSOLoginState is a started OIDC login, kept server-side until the
// identity provider sends the browser back (single use).
type SSOLoginState struct {
	TenantID string `db:"tenant_id"`
	Nonce    string `db:"nonce"`
	Verifier string `db:"verifier"`
	ReturnTo string `db:"return_to"`
}

// SSOEnforced reports whether password login is refused: SSO enabled,
// enforced, and ACTIVE (its last test succeeded).
func (l *SSOLogin) SSOEnforced() bool {
	return l.Enabled && l.Enforced && l.Status == SSOActive
}

// SignInMethods is how an address signs in, as the sign-in page asks (GET
// /auth/methods): found by the address's domain alone, so it is the same
// for every address of a domain, member or not. A domain has up to one
// tenant per environment: the answer gives the methods of the environment
// asked (EnvironmentSignIn, at the top level, as before environments
// existed) and, in Environments, those of every environment, always all
// of them in the order of Environments, so the list's length tells
// nothing about which environments have a tenant.
type SignInMethods struct {
	EnvironmentSignIn
	Environments []EnvironmentSignIn `json:"environments"`
}

// EnvironmentSignIn is how addresses of a domain sign in to its tenant of
// one environment.
type EnvironmentSignIn struct {
	Environment Environment `json:"environment"`
	// SSO is the tenant's SSO login URL when its SSO can sign people in,
	// else nil.
	SSO *string `json:"sso"`
	// Password is false only while SSO is enforced (SSOEnforced).
	Password bool `json:"password"`
}

// SignInMethodsOf is how addresses of a domain sign in, from logins (the
// domain's tenants, at most one per environment), for env at the top
// level, with SSO logins starting below loginBase (SsoConfig.loginUrl's
// base). An environment where the domain has no tenant, or a suspended
// one, answers as a tenant without SSO: password only.
func SignInMethodsOf(logins []*SSOLogin, env Environment, loginBase string) SignInMethods {
	out := SignInMethods{Environments: make([]EnvironmentSignIn, len(Environments))}
	for i, e := range Environments {
		out.Environments[i] = EnvironmentSignIn{Environment: e, Password: true}
		for _, l := range logins {
			if l.Environment == e {
				out.Environments[i] = l.signIn(loginBase)
			}
		}
		if e == env {
			out.EnvironmentSignIn = out.Environments[i]
		}
	}
	return out
}

// signIn is how addresses of l's domain sign in to l.
func (l *SSOLogin) signIn(loginBase string) EnvironmentSignIn {
	if l.TenantStatus != StatusActive || l.Type == nil || !l.Enabled {
		return EnvironmentSignIn{Environment: l.Environment, Password: true}
	}
	u := loginBase + "/" + l.TenantID
	return EnvironmentSignIn{Environment: l.Environment, SSO: &u, Password: !l.SSOEnforced()}
}
