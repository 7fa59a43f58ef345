// Package sso checks tenants' identity providers for single sign-on:
// OpenID Connect discovery documents (with go-oidc), SAML 2.0 metadata (with
// crewjam/saml) and Microsoft Entra ID directories. Every fetch goes through
// the egress client (timeout, size limit, no private addresses unless
// allowed). It depends on tenant and egress only.
package sso

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/crewjam/saml"
	"github.com/go-jose/go-jose/v4"
	xrv "github.com/mattermost/xml-roundtrip-validator"

	"tenantapi/egress"
	"tenantapi/tenant"
)

// EntraBaseURL is Microsoft Entra ID's login host.
const EntraBaseURL = "https://login.microsoftonline.com"

// maxProblem bounds the length of a stored problem description.
const maxProblem = 500

// Checker checks identity providers. The zero value is not usable: set
// Egress.
type Checker struct {
	// Egress makes every outbound request.
	Egress *egress.Client
	// EntraBaseURL replaces EntraBaseURL (tests point it at a loopback
	// server); "" means Microsoft's.
	EntraBaseURL string
	// Now is the clock (metadata validUntil); nil means time.Now.
	Now func() time.Time
}

// Problem is why an identity provider failed its check. Its message is safe
// to store and show to the tenant: it names only the URLs the tenant gave
// (and what they serve), never internal addresses or library internals.
type Problem struct{ msg string }

func (p *Problem) Error() string { return p.msg }

func problemf(format string, args ...any) *Problem {
	m := fmt.Sprintf(format, args...)
	if r := []rune(m); len(r) > maxProblem {
		m = string(r[:maxProblem-1]) + "…"
	}
	return &Problem{m}
}

// Check fetches and validates the identity provider of p. It returns nil
// when the provider is usable and a *Problem otherwise.
func (c *Checker) Check(ctx context.Context, p *tenant.SSOProvider) *Problem {
	switch p.Type {
	case tenant.SSOOIDC:
		return c.checkOIDC(ctx, tenant.OIDCIssuer(p.DiscoveryURL), "the discovery document")
	case tenant.SSOEntraID:
		issuer := c.EntraIssuerIn(p.EntraCloud, p.DirectoryTenantID)
		if !tenant.ValidID(p.DirectoryTenantID) {
			// A verified domain: its document names the directory's id.
			dctx, prob := c.entraDomainIssuer(ctx, issuer)
			if prob != nil {
				return prob
			}
			ctx = dctx
		}
		return c.checkOIDC(ctx, issuer, "the Entra ID discovery document of directory "+p.DirectoryTenantID)
	case tenant.SSOSAML:
		return c.checkSAML(ctx, p)
	}
	return problemf("unknown SSO type %q", p.Type)
}

// EntraIssuer is the OpenID Connect issuer of an Entra ID directory; its
// discovery document is this + /.well-known/openid-configuration.
func (c *Checker) EntraIssuer(directoryTenantID string) string {
	return c.EntraIssuerIn(tenant.EntraGlobal, directoryTenantID)
}

// EntraIssuerIn is EntraIssuer in a national cloud: the directory (its id
// or a verified domain) below the cloud's login host.
func (c *Checker) EntraIssuerIn(cloud tenant.EntraCloud, directoryTenantID string) string {
	base := c.EntraBaseURL
	if base == "" {
		base = cloud.LoginHost()
	}
	return strings.TrimSuffix(base, "/") + "/" + directoryTenantID + "/v2.0"
}

