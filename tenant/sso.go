package tenant

import (
	"crypto/x509"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Single sign-on. A tenant has at most one identity provider, of one of
// three types. enableSso saves its configuration and turns SSO on
// (settings.ssoEnabled); disableSso turns it off and keeps the
// configuration; testSso checks the provider and records the outcome.

// SSOType is the protocol of a tenant's identity provider.
type SSOType string

// The identity provider types.
const (
	SSOOIDC    SSOType = "OIDC"     // any OpenID Connect provider, by its discovery document
	SSOSAML    SSOType = "SAML"     // a SAML 2.0 identity provider, by its metadata
	SSOEntraID SSOType = "ENTRA_ID" // Microsoft Entra ID (OpenID Connect), by its directory id
)

// SSOStatus is the health of a tenant's SSO configuration, whether or not
// SSO is currently enabled.
type SSOStatus string

// The SSO configuration states.
const (
	SSONotConfigured SSOStatus = "NOT_CONFIGURED" // nothing saved yet
	SSOConfigured    SSOStatus = "CONFIGURED"     // saved by enableSso, not tested since
	SSOActive        SSOStatus = "ACTIVE"         // the last testSso since the last change succeeded
	SSOError         SSOStatus = "ERROR"          // the last testSso since the last change failed
)

// SSOTestResult is the outcome of testSso.
type SSOTestResult string

// The test outcomes.
const (
	SSOTestSuccess SSOTestResult = "SUCCESS"
	SSOTestFailure SSOTestResult = "FAILURE"
)

// SSOLoginPath is where this deployment serves SSO logins below its
// PUBLIC_URL: loginUrl is PUBLIC_URL + SSOLoginPath + "/<tenant id>".
const SSOLoginPath = "/auth/sso"

// DefaultPublicURL is PUBLIC_URL's default under `make run` (port 8080).
const DefaultPublicURL = "http://localhost:8080"

// SSODisabledMessage is what disableSso answers, as the reference does.
const SSODisabledMessage = "SSO disabled. Users can log in with email/password again."

// Limits of the SSO inputs.
const (
	MaxSSOURLLength      = 2048
	MaxSSOClientIDLength = 255
	MaxSSOSecretLength   = 1024
	MaxSSOEntityIDLength = 1024
	MaxSSOCertLength     = 16 << 10  // one PEM certificate
	MaxSSOMetadataLength = 256 << 10 // SAML metadata given inline
	// MinSSOSecretForHint is the shortest client secret whose last four
	// characters are shown as a hint: shorter ones would give away too much.
	MinSSOSecretForHint = 16
)

// OIDCWellKnown is the path of an OpenID Connect discovery document below
// its issuer.
const OIDCWellKnown = "/.well-known/openid-configuration"

// SSOConfig is a tenant's SSO configuration as the API shows it: never the
// client secret, at most its hint. A tenant without one reads as
// {Enabled: false, Status: NOT_CONFIGURED, Version: 0}.
type SSOConfig struct {
	TenantID                string         `db:"tenant_id"`
	Enabled                 bool           `db:"enabled"`
	Type                    *SSOType       `db:"type"`
	Status                  SSOStatus      `db:"status"`
	ClientID                *string        `db:"client_id"`
	ClientSecretHint        *string        `db:"client_secret_hint"`
	DiscoveryURL            *string        `db:"discovery_url"`
	RedirectURI             *string        `db:"redirect_uri"`
	EntityID                *string        `db:"entity_id"`
	IdpMetadataURL          *string        `db:"idp_metadata_url"`
	DirectoryTenantID       *string        `db:"directory_tenant_id"`
	EntraCloud              *EntraCloud    `db:"entra_cloud"`
	DefaultRole             Role           `db:"default_role"`
	Enforced                bool           `db:"enforced"`
	IdpCertificateExpiresAt *time.Time     `db:"idp_cert_expires_at"`
	SpCertificateExpiresAt  *time.Time     `db:"sp_cert_expires_at"`
	LastTestAt              *time.Time     `db:"last_test_at"`
	LastTestResult          *SSOTestResult `db:"last_test_result"`
	LastTestError           *string        `db:"last_test_error"`
	Version                 int            `db:"version"`
	UpdatedAt               *time.Time     `db:"updated_at"`
	UpdatedBy               *string        `db:"updated_by"`
}

// LoginURL is where the tenant's users start an SSO login below base (an
// absolute URL without a trailing slash), or nil when nothing is
// configured.
func (c *SSOConfig) LoginURL(base string) *string {
	if c.Type == nil {
		return nil
	}
	u := base + "/" + c.TenantID
	return &u
}

// CallbackURL is where the identity provider sends the tenant's users back
// below publicURL (PUBLIC_URL): the OIDC redirect URI, shared by every
// tenant, or the SAML Assertion Consumer Service, per tenant. Nil when
// nothing is configured.
func (c *SSOConfig) CallbackURL(publicURL string) *string {
	if c.Type == nil {
		return nil
	}
	u := publicURL + SSOLoginPath + "/callback"
	if *c.Type == SSOSAML {
		u = publicURL + "/auth/saml/" + c.TenantID + "/acs"
	}
	return &u
}

// EntraCloud is a Microsoft cloud, by the login host of its Entra ID.
type EntraCloud string

// The Microsoft clouds.
const (
	EntraGlobal       EntraCloud = "GLOBAL"
	EntraUSGovernment EntraCloud = "US_GOVERNMENT"
	EntraChina        EntraCloud = "CHINA"
)

// LoginHost is the cloud's Entra ID authority (scheme and host).
func (c EntraCloud) LoginHost() string {
	switch c {
	case EntraUSGovernment:
		return "https://login.microsoftonline.us"
	case EntraChina:
		return "https://login.chinacloudapi.cn"
	}
	return "https://login.microsoftonline.com"
}

// MarshalGQL encodes the GraphQL enum EntraCloud.
func (c EntraCloud) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(c))) }

