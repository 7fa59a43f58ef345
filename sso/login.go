package sso

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"tenantapi/tenant"
)

// The OpenID Connect authorization code flow with PKCE (docs/sso.md):
// AuthCodeURL sends the browser to the identity provider with a state, a
// nonce and an S256 code challenge; Exchange redeems the code it brings
// back with the verifier, and verifies the ID token with go-oidc (issuer,
// audience = client id, expiry, signature from the JWKS) and the nonce.

// OIDCClient is a tenant's relying party at its identity provider.
type OIDCClient struct {
	// Issuer is the provider's issuer (OIDCIssuer of the discovery URL, or
	// EntraIssuerIn of the directory).
	Issuer string
	// EntraDomain is set when Issuer names an Entra directory by a
	// verified domain: its tokens' issuer names the directory's id, which
	// the discovery document gives.
	EntraDomain  bool
	ClientID     string
	ClientSecret string
	// RedirectURL is this deployment's callback (PUBLIC_URL/auth/sso/callback).
	RedirectURL string
}

// ClientFor is the relying party of a tenant's OIDC or Entra ID login.
func (c *Checker) ClientFor(l *tenant.SSOLogin, redirectURL string) OIDCClient {
	cl := OIDCClient{ClientID: l.ClientID, ClientSecret: l.ClientSecret, RedirectURL: redirectURL, Issuer: tenant.OIDCIssuer(l.DiscoveryURL)}
	if l.Type != nil && *l.Type == tenant.SSOEntraID {
		cl.Issuer = c.EntraIssuerIn(l.EntraCloud, l.DirectoryTenantID)
		cl.EntraDomain = !tenant.ValidID(l.DirectoryTenantID)
	}
	return cl
}

// Pending is a started login: kept server-side until the browser returns.
type Pending struct {
	State, Nonce, Verifier string
}

// NewPending draws a state and a nonce (256 bits each) and a PKCE verifier.
func NewPending() Pending {
	return Pending{State: random32(), Nonce: random32(), Verifier: oauth2.GenerateVerifier()}
}

func random32() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Identity is who the identity provider vouched for.
type Identity struct {
	Subject string
	Email   string
	Name    string
}

// provider discovers the issuer through the egress client.
func (c *Checker) provider(ctx context.Context, cl OIDCClient) (context.Context, *oidc.Provider, *Problem) {
	client, rec := c.recordingClient()
	ctx = oidc.ClientContext(ctx, client)
	docURL := strings.TrimSuffix(cl.Issuer, "/") + tenant.OIDCWellKnown
	pctx := ctx
	if cl.EntraDomain {
		var p *Problem
		if pctx, p = c.entraDomainIssuer(ctx, cl.Issuer); p != nil {
			return nil, nil, p
		}
	}
	provider, err := oidc.NewProvider(pctx, cl.Issuer)
	if err != nil {
		var mismatch *oidc.IssuerMismatchError
		if errors.As(err, &mismatch) {
			return nil, nil, problemf("the discovery document at %s names the issuer %q, but it must be %q", docURL, clip(mismatch.Discovered), cl.Issuer)
		}
		return nil, nil, rec.describe("fetching the discovery document at "+docURL, err, "is not a JSON OpenID Connect discovery document")
	}
	return ctx, provider, nil
}