// checkOIDC validates the discovery document of issuer with go-oidc (the
// document's issuer must equal it), requires https authorization, token and
// JWKS endpoints, and fetches the JWKS, which must hold a key.
func (c *Checker) checkOIDC(ctx context.Context, issuer, what string) *Problem {
	docURL := strings.TrimSuffix(issuer, "/") + tenant.OIDCWellKnown
	client, rec := c.recordingClient()
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, client), issuer)
	if err != nil {
		var mismatch *oidc.IssuerMismatchError
		if errors.As(err, &mismatch) {
			return problemf("the discovery document at %s names the issuer %q, but it must be %q (the discovery URL without %s)",
				docURL, clip(mismatch.Discovered), issuer, tenant.OIDCWellKnown)
		}
		return rec.describe("fetching "+what+" at "+docURL, err, "is not a JSON OpenID Connect discovery document")
	}
	var doc struct {
		AuthURL  string `json:"authorization_endpoint"`
		TokenURL string `json:"token_endpoint"`
		JWKSURL  string `json:"jwks_uri"`
	}
	if err := provider.Claims(&doc); err != nil {
		return problemf("the discovery document at %s is not a JSON object", docURL)
	}
	for _, ep := range []struct{ name, url string }{
		{"authorization_endpoint", doc.AuthURL}, {"token_endpoint", doc.TokenURL}, {"jwks_uri", doc.JWKSURL},
	} {
		if ep.url == "" {
			return problemf("the discovery document at %s has no %s", docURL, ep.name)
		}
		if u, err := url.Parse(ep.url); err != nil || u.Scheme != "https" || u.Host == "" {
			return problemf("the discovery document at %s gives %s %q, which is not an https URL", docURL, ep.name, clip(ep.url))
		}
	}
	body, p := c.fetch(ctx, "fetching the signing keys (jwks_uri) at "+doc.JWKSURL, doc.JWKSURL)
	if p != nil {
		return p
	}
	var jwks jose.JSONWebKeySet
	if err := json.Unmarshal(body, &jwks); err != nil {
		return problemf("the signing keys at %s (jwks_uri) are not a valid JSON Web Key Set", doc.JWKSURL)
	}
	for _, k := range jwks.Keys {
		if k.Valid() && k.IsPublic() && (k.Use == "" || k.Use == "sig") {
			return nil
		}
	}
	return problemf("the JSON Web Key Set at %s (jwks_uri) holds no public signing key", doc.JWKSURL)
}

// checkSAML reads the IdP metadata (fetched from its URL or given inline),
// which must describe an identity provider with a single sign-on service,
// not be past its validUntil, and list idpX509Cert as a signing certificate.
func (c *Checker) checkSAML(ctx context.Context, p *tenant.SSOProvider) *Problem {
	want, err := parseCert(p.IdpX509Cert)
	if err != nil {
		return problemf("idpX509Cert does not parse as a PEM certificate; save the configuration again")
	}
	data, where := []byte(p.IdpMetadataXML), "the IdP metadata given as idpMetadataXml"
	if p.IdpMetadataURL != "" {
		where = "the IdP metadata at " + p.IdpMetadataURL
		var prob *Problem
		if data, prob = c.fetch(ctx, "fetching the IdP metadata at "+p.IdpMetadataURL, p.IdpMetadataURL); prob != nil {
			return prob
		}
	}
	ed, err := ParseMetadata(data)
	if err != nil {
		return problemf("%s is not SAML 2.0 metadata: %s", where, clip(err.Error()))
	}
	if !ed.ValidUntil.IsZero() && ed.ValidUntil.Before(c.now()) {
		return problemf("%s expired on %s (validUntil); publish current metadata", where, ed.ValidUntil.UTC().Format(time.RFC3339))
	}
	if len(ed.IDPSSODescriptors) == 0 {
		return problemf("%s has no IDPSSODescriptor: it does not describe an identity provider", where)
	}
	var signing [][]byte
	hasSSO := false
	for _, idp := range ed.IDPSSODescriptors {
		for _, s := range idp.SingleSignOnServices {
			hasSSO = hasSSO || s.Location != ""
		}
		for _, kd := range idp.KeyDescriptors {
			if kd.Use != "" && kd.Use != "signing" {
				continue
			}
			for _, xc := range kd.KeyInfo.X509Data.X509Certificates {
				der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(xc.Data), ""))
				if err == nil {
					signing = append(signing, der)
				}
			}
		}
	}
	if !hasSSO {
		return problemf("%s has no SingleSignOnService location", where)
	}
	if len(signing) == 0 {
		return problemf("%s lists no signing certificate", where)
	}
	fingerprints := make([]string, 0, len(signing))
	for _, der := range signing {
		if bytes.Equal(der, want.Raw) {
			return nil
		}
		fingerprints = append(fingerprints, Fingerprint(der))
	}
	return problemf("the signing certificate of %s (SHA-256 %s) does not match idpX509Cert (SHA-256 %s); upload the identity provider's current certificate",
		where, strings.Join(fingerprints, ", "), Fingerprint(want.Raw))
}