// UnmarshalGQL decodes the GraphQL enum EntraCloud.
func (c *EntraCloud) UnmarshalGQL(v any) error {
	str, _ := v.(string)
	switch EntraCloud(str) {
	case EntraGlobal, EntraUSGovernment, EntraChina:
		*c = EntraCloud(str)
		return nil
	}
	return Invalid("cloud", "%q is not an Entra cloud: GLOBAL, US_GOVERNMENT or CHINA", str)
}

// ParseSSOLoginBase checks a deployment's SSO login base URL: absolute,
// https (http only for a loopback host, in development), no query or
// fragment; it returns it without a trailing slash.
func ParseSSOLoginBase(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil ||
		(u.Scheme != "https" && (u.Scheme != "http" || !isLoopbackHost(u.Hostname()))) {
		return "", fmt.Errorf("must be an absolute https URL without query or fragment, such as https://api.example.com/auth/sso (http only for localhost), got %q", raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}

// SSOProvider is what checking an identity provider needs of a saved
// configuration (no secrets: discovery and metadata are public).
type SSOProvider struct {
	TenantID          string     `db:"tenant_id"`
	Type              SSOType    `db:"type"`
	DiscoveryURL      string     `db:"discovery_url"`
	IdpMetadataURL    string     `db:"idp_metadata_url"`
	IdpMetadataXML    string     `db:"idp_metadata_xml"`
	IdpX509Cert       string     `db:"idp_x509_cert"`
	DirectoryTenantID string     `db:"directory_tenant_id"`
	EntraCloud        EntraCloud `db:"entra_cloud"`
	Version           int        `db:"version"`
}

// OIDCIssuer is the issuer a discovery URL names: the URL without
// /.well-known/openid-configuration, or the URL itself when it is an issuer.
func OIDCIssuer(discoveryURL string) string {
	if s, ok := strings.CutSuffix(discoveryURL, OIDCWellKnown); ok {
		return s
	}
	return discoveryURL
}

// OIDCProvider is the input of a generic OpenID Connect provider.
type OIDCProvider struct {
	ClientID     string
	ClientSecret *string
	DiscoveryURL string
	RedirectURI  string
}

// SAMLProvider is the input of a SAML 2.0 identity provider. Exactly one of
// IdpMetadataURL and IdpMetadataXML is given.
type SAMLProvider struct {
	EntityID       string
	IdpMetadataURL *string
	IdpMetadataXML *string
	SpX509Cert     string
	IdpX509Cert    string
}

// EntraIDProvider is the input of a Microsoft Entra ID directory.
type EntraIDProvider struct {
	DirectoryTenantID string
	Cloud             *EntraCloud
	ClientID          string
	ClientSecret      *string
}

// SSOProviderInput is one identity provider: exactly one member is set.
type SSOProviderInput struct {
	OIDC    *OIDCProvider
	SAML    *SAMLProvider
	EntraID *EntraIDProvider
}

// EnableSSO is the input of enableSso. A nil Provider re-enables the kept
// configuration.
type EnableSSO struct {
	Provider        *SSOProviderInput
	ExpectedVersion *int
	ValidateOnly    bool
	// DefaultRole and Enforced change the login options; nil keeps them.
	DefaultRole *Role
	Enforced    *bool

	// Setup is the validated configuration to save, set by Normalize; nil
	// when no provider was given.
	Setup *SSOSetup
}

// SSOSetup is a validated configuration, ready to store. ClientSecret is
// plaintext (the store seals it); "" keeps the stored secret, which the
// store allows only for the same type. SecretField names the input field
// of the secret, for the store's error.
type SSOSetup struct {
	Type              SSOType
	ClientID          *string
	ClientSecret      string
	SecretField       string
	DiscoveryURL      *string
	RedirectURI       *string
	EntityID          *string
	IdpMetadataURL    *string
	IdpMetadataXML    *string
	SpX509Cert        *string
	IdpX509Cert       *string
	DirectoryTenantID *string
	EntraCloud        *EntraCloud
	IdpCertExpiresAt  *time.Time
	SpCertExpiresAt   *time.Time
}

// NeedsSecret reports whether the type authenticates with a client secret.
func (s *SSOSetup) NeedsSecret() bool { return s.Type == SSOOIDC || s.Type == SSOEntraID }

// SecretHint is what the API shows of a client secret: "…" and its last four
// characters, or nil for a secret shorter than MinSSOSecretForHint.
func SecretHint(secret string) *string {
	r := []rune(secret)
	if len(r) < MinSSOSecretForHint {
		return nil
	}
	h := "…" + string(r[len(r)-4:])
	return &h
}

// Normalize checks the input at now (certificates must not have expired)
// and sets Setup. A provider must have exactly one member: the schema's
// @oneOf checks literals, this checks variables too.
func (e *EnableSSO) Normalize(now time.Time) error {
	p := e.Provider
	if p == nil {
		return nil
	}
	n := 0
	for _, set := range []bool{p.OIDC != nil, p.SAML != nil, p.EntraID != nil} {
		if set {
			n++
		}
	}
	switch {
	case n != 1:
		return Invalid("provider", "provider takes exactly one of oidc, saml or entraId, got %d", n)
	case p.OIDC != nil:
		return e.normalizeOIDC()
	case p.SAML != nil:
		return e.normalizeSAML(now)
	}
	return e.normalizeEntraID()
}

func (e *EnableSSO) normalizeOIDC() error {
	const f = "provider.oidc."
	p := e.Provider.OIDC
	id, err := ssoClientID(f+"clientId", p.ClientID)
	if err != nil {
		return err
	}
	secret, err := ssoSecret(f+"clientSecret", p.ClientSecret)
	if err != nil {
		return err
	}
	disc, err := httpsURL(f+"discoveryUrl", p.DiscoveryURL)
	if err != nil {
		return err
	}
	redirect, err := httpsURL(f+"redirectUri", p.RedirectURI)
	if err != nil {
		return err
	}
	e.Setup = &SSOSetup{Type: SSOOIDC, ClientID: &id, ClientSecret: secret, SecretField: f + "clientSecret", DiscoveryURL: &disc, RedirectURI: &redirect}
	return nil
}

func (e *EnableSSO) normalizeSAML(now time.Time) error {
	const f = "provider.saml."
	p := e.Provider.SAML
	entity, err := ssoEntityID(f+"entityId", p.EntityID)
	if err != nil {
		return err
	}
	s := &SSOSetup{Type: SSOSAML, EntityID: &entity}
	switch {
	case p.IdpMetadataURL != nil && p.IdpMetadataXML != nil:
		return Invalid("provider.saml", "give exactly one of provider.saml.idpMetadataUrl and provider.saml.idpMetadataXml, not both")
	case p.IdpMetadataURL != nil:
		u, err := httpsURL(f+"idpMetadataUrl", *p.IdpMetadataURL)
		if err != nil {
			return err
		}
		s.IdpMetadataURL = &u
	case p.IdpMetadataXML != nil:
		x, err := samlMetadataXML(f+"idpMetadataXml", *p.IdpMetadataXML)
		if err != nil {
			return err
		}
		s.IdpMetadataXML = &x
	default:
		return Invalid("provider.saml", "give exactly one of provider.saml.idpMetadataUrl (an https URL) and provider.saml.idpMetadataXml (the metadata document itself)")
	}
	sp, spCert, err := PEMCertificate(f+"spX509Cert", p.SpX509Cert, now)
	if err != nil {
		return err
	}
	idp, idpCert, err := PEMCertificate(f+"idpX509Cert", p.IdpX509Cert, now)
	if err != nil {
		return err
	}
	spExp, idpExp := spCert.NotAfter.UTC(), idpCert.NotAfter.UTC()
	s.SpX509Cert, s.IdpX509Cert, s.SpCertExpiresAt, s.IdpCertExpiresAt = &sp, &idp, &spExp, &idpExp
	e.Setup = s
	return nil
}

func (e *EnableSSO) normalizeEntraID() error {
	const f = "provider.entraId."
	p := e.Provider.EntraID
	dir := strings.ToLower(strings.TrimSpace(p.DirectoryTenantID))
	if !ValidID(dir) && !validDomainName(dir) {
		return Invalid(f+"directoryTenantId", "%sdirectoryTenantId must be the directory (tenant) id of your Microsoft Entra tenant, a UUID such as 00000000-0000-0000-0000-000000000001, or one of its verified domains such as contoso.onmicrosoft.com, got %q", f, p.DirectoryTenantID)
	}
	cloud := EntraGlobal
	if p.Cloud != nil {
		cloud = *p.Cloud
	}
	id, err := ssoClientID(f+"clientId", p.ClientID)
	if err != nil {
		return err
	}
	secret, err := ssoSecret(f+"clientSecret", p.ClientSecret)
	if err != nil {
		return err
	}
	e.Setup = &SSOSetup{Type: SSOEntraID, ClientID: &id, ClientSecret: secret, SecretField: f + "clientSecret", DirectoryTenantID: &dir, EntraCloud: &cloud}
	return nil
}

// validDomainName reports whether s is a DNS name of at least two labels
// (letters, digits, hyphens), as Entra's verified domains are.
func validDomainName(s string) bool {
	if len(s) > 253 || !strings.Contains(s, ".") {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
				return false
			}
		}
	}
	return true
}

