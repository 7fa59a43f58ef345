package resolvers

import (
	"tenantapi/graph"
	"tenantapi/sso"
	"tenantapi/tenant"
)

// ssoChecker checks identity providers through the resolver's egress client.
func (r *Resolver) ssoChecker() *sso.Checker {
	return &sso.Checker{Egress: r.Egress, Now: r.Store.Now}
}

// enableSSOInput turns the GraphQL input into the domain's.
func enableSSOInput(in graph.EnableSsoInput) tenant.EnableSSO {
	out := tenant.EnableSSO{ExpectedVersion: in.ExpectedVersion, ValidateOnly: deref(in.ValidateOnly), DefaultRole: in.DefaultRole, Enforced: in.Enforced}
	p := in.Provider
	if p == nil {
		return out
	}
	out.Provider = &tenant.SSOProviderInput{}
	if o := p.Oidc; o != nil {
		out.Provider.OIDC = &tenant.OIDCProvider{ClientID: o.ClientID, ClientSecret: o.ClientSecret, DiscoveryURL: o.DiscoveryURL, RedirectURI: o.RedirectURI}
	}
	if s := p.Saml; s != nil {
		out.Provider.SAML = &tenant.SAMLProvider{EntityID: s.EntityID, IdpMetadataURL: s.IdpMetadataURL, IdpMetadataXML: (*string)(s.IdpMetadataXML), SpX509Cert: string(s.SpX509Cert), IdpX509Cert: string(s.IdpX509Cert)}
	}
	if e := p.EntraID; e != nil {
		out.Provider.EntraID = &tenant.EntraIDProvider{DirectoryTenantID: e.DirectoryTenantID, Cloud: e.Cloud, ClientID: e.ClientID, ClientSecret: e.ClientSecret}
	}
	return out
}