// ParseMetadata parses SAML IdP metadata whose root is an EntityDescriptor,
// or an EntitiesDescriptor holding one with an IDPSSODescriptor (as
// crewjam/saml's samlsp.ParseMetadata does), after checking the XML
// survives a round trip unchanged (mattermost/xml-roundtrip-validator).
func ParseMetadata(data []byte) (*saml.EntityDescriptor, error) {
	if err := xrv.Validate(bytes.NewReader(data)); err != nil {
		return nil, errors.New("the XML does not survive a round trip (malformed or ambiguous)")
	}
	var root struct{ XMLName xml.Name }
	if err := xml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("not well-formed XML: %s", strings.TrimPrefix(err.Error(), "XML syntax error "))
	}
	const ns = "urn:oasis:names:tc:SAML:2.0:metadata"
	switch {
	case root.XMLName.Space == ns && root.XMLName.Local == "EntityDescriptor":
		var ed saml.EntityDescriptor
		if err := xml.Unmarshal(data, &ed); err != nil {
			return nil, errors.New("the EntityDescriptor does not parse")
		}
		return &ed, nil
	case root.XMLName.Space == ns && root.XMLName.Local == "EntitiesDescriptor":
		var eds saml.EntitiesDescriptor
		if err := xml.Unmarshal(data, &eds); err != nil {
			return nil, errors.New("the EntitiesDescriptor does not parse")
		}
		for i, e := range eds.EntityDescriptors {
			if len(e.IDPSSODescriptors) > 0 {
				return &eds.EntityDescriptors[i], nil
			}
		}
		return nil, errors.New("no EntityDescriptor with an IDPSSODescriptor")
	}
	return nil, fmt.Errorf("the root element is <%s>, not an EntityDescriptor or EntitiesDescriptor in %s", clip(root.XMLName.Local), ns)
}

// Fingerprint is the SHA-256 of a DER certificate, as colon-separated hex.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

func parseCert(pemText string) (*x509.Certificate, error) {
	// The store checked it at save time; expiry does not matter for matching.
	_, cert, err := tenant.PEMCertificate("idpX509Cert", pemText, time.Time{})
	return cert, err
}

func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// fetch GETs u through the egress client and requires a 200.
func (c *Checker) fetch(ctx context.Context, what, u string) ([]byte, *Problem) {
	body, status, err := c.Egress.Get(ctx, u)
	if err != nil {
		return nil, problemf("%s: %s", what, describe(err))
	}
	if status != http.StatusOK {
		return nil, problemf("%s: the server answered HTTP %d, not 200", what, status)
	}
	return body, nil
}

// describe is egress.Describe that also recognizes TLS failures.
func describe(err error) string {
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &verify):
		return "the server's TLS certificate is not valid for this host or not issued by a trusted authority"
	}
	return egress.Describe(err)
}

// recorder wraps the egress transport for go-oidc, which reads bodies
// without a limit and reports failures as text: it enforces the egress size
// limit and remembers what went wrong, to describe it safely.
type recorder struct {
	base http.RoundTripper
	max  int64

	mu       sync.Mutex
	status   int
	tooLarge bool
	readErr  error
}

func (c *Checker) recordingClient() (*http.Client, *recorder) {
	r := &recorder{base: c.Egress.HTTP.Transport, max: c.Egress.MaxBytes}
	hc := *c.Egress.HTTP
	hc.Transport = r
	return &hc, r
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.status = resp.StatusCode
	r.mu.Unlock()
	resp.Body = &limitedBody{rc: resp.Body, left: r.max, r: r}
	return resp, nil
}

// describe turns an error of go-oidc into a safe problem.
func (r *recorder) describe(what string, err error, notJSON string) *Problem {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ue *url.Error
	switch {
	case errors.As(err, &ue):
		return problemf("%s: %s", what, describe(err))
	case r.tooLarge:
		return problemf("%s: %s", what, egress.Describe(egress.ErrTooLarge))
	case r.readErr != nil:
		return problemf("%s: %s", what, describe(r.readErr))
	case r.status != 0 && r.status != http.StatusOK:
		return problemf("%s: the server answered HTTP %d, not 200", what, r.status)
	case r.status == http.StatusOK:
		return problemf("%s: the document %s", what, notJSON)
	}
	return problemf("%s: %s", what, describe(err))
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
	r    *recorder
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more than allowed tells a body at the limit from a longer one.
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			b.r.mu.Lock()
			b.r.tooLarge = true
			b.r.mu.Unlock()
			return 0, egress.ErrTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if err != nil && err != io.EOF {
		b.r.mu.Lock()
		b.r.readErr = err
		b.r.mu.Unlock()
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

func clip(s string) string {
	if r := []rune(s); len(r) > 200 {
		return string(r[:200]) + "…"
	}
	return s
}