// CheckSSODefaultRole refuses OWNER and what is not a role, for the
// defaultRole input.
func CheckSSODefaultRole(r Role) error {
	if !r.Valid() {
		return Invalid("defaultRole", "%q is not a role", string(r))
	}
	if r == RoleOwner {
		return Invalid("defaultRole", "defaultRole cannot be OWNER: the tenant has exactly one owner; choose ADMIN, BILLING, DEVELOPER or VIEWER")
	}
	return nil
}

func ssoClientID(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > MaxSSOClientIDLength {
		return "", Invalid(field, "%s is required: the client (application) id your identity provider issued, 1 to %d characters", field, MaxSSOClientIDLength)
	}
	return v, nil
}

// ssoSecret trims a given secret; nil (not given) becomes "", which the
// store accepts only when it keeps a secret of the same type.
func ssoSecret(field string, v *string) (string, error) {
	if v == nil {
		return "", nil
	}
	s := strings.TrimSpace(*v)
	if s == "" || len(s) > MaxSSOSecretLength {
		// Never echo a secret, not even a malformed one.
		return "", Invalid(field, "%s must be the client secret your identity provider issued, 1 to %d characters (or leave it out to keep the stored one)", field, MaxSSOSecretLength)
	}
	return s, nil
}

// httpsURL checks v is an absolute https URL with a host and without
// credentials or fragment, and returns it trimmed.
func httpsURL(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	bad := func(why string) error {
		return Invalid(field, "%s must be an absolute https:// URL%s, got %q", field, why, clip(v))
	}
	if len(v) > MaxSSOURLLength {
		return "", Invalid(field, "%s must be at most %d characters, got %d", field, MaxSSOURLLength, len(v))
	}
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return "", bad("")
	case !strings.EqualFold(u.Scheme, "https"):
		return "", bad(" (http and other schemes are refused)")
	case u.User != nil:
		return "", bad(" without user name or password")
	case u.Fragment != "" || strings.Contains(v, "#"):
		return "", bad(" without a #fragment")
	case u.Port() != "" && !validPort(u.Port()):
		return "", bad(" with a port between 1 and 65535")
	}
	return v, nil
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// ssoEntityID checks a SAML entity id: a URI; when it is a URL, an https one.
func ssoEntityID(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > MaxSSOEntityIDLength {
		return "", Invalid(field, "%s is required: the service provider's entity id, a URI of 1 to %d characters such as https://api.example.com/metadata.xml", field, MaxSSOEntityIDLength)
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || strings.ContainsAny(v, " \t\r\n") {
		return "", Invalid(field, "%s must be an absolute URI such as https://api.example.com/metadata.xml or urn:example:sp, got %q", field, clip(v))
	}
	if strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https") || u.Host != "" {
		return httpsURL(field, v)
	}
	return v, nil
}