// entraDomainIssuer reads the real issuer of an Entra directory named by a
// verified domain (issuer is <login host>/<domain>/v2.0): Microsoft's
// document names the directory's id instead, <login host>/<id>/v2.0. It
// accepts that issuer only below the same login host and returns ctx
// telling go-oidc to expect it.
func (c *Checker) entraDomainIssuer(ctx context.Context, issuer string) (context.Context, *Problem) {
	docURL := strings.TrimSuffix(issuer, "/") + tenant.OIDCWellKnown
	body, p := c.fetch(ctx, "fetching the Entra ID discovery document at "+docURL, docURL)
	if p != nil {
		return nil, p
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	_ = json.Unmarshal(body, &doc)
	host := strings.TrimSuffix(issuer, "/")
	host = host[:strings.LastIndex(strings.TrimSuffix(host, "/v2.0"), "/")]
	id, ok := strings.CutPrefix(doc.Issuer, host+"/")
	if id, ok2 := strings.CutSuffix(id, "/v2.0"); !ok || !ok2 || !tenant.ValidID(id) {
		return nil, problemf("the Entra ID discovery document at %s names the issuer %q, not %s/<directory id>/v2.0", docURL, clip(doc.Issuer), host)
	}
	return oidc.InsecureIssuerURLContext(ctx, doc.Issuer), nil
}

func (cl OIDCClient) config(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: cl.ClientID, ClientSecret: cl.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: cl.RedirectURL, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
}

// AuthCodeURL is where the browser starts the login at the identity
// provider: response_type=code with p's state, nonce and S256 challenge.
func (c *Checker) AuthCodeURL(ctx context.Context, cl OIDCClient, p Pending) (string, *Problem) {
	_, provider, prob := c.provider(ctx, cl)
	if prob != nil {
		return "", prob
	}
	return cl.config(provider).AuthCodeURL(p.State, oidc.Nonce(p.Nonce), oauth2.S256ChallengeOption(p.Verifier)), nil
}

// Exchange redeems code with p's verifier and verifies the ID token: its
// issuer, audience (the client id), expiry, signature (the provider's
// JWKS) and nonce. It requires an email claim, and email_verified, when
// present, must be true. Every refusal is a *Problem safe to show.
func (c *Checker) Exchange(ctx context.Context, cl OIDCClient, p Pending, code string) (*Identity, *Problem) {
	ctx, provider, prob := c.provider(ctx, cl)
	if prob != nil {
		return nil, prob
	}
	tok, err := cl.config(provider).Exchange(ctx, code, oauth2.VerifierOption(p.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode != "" {
			return nil, problemf("the identity provider refused the authorization code: %s", clip(re.ErrorCode))
		}
		return nil, problemf("the identity provider did not redeem the authorization code (its token endpoint failed)")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, problemf("the identity provider returned no ID token")
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: cl.ClientID, Now: c.Now}).Verify(ctx, raw)
	if err != nil {
		return nil, verifyProblem(err)
	}
	if idt.Nonce != p.Nonce {
		return nil, problemf("the ID token's nonce does not match this sign-in (a replayed or foreign token)")
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified any    `json:"email_verified"`
		Name          string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		return nil, problemf("the ID token's claims do not parse")
	}
	if claims.Email == "" || !strings.Contains(claims.Email, "@") {
		return nil, problemf("the ID token has no email claim: ask your identity provider's administrator to release the email address (scope email)")
	}
	switch v := claims.EmailVerified.(type) {
	case nil:
	case bool:
		if !v {
			return nil, problemf("the identity provider says the address %s is not verified (email_verified is false)", clip(claims.Email))
		}
	case string:
		if v != "true" {
			return nil, problemf("the identity provider says the address %s is not verified (email_verified is %q)", clip(claims.Email), clip(v))
		}
	default:
		return nil, problemf("the ID token's email_verified claim is not a boolean")
	}
	return &Identity{Subject: idt.Subject, Email: strings.ToLower(claims.Email), Name: claims.Name}, nil
}

func verifyProblem(err error) *Problem {
	var expired *oidc.TokenExpiredError
	msg := err.Error()
	switch {
	case errors.As(err, &expired):
		return problemf("the ID token expired at %s", expired.Expiry.UTC().Format("2006-01-02T15:04:05Z"))
	case strings.Contains(msg, "expected audience"):
		return problemf("the ID token is not meant for this application: its audience is not the configured client id")
	case strings.Contains(msg, "different provider"):
		return problemf("the ID token was issued by another issuer than the configured identity provider")
	case strings.Contains(msg, "signature"):
		return problemf("the ID token's signature does not verify with the identity provider's keys (JWKS): it was altered or signed by someone else")
	}
	return problemf("the ID token is not valid (malformed, or not yet valid)")
}