// samlMetadataXML checks v is a well-formed XML document whose root is a
// SAML 2.0 EntityDescriptor or EntitiesDescriptor. testSso checks the rest.
func samlMetadataXML(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if len(v) > MaxSSOMetadataLength {
		return "", Invalid(field, "%s must be at most %d KiB, got %d bytes", field, MaxSSOMetadataLength>>10, len(v))
	}
	const ns = "urn:oasis:names:tc:SAML:2.0:metadata"
	d := xml.NewDecoder(strings.NewReader(v))
	var root *xml.StartElement
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", Invalid(field, "%s is not well-formed XML: %s", field, strings.TrimPrefix(err.Error(), "XML syntax error "))
		}
		if se, ok := tok.(xml.StartElement); ok && root == nil {
			root = &se
		}
	}
	if root == nil || root.Name.Space != ns || (root.Name.Local != "EntityDescriptor" && root.Name.Local != "EntitiesDescriptor") {
		return "", Invalid(field, "%s must be SAML 2.0 metadata: an <EntityDescriptor> or <EntitiesDescriptor> in the namespace %s", field, ns)
	}
	return v, nil
}

// PEMCertificate parses v as one PEM "CERTIFICATE" block that has not
// expired at now, and returns it trimmed with the parsed certificate.
func PEMCertificate(field, v string, now time.Time) (string, *x509.Certificate, error) {
	v = strings.TrimSpace(v)
	bad := func(why string) (string, *x509.Certificate, error) {
		return "", nil, Invalid(field, "%s must be an X.509 certificate in PEM form (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----): %s", field, why)
	}
	if v == "" {
		return bad("it is empty")
	}
	if len(v) > MaxSSOCertLength {
		return bad(fmt.Sprintf("at most %d KiB", MaxSSOCertLength>>10))
	}
	block, rest := pem.Decode([]byte(v))
	switch {
	case block == nil:
		return bad("no PEM block found")
	case block.Type != "CERTIFICATE":
		// A private key pasted by mistake must not be stored: refuse it by type.
		return bad(fmt.Sprintf("the PEM block is a %q, not a CERTIFICATE", block.Type))
	case len(strings.TrimSpace(string(rest))) > 0:
		return bad("give exactly one certificate, with nothing after it")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return bad("its content does not parse as a certificate")
	}
	if !now.Before(cert.NotAfter) {
		return "", nil, Invalid(field, "%s expired on %s (notAfter %s); upload a current certificate",
			field, cert.NotAfter.UTC().Format(time.DateOnly), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return v, cert, nil
}

// clip shortens a value echoed in an error message.
func clip(s string) string {
	if r := []rune(s); len(r) > 200 {
		return string(r[:200]) + "…"
	}
	return s
}

// MarshalGQL encodes the GraphQL enum SsoType.
func (t SSOType) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(t))) }

// UnmarshalGQL decodes the GraphQL enum SsoType.
func (t *SSOType) UnmarshalGQL(v any) error {
	str, _ := v.(string)
	switch SSOType(str) {
	case SSOOIDC, SSOSAML, SSOEntraID:
		*t = SSOType(str)
		return nil
	}
	return Invalid("type", "type must be OIDC, SAML or ENTRA_ID, got %q", str)
}

// MarshalGQL encodes the GraphQL enum SsoStatus.
func (s SSOStatus) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL decodes the GraphQL enum SsoStatus.
func (s *SSOStatus) UnmarshalGQL(v any) error {
	str, _ := v.(string)
	switch SSOStatus(str) {
	case SSONotConfigured, SSOConfigured, SSOActive, SSOError:
		*s = SSOStatus(str)
		return nil
	}
	return Invalid("status", "status must be NOT_CONFIGURED, CONFIGURED, ACTIVE or ERROR, got %q", str)
}

// MarshalGQL encodes the GraphQL enum SsoTestResult.
func (r SSOTestResult) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(r))) }

// UnmarshalGQL decodes the GraphQL enum SsoTestResult.
func (r *SSOTestResult) UnmarshalGQL(v any) error {
	str, _ := v.(string)
	switch SSOTestResult(str) {
	case SSOTestSuccess, SSOTestFailure:
		*r = SSOTestResult(str)
		return nil
	}
	return Invalid("result", "result must be SUCCESS or FAILURE, got %q", str)
}
