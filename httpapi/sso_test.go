package httpapi_test

import (
	"bytes"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"tenantapi/httpapi"
	"tenantapi/keyring"
	"tenantapi/sso/ssotest"
	"tenantapi/tenant"
)

// This file covers single sign-on: enableSso, disableSso and testSso with
// every identity provider type against a real identity provider served on
// loopback (sso/ssotest), the bad-input table, permissions, isolation,
// validate-only, and that client secrets never appear in a response or in
// clear in the database.

// ssoEnv is a test server whose egress client trusts the loopback IdP, with
// a raw connection to its database to inspect what is stored, and a record
// of every response body.
type ssoEnv struct {
	*env
	idp  *ssotest.IdP
	raw  *sql.DB
	ring *keyring.Keyring

	mu     sync.Mutex
	bodies [][]byte
}

func newSSOEnv(t *testing.T) *ssoEnv { return newSSOEnvWith(t, nil) }

// newSSOEnvWith is newSSOEnv with the server configuration adjusted by edit.
func newSSOEnvWith(t *testing.T, edit func(*httpapi.Config)) *ssoEnv {
	t.Helper()
	idp := ssotest.New(t)
	e := buildEnv(t, envOptions{config: func(c *httpapi.Config) {
		c.Egress = idp.Egress(true)
		if edit != nil {
			edit(c)
		}
	}})
	return &ssoEnv{env: e, idp: idp, raw: e.raw().DB, ring: e.store.Sealer.(*keyring.Keyring)}
}

// withT returns s reporting to t, sharing the server and the record.
func (s *ssoEnv) withT(t *testing.T) *ssoEnv {
	return &ssoEnv{env: s.env.withT(t), idp: s.idp, raw: s.raw, ring: s.ring}
}

// ask sends an operation, checks it leaks no driver text and records the
// response body for the secret scan.
func (s *ssoEnv) ask(token, query string, vars map[string]any) *result {
	s.t.Helper()
	r := s.env.ask(token, query, vars)
	s.mu.Lock()
	s.bodies = append(s.bodies, r.Raw)
	s.mu.Unlock()
	return r
}

// must is ask that fails the test on any error.
func (s *ssoEnv) must(token, query string, vars map[string]any) *result {
	s.t.Helper()
	r := s.ask(token, query, vars)
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		s.t.Fatalf("unexpected errors: %d %s", r.Status, r.Raw)
	}
	return r
}

const ssoFields = `enabled type status clientId clientSecretHint discoveryUrl redirectUri entityId idpMetadataUrl
	directoryTenantId loginUrl idpCertificateExpiresAt spCertificateExpiresAt lastTestAt lastTestResult lastTestError
	version updatedAt updatedBy`

var (
	qEnableSSO  = `mutation($in: EnableSsoInput!) { enableSso(input: $in) { sso { ` + ssoFields + ` } } }`
	qDisableSSO = `mutation($in: DisableSsoInput!) { disableSso(input: $in) { message sso { ` + ssoFields + ` } } }`
	qTestSSO    = `mutation($in: TestSsoInput!) { testSso(input: $in) { result error sso { ` + ssoFields + ` } } }`
	qTenantSSO  = `query($id: ID!) { tenant(id: $id) { id settings { ssoEnabled version } sso { ` + ssoFields + ` } } }`
)

// Secrets long enough to have a hint, distinct per test.
func ssoSecret(label string) string { return "sEcReT-" + label + "-" + randomHex(16) }

const ssoRedirectURI = "https://app.example.com/auth/callback"

func (s *ssoEnv) oidc(secret string) map[string]any {
	return map[string]any{"oidc": map[string]any{"clientId": "acme-portal", "clientSecret": secret,
		"discoveryUrl": s.idp.DiscoveryURL(), "redirectUri": ssoRedirectURI}}
}

func (s *ssoEnv) samlURL(t *testing.T) map[string]any {
	spPEM, _ := ssotest.Cert(t, "ACME SP", time.Now().Add(-time.Hour), time.Now().Add(90*24*time.Hour))
	return map[string]any{"saml": map[string]any{"entityId": "https://api.example.com/metadata.xml",
		"idpMetadataUrl": s.idp.MetadataURL(), "spX509Cert": spPEM, "idpX509Cert": s.idp.SigningPEM}}
}

func ssoEntra(dir, secret string) map[string]any {
	return map[string]any{"entraId": map[string]any{"directoryTenantId": dir, "clientId": "0b1c2d3e-app", "clientSecret": secret}}
}

func ssoIn(fields map[string]any) map[string]any { return map[string]any{"in": fields} }

// ssoOf reads, as the admin, a tenant's sso and settings.
func (s *ssoEnv) ssoOf(tenantID string) (sso map[string]any, settings map[string]any) {
	s.t.Helper()
	r := s.must(testAdminSecret, qTenantSSO, map[string]any{"id": tenantID})
	sso, _ = dataAt(s.t, r, "tenant.sso").(map[string]any)
	settings, _ = dataAt(s.t, r, "tenant.settings").(map[string]any)
	return sso, settings
}

// ssoRows counts the stored SSO configurations of a tenant.
func (s *ssoEnv) ssoRows(tenantID string) int {
	s.t.Helper()
	var n int
	if err := s.raw.QueryRow(`SELECT count(*) FROM sso_configs WHERE tenant_id = $1`, tenantID).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

// wantFields checks the values at paths of m.
func ssoWant(t *testing.T, m map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if got := m[k]; fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
}

// wantNotConfigured checks a tenant has no saved SSO and SSO is off.
func (s *ssoEnv) wantNotConfigured(t *testing.T, tenantID string) {
	t.Helper()
	sso, settings := s.ssoOf(tenantID)
	ssoWant(t, sso, map[string]any{"enabled": false, "status": "NOT_CONFIGURED", "type": nil, "version": 0.0,
		"loginUrl": nil, "clientId": nil, "updatedAt": nil})
	ssoWant(t, settings, map[string]any{"ssoEnabled": false, "version": 1.0})
	if n := s.ssoRows(tenantID); n != 0 {
		t.Errorf("%d sso_configs rows saved", n)
	}
}

func TestSSONotConfiguredReadsAsDefault(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	id := s.createTenant("Plain Co", randomDomain())
	s.wantNotConfigured(t, id)
	key := s.createKey(id, "TENANT_READ", "SSO_READ")
	r := s.must(key, `{ me { sso { enabled status type lastTestResult } } }`, nil)
	if got := string(r.Data); got != `{"me":{"sso":{"enabled":false,"status":"NOT_CONFIGURED","type":null,"lastTestResult":null}}}` {
		t.Fatalf("me.sso = %s", got)
	}
}

// TestSSOOIDC enables OIDC against the loopback IdP, tests it, and reads it.
func TestSSOOIDC(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	id := s.createTenant("OIDC Co", randomDomain())
	key, keyID := s.createKeyWithID(id, "TENANT_READ", "SSO_READ", "SSO_UPDATE")
	secret := ssoSecret("oidc")

	r := s.must(key, qEnableSSO, ssoIn(map[string]any{"provider": s.oidc(secret), "expectedVersion": 0}))
	sso := dataAt(t, r, "enableSso.sso").(map[string]any)
	ssoWant(t, sso, map[string]any{"enabled": true, "type": "OIDC", "status": "CONFIGURED", "clientId": "acme-portal",
		"clientSecretHint": "…" + secret[len(secret)-4:], "discoveryUrl": s.idp.DiscoveryURL(), "redirectUri": ssoRedirectURI,
		"loginUrl": s.srv.URL + "/auth/sso/" + id, "entityId": nil, "directoryTenantId": nil, "lastTestAt": nil,
		"lastTestResult": nil, "version": 1.0, "updatedBy": "key:" + keyID})
	if _, settings := s.ssoOf(id); settings["ssoEnabled"] != true || settings["version"] != 2.0 {
		t.Errorf("settings after enableSso = %v, want ssoEnabled true at version 2", settings)
	}

	r = s.must(key, qTestSSO, ssoIn(map[string]any{}))
	ssoWant(t, dataAt(t, r, "testSso").(map[string]any), map[string]any{"result": "SUCCESS", "error": nil})
	sso = dataAt(t, r, "testSso.sso").(map[string]any)
	ssoWant(t, sso, map[string]any{"status": "ACTIVE", "lastTestResult": "SUCCESS", "lastTestError": nil, "version": 1.0})
	if at, _ := sso["lastTestAt"].(string); at == "" {
		t.Errorf("lastTestAt not set: %v", sso)
	}

	r = s.must(key, `{ me { sso { status lastTestResult clientId } } }`, nil)
	if got := string(r.Data); got != `{"me":{"sso":{"status":"ACTIVE","lastTestResult":"SUCCESS","clientId":"acme-portal"}}}` {
		t.Errorf("me.sso = %s", got)
	}
	s.assertNoSecretInResponses(t, secret)
}

// TestSSOTestFailures checks testSso reports and records each way an
// identity provider can be wrong; a failure is data, not an error.
func TestSSOTestFailures(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	otherPEM, _ := ssotest.Cert(t, "Not the IdP", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	impostor := ssotest.New(t) // its document names an issuer other than its URL
	impostor.SetIssuer("https://impostor.example")
	spPEM, _ := ssotest.Cert(t, "SP", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	dir := "3f0e8a51-5b0d-4c44-9f5e-0c1d2e3f4a5b"
	tests := []struct {
		name     string
		provider map[string]any
		want     []string // substrings of the error
	}{
		{"ErrIssuerMismatch", map[string]any{"oidc": map[string]any{"clientId": "c", "clientSecret": ssoSecret("x"),
			"discoveryUrl": impostor.DiscoveryURL(), "redirectUri": ssoRedirectURI}},
			[]string{`names the issuer "https://impostor.example"`, `must be "` + impostor.Server.URL + `"`}},
		{"ErrUnreachable", map[string]any{"oidc": map[string]any{"clientId": "c", "clientSecret": ssoSecret("x"),
			"discoveryUrl": "https://127.0.0.1:1/.well-known/openid-configuration", "redirectUri": ssoRedirectURI}},
			[]string{"https://127.0.0.1:1/.well-known/openid-configuration", "the connection failed"}},
		{"ErrSAMLCertificateMismatch", map[string]any{"saml": map[string]any{"entityId": "urn:acme:sp",
			"idpMetadataUrl": s.idp.MetadataURL(), "spX509Cert": spPEM, "idpX509Cert": otherPEM}},
			[]string{"does not match idpX509Cert", s.idp.MetadataURL()}},
		{"ErrEntraUnreachable", ssoEntra(dir, ssoSecret("x")), // Microsoft's host is not trusted by the test client, or not reachable
			[]string{"Entra ID discovery document of directory " + dir, "https://login.microsoftonline.com/" + dir + "/v2.0/.well-known/openid-configuration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := s.withT(t)
			id := s.createTenant("Failing Co", randomDomain())
			s.must(testAdminSecret, qEnableSSO, ssoIn(map[string]any{"tenantId": id, "provider": tt.provider}))
			r := s.must(testAdminSecret, qTestSSO, ssoIn(map[string]any{"tenantId": id}))
			if got := dataAt(t, r, "testSso.result"); got != "FAILURE" {
				t.Fatalf("result = %v, want FAILURE: %s", got, r.Raw)
			}
			msg, _ := dataAt(t, r, "testSso.error").(string)
			t.Logf("testSso error: %s", msg)
			for _, p := range tt.want {
				if !strings.Contains(msg, p) {
					t.Errorf("error %q does not contain %q", msg, p)
				}
			}
			sso, _ := s.ssoOf(id)
			ssoWant(t, sso, map[string]any{"status": "ERROR", "lastTestResult": "FAILURE", "lastTestError": msg, "enabled": true})
		})
	}
}

// TestSSOSAMLAndEntra enables SAML (metadata by URL and inline) and Entra ID.
func TestSSOSAMLAndEntra(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	spPEM, spCert := ssotest.Cert(t, "ACME SP", time.Now().Add(-time.Hour), time.Now().Add(90*24*time.Hour))
	t.Run("SAMLMetadataURL", func(t *testing.T) {
		s := s.withT(t)
		id := s.createTenant("SAML Co", randomDomain())
		r := s.must(testAdminSecret, qEnableSSO, ssoIn(map[string]any{"tenantId": id, "provider": map[string]any{"saml": map[string]any{
			"entityId": "https://api.example.com/metadata.xml", "idpMetadataUrl": s.idp.MetadataURL(), "spX509Cert": spPEM, "idpX509Cert": s.idp.SigningPEM}}}))
		ssoWant(t, dataAt(t, r, "enableSso.sso").(map[string]any), map[string]any{"type": "SAML", "status": "CONFIGURED",
			"entityId": "https://api.example.com/metadata.xml", "idpMetadataUrl": s.idp.MetadataURL(), "clientId": nil,
			"clientSecretHint": nil, "spCertificateExpiresAt": spCert.NotAfter.UTC().Format(time.RFC3339)})
		r = s.must(testAdminSecret, qTestSSO, ssoIn(map[string]any{"tenantId": id}))
		ssoWant(t, dataAt(t, r, "testSso").(map[string]any), map[string]any{"result": "SUCCESS", "error": nil})
	})
	t.Run("SAMLMetadataXML", func(t *testing.T) {
		s := s.withT(t)
		id := s.createTenant("SAML XML Co", randomDomain())
		r := s.must(testAdminSecret, qEnableSSO, ssoIn(map[string]any{"tenantId": id, "provider": map[string]any{"saml": map[string]any{
			"entityId": "urn:acme:sp", "idpMetadataXml": s.idp.MetadataXML(t), "spX509Cert": spPEM, "idpX509Cert": s.idp.SigningPEM}}}))
		ssoWant(t, dataAt(t, r, "enableSso.sso").(map[string]any), map[string]any{"entityId": "urn:acme:sp", "idpMetadataUrl": nil})
		r = s.must(testAdminSecret, qTestSSO, ssoIn(map[string]any{"tenantId": id}))
		ssoWant(t, dataAt(t, r, "testSso.sso").(map[string]any), map[string]any{"status": "ACTIVE", "lastTestResult": "SUCCESS"})
	})
	t.Run("EntraID", func(t *testing.T) {
		s := s.withT(t)
		id := s.createTenant("Entra Co", randomDomain())
		secret := ssoSecret("entra")
		r := s.must(testAdminSecret, qEnableSSO, ssoIn(map[string]any{"tenantId": id, "provider": ssoEntra("3F0E8A51-5B0D-4C44-9F5E-0C1D2E3F4A5B", secret)}))
		ssoWant(t, dataAt(t, r, "enableSso.sso").(map[string]any), map[string]any{"type": "ENTRA_ID",
			"directoryTenantId": "3f0e8a51-5b0d-4c44-9f5e-0c1d2e3f4a5b", "clientId": "0b1c2d3e-app", "clientSecretHint": "…" + secret[len(secret)-4:]})
		s.assertNoSecretInResponses(t, secret)
	})
}

// TestSSOBadInput is the bad-input table: each case answers BAD_USER_INPUT
// naming the field, and saves nothing.
func TestSSOBadInput(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	now := time.Now()
	goodPEM, _ := ssotest.Cert(t, "good", now.Add(-time.Hour), now.Add(24*time.Hour))
	expiredPEM, expired := ssotest.Cert(t, "expired", now.Add(-72*time.Hour), now.Add(-24*time.Hour))
	expiredOn := expired.NotAfter.UTC().Format(time.DateOnly)
	keyPEM := "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBaDq0tZ6+2gkbXAJtfAL0dUqCZG7RPVzvw1clDxr8SH\n-----END PRIVATE KEY-----\n"
	metadata := s.idp.MetadataXML(t)

	oidc := func(change map[string]any) map[string]any {
		o := map[string]any{"clientId": "acme", "clientSecret": ssoSecret("bad"), "discoveryUrl": "https://idp.example.com/.well-known/openid-configuration", "redirectUri": ssoRedirectURI}
		for k, v := range change {
			if v == nil {
				delete(o, k)
			} else {
				o[k] = v
			}
		}
		return map[string]any{"oidc": o}
	}
	saml := func(change map[string]any) map[string]any {
		o := map[string]any{"entityId": "https://api.example.com/metadata.xml", "idpMetadataUrl": "https://idp.example.com/metadata", "spX509Cert": goodPEM, "idpX509Cert": goodPEM}
		for k, v := range change {
			if v == nil {
				delete(o, k)
			} else {
				o[k] = v
			}
		}
		return map[string]any{"saml": o}
	}
	entraID := func(change map[string]any) map[string]any {
		o := map[string]any{"directoryTenantId": "3f0e8a51-5b0d-4c44-9f5e-0c1d2e3f4a5b", "clientId": "app", "clientSecret": ssoSecret("bad")}
		for k, v := range change {
			if v == nil {
				delete(o, k)
			} else {
				o[k] = v
			}
		}
		return map[string]any{"entraId": o}
	}
	tests := []struct {
		name     string
		provider any // nil: left out
		field    string
		parts    []string
	}{
		{"ErrOIDCBlankClientId", oidc(map[string]any{"clientId": "  "}), "provider.oidc.clientId", []string{"clientId is required", "255"}},
		{"ErrOIDCMissingClientSecret", oidc(map[string]any{"clientSecret": nil}), "provider.oidc.clientSecret", []string{"clientSecret is required", "OIDC"}},
		{"ErrOIDCBlankClientSecret", oidc(map[string]any{"clientSecret": " "}), "provider.oidc.clientSecret", []string{"1 to 1024"}},
		{"ErrOIDCLongClientSecret", oidc(map[string]any{"clientSecret": strings.Repeat("s", 1025)}), "provider.oidc.clientSecret", []string{"1 to 1024"}},
		{"ErrOIDCHTTPDiscoveryUrl", oidc(map[string]any{"discoveryUrl": "http://idp.example.com/.well-known/openid-configuration"}), "provider.oidc.discoveryUrl", []string{"https://", "http://idp.example.com"}},
		{"ErrOIDCRelativeDiscoveryUrl", oidc(map[string]any{"discoveryUrl": "/.well-known/openid-configuration"}), "provider.oidc.discoveryUrl", []string{"absolute https:// URL"}},
		{"ErrOIDCBlankDiscoveryUrl", oidc(map[string]any{"discoveryUrl": ""}), "provider.oidc.discoveryUrl", []string{"absolute https:// URL"}},
		{"ErrOIDCDiscoveryUrlCredentials", oidc(map[string]any{"discoveryUrl": "https://user:pw@idp.example.com/"}), "provider.oidc.discoveryUrl", []string{"without user name or password"}},
		{"ErrOIDCDiscoveryUrlTooLong", oidc(map[string]any{"discoveryUrl": "https://idp.example.com/" + strings.Repeat("a", 2048)}), "provider.oidc.discoveryUrl", []string{"at most 2048"}},
		{"ErrOIDCHTTPRedirectUri", oidc(map[string]any{"redirectUri": "http://app.example.com/cb"}), "provider.oidc.redirectUri", []string{"https://", "http://app.example.com/cb"}},
		{"ErrOIDCRedirectUriFragment", oidc(map[string]any{"redirectUri": "https://app.example.com/cb#x"}), "provider.oidc.redirectUri", []string{"fragment"}},
		{"ErrSAMLBlankEntityId", saml(map[string]any{"entityId": ""}), "provider.saml.entityId", []string{"entityId is required"}},
		{"ErrSAMLHTTPEntityId", saml(map[string]any{"entityId": "http://api.example.com/metadata.xml"}), "provider.saml.entityId", []string{"https://"}},
		{"ErrSAMLEntityIdNotURI", saml(map[string]any{"entityId": "acme sp"}), "provider.saml.entityId", []string{"absolute URI"}},
		{"ErrSAMLBothMetadata", saml(map[string]any{"idpMetadataXml": metadata}), "provider.saml", []string{"exactly one of", "not both"}},
		{"ErrSAMLNoMetadata", saml(map[string]any{"idpMetadataUrl": nil}), "provider.saml", []string{"exactly one of", "idpMetadataUrl", "idpMetadataXml"}},
		{"ErrSAMLHTTPMetadataUrl", saml(map[string]any{"idpMetadataUrl": "http://idp.example.com/metadata"}), "provider.saml.idpMetadataUrl", []string{"https://"}},
		{"ErrSAMLMetadataXmlMalformed", saml(map[string]any{"idpMetadataUrl": nil, "idpMetadataXml": "<EntityDescriptor"}), "provider.saml.idpMetadataXml", []string{"not well-formed XML"}},
		{"ErrSAMLMetadataXmlNotSAML", saml(map[string]any{"idpMetadataUrl": nil, "idpMetadataXml": "<html/>"}), "provider.saml.idpMetadataXml", []string{"SAML 2.0 metadata"}},
		{"ErrSAMLBadIdpPEM", saml(map[string]any{"idpX509Cert": "not a certificate"}), "provider.saml.idpX509Cert", []string{"PEM", "no PEM block"}},
		{"ErrSAMLBadSpPEM", saml(map[string]any{"spX509Cert": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"}), "provider.saml.spX509Cert", []string{"does not parse"}},
		{"ErrSAMLPrivateKeyPEM", saml(map[string]any{"spX509Cert": keyPEM}), "provider.saml.spX509Cert", []string{`"PRIVATE KEY"`, "not a CERTIFICATE"}},
		{"ErrSAMLTwoCertificates", saml(map[string]any{"idpX509Cert": goodPEM + goodPEM}), "provider.saml.idpX509Cert", []string{"exactly one certificate"}},
		{"ErrSAMLExpiredIdpCert", saml(map[string]any{"idpX509Cert": expiredPEM}), "provider.saml.idpX509Cert", []string{"expired on " + expiredOn}},
		{"ErrSAMLExpiredSpCert", saml(map[string]any{"spX509Cert": expiredPEM}), "provider.saml.spX509Cert", []string{"expired on " + expiredOn}},
		{"ErrEntraBadDirectoryTenantId", entraID(map[string]any{"directoryTenantId": "contoso corp"}), "provider.entraId.directoryTenantId", []string{"UUID", "verified domains", "contoso corp"}},
		{"ErrEntraBlankClientId", entraID(map[string]any{"clientId": ""}), "provider.entraId.clientId", []string{"clientId is required"}},
		{"ErrEntraMissingClientSecret", entraID(map[string]any{"clientSecret": nil}), "provider.entraId.clientSecret", []string{"clientSecret is required"}},
		{"ErrProviderTwoMembers", map[string]any{"oidc": oidc(nil)["oidc"], "entraId": entraID(nil)["entraId"]}, "provider", []string{"exactly one of oidc, saml or entraId, got 2"}},
		{"ErrProviderNoMember", map[string]any{}, "provider", []string{"exactly one of oidc, saml or entraId, got 0"}},
		{"ErrProviderNullMember", map[string]any{"oidc": nil}, "provider", []string{"got 0"}},
		{"ErrNothingToReenable", nil, "provider", []string{"no SSO configuration to re-enable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := s.withT(t)
			id := s.createTenant("Bad Input Co", randomDomain())
			key := s.createKey(id, "TENANT_READ", "SSO_READ", "SSO_UPDATE")
			for _, validateOnly := range []bool{false, true} {
				fields := map[string]any{"validateOnly": validateOnly}
				if tt.provider != nil {
					fields["provider"] = tt.provider
				}
				r := s.ask(key, qEnableSSO, ssoIn(fields))
				if r.Code() != "BAD_USER_INPUT" || len(r.Errors) != 1 {
					t.Fatalf("validateOnly %v: want one BAD_USER_INPUT, got %s", validateOnly, r.Raw)
				}
				if r.Field() != tt.field {
					t.Errorf("extensions.field = %q, want %q", r.Field(), tt.field)
				}
				for _, p := range append(tt.parts, tt.field) {
					if !strings.Contains(r.Errors[0].Message, p) {
						t.Errorf("message %q does not contain %q", r.Errors[0].Message, p)
					}
				}
				if !validateOnly {
					t.Logf("%s: %s", r.Field(), r.Errors[0].Message)
				}
				if string(r.Data) != "null" {
					t.Errorf("data = %s, want null", r.Data)
				}
			}
			s.wantNotConfigured(t, id)
		})
	}
}

// TestSSOOneOf checks the schema's @oneOf: literals with two or no members
// are refused by validation; variables are refused by the resolver (see
// TestSSOBadInput), and leaving a required field out fails validation.
func TestSSOOneOf(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	id := s.createTenant("OneOf Co", randomDomain())
	var out struct {
		Type struct{ IsOneOf bool } `json:"__type"`
	}
	s.mustGQL("", `{ __type(name: "SsoProviderInput") { isOneOf } }`, nil, &out)
	if !out.Type.IsOneOf {
		t.Error("SsoProviderInput is not @oneOf in introspection")
	}
	oidc := `oidc: {clientId: "c", clientSecret: "s", discoveryUrl: "https://idp.example.com", redirectUri: "https://app.example.com/cb"}`
	entra := `entraId: {directoryTenantId: "3f0e8a51-5b0d-4c44-9f5e-0c1d2e3f4a5b", clientId: "c", clientSecret: "s"}`
	tests := []struct{ name, provider, want string }{
		{"ErrTwoMembers", `{` + oidc + `, ` + entra + `}`, `OneOf Input Object "SsoProviderInput" must specify exactly one key.`},
		{"ErrNoMember", `{}`, `OneOf Input Object "SsoProviderInput" must specify exactly one key.`},
		{"ErrNullMember", `{oidc: null}`, `Field "SsoProviderInput.oidc" must be non-null.`},
		{"ErrMissingRequiredField", `{oidc: {clientId: "c", redirectUri: "https://app.example.com/cb"}}`, `Field "OidcSsoInput.discoveryUrl" of required type "String!" was not provided.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.ask(testAdminSecret, `mutation { enableSso(input: {tenantId: "`+id+`", provider: `+tt.provider+`}) { sso { status } } }`, nil)
			if r.Code() != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(r.Errors[0].Message, tt.want) {
				t.Errorf("want GRAPHQL_VALIDATION_FAILED %q, got %d %s", tt.want, r.Status, r.Raw)
			}
		})
	}
	s.wantNotConfigured(t, id)
}

// TestSSOValidateOnly: enable and disable with validateOnly show the result
// and save nothing.
func TestSSOValidateOnly(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	id := s.createTenant("Dry Co", randomDomain())
	key := s.createKey(id, "TENANT_READ", "SSO_READ", "SSO_UPDATE")
	r := s.must(key, qEnableSSO, ssoIn(map[string]any{"provider": s.oidc(ssoSecret("dry")), "validateOnly": true}))
	ssoWant(t, dataAt(t, r, "enableSso.sso").(map[string]any), map[string]any{"enabled": true, "type": "OIDC", "status": "CONFIGURED", "version": 1.0})
	s.wantNotConfigured(t, id)

	s.must(key, qEnableSSO, ssoIn(map[string]any{"provider": s.oidc(ssoSecret("real"))}))
	before, beforeSettings := s.ssoOf(id)
	r = s.must(key, qDisableSSO, ssoIn(map[string]any{"validateOnly": true}))
	ssoWant(t, dataAt(t, r, "disableSso.sso").(map[string]any), map[string]any{"enabled": false, "version": 2.0})
	after, afterSettings := s.ssoOf(id)
	if fmt.Sprint(before) != fmt.Sprint(after) || fmt.Sprint(beforeSettings) != fmt.Sprint(afterSettings) {
		t.Errorf("validateOnly disable changed the configuration:\nbefore %v %v\nafter  %v %v", before, beforeSettings, after, afterSettings)
	}
	r = s.ask(key, qEnableSSO, ssoIn(map[string]any{"provider": s.oidc(ssoSecret("stale")), "expectedVersion": 0, "validateOnly": true}))
	if r.Code() != "CONFLICT" || r.Field() != "expectedVersion" || !strings.Contains(r.Errors[0].Message, "expected version 0, current version 1") {
		t.Errorf("stale expectedVersion with validateOnly: want CONFLICT, got %s", r.Raw)
	}
}

// TestSSODisableKeepsConfiguration: disable keeps everything but enabled,
// says users can log in with email/password, and enableSso without a
// provider (or without the secret, for the same type) brings it back.
func TestSSODisableKeepsConfiguration(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	id := s.createTenant("Toggle Co", randomDomain())
	key := s.createKey(id, "TENANT_READ", "SSO_READ", "SSO_UPDATE")
	secret := ssoSecret("toggle")
	s.must(key, qEnableSSO, ssoIn(map[string]any{"provider": s.oidc(secret)}))
	s.must(key, qTestSSO, ssoIn(map[string]any{}))
	sealed := s.sealedSecret(id)

	r := s.must(key, qDisableSSO, ssoIn(map[string]any{"expectedVersion": 1}))
	if msg := dataAt(t, r, "disableSso.message"); msg != "SSO disabled. Users can log in with email/password again." {
		t.Errorf("message = %q", msg)
	}
	kept := map[string]any{"type": "OIDC", "clientId": "acme-portal", "discoveryUrl": s.idp.DiscoveryURL(), "redirectUri": ssoRedirectURI,
		"clientSecretHint": "…" + secret[len(secret)-4:], "status": "ACTIVE", "lastTestResult": "SUCCESS", "loginUrl": s.srv.URL + "/auth/sso/" + id}
	ssoWant(t, dataAt(t, r, "disableSso.sso").(map[string]any), kept)
	ssoWant(t, dataAt(t, r, "disableSso.sso").(map[string]any), map[string]any{"enabled": false, "version": 2.0})
	if _, settings := s.ssoOf(id); settings["ssoEnabled"] != false || settings["version"] != 3.0 {
		t.Errorf("settings after disableSso = %v, want ssoEnabled false at version 3", settings)
	}

	// Disabling again changes nothing.
	r = s.must(key, qDisableSSO, ssoIn(map[string]any{}))
	ssoWant(t, dataAt(t, r, "disableSso.sso").(map[string]any), map[string]any{"enabled": false, "version": 2.0})

	// Re-enable the kept configuration.
	r = s.must(key, qEnableSSO, ssoIn(map[string]any{"expectedVersion": 2}))
	ssoWant(t, dataAt(t, r, "enableSso.sso").(map[string]any), kept)
	ssoWant(t, dataAt(t, r, "enableSso.sso").(map[string]any), map[string]any{"enabled": true, "version": 3.0})
	if _, settings := s.ssoOf(id); settings["ssoEnabled"] != true || settings["version"] != 4.0 {
		t.Errorf("settings after re-enabling = %v, want ssoEnabled true at version 4", settings)
	}
	if got := s.sealedSecret(id); got != sealed {
		t.Error("re-enabling changed the stored secret")
	}

	// Change the redirect URI without resending the secret: the secret is kept.
	change := s.oidc("")
	delete(change["oidc"].(map[string]any), "clientSecret")
	change["oidc"].(map[string]any)["redirectUri"] = "https://app.example.com/other"
	r = s.must(key, qEnableSSO, ssoIn(map[string]any{"provider": change}))
	ssoWant(t, dataAt(t, r, "enableSso.sso").(map[string]any), map[string]any{"redirectUri": "https://app.example.com/other",
		"clientSecretHint": kept["clientSecretHint"], "status": "CONFIGURED", "lastTestAt": nil, "version": 4.0})
	if got := s.sealedSecret(id); got != sealed {
		t.Error("a change without clientSecret replaced the stored secret")
	}

	// Switching type needs the new type's secret.
	r = s.ask(key, qEnableSSO, ssoIn(map[string]any{"provider": map[string]any{"entraId": map[string]any{
		"directoryTenantId": "3f0e8a51-5b0d-4c44-9f5e-0c1d2e3f4a5b", "clientId": "app"}}}))
	if r.Code() != "BAD_USER_INPUT" || r.Field() != "provider.entraId.clientSecret" {
		t.Errorf("switching to Entra ID without a secret: %s", r.Raw)
	}
	// ... and then clears the other type's fields.
	r = s.must(key, qEnableSSO, ssoIn(map[string]any{"provider": ssoEntra("3f0e8a51-5b0d-4c44-9f5e-0c1d2e3f4a5b", ssoSecret("entra"))}))
	ssoWant(t, dataAt(t, r, "enableSso.sso").(map[string]any), map[string]any{"type": "ENTRA_ID", "discoveryUrl": nil, "redirectUri": nil, "version": 5.0})
}

// sealedSecret is the stored (sealed) client secret of a tenant.
func (s *ssoEnv) sealedSecret(tenantID string) string {
	s.t.Helper()
	var v sql.NullString
	if err := s.raw.QueryRow(`SELECT client_secret_sealed FROM sso_configs WHERE tenant_id = $1`, tenantID).Scan(&v); err != nil {
		s.t.Fatal(err)
	}
	return v.String
}

// assertNoSecretInResponses checks no response body so far holds secret.
func (s *ssoEnv) assertNoSecretInResponses(t *testing.T, secret string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bodies) == 0 {
		t.Fatal("no responses recorded")
	}
	for _, b := range s.bodies {
		if bytes.Contains(b, []byte(secret)) {
			t.Fatalf("a response holds the client secret: %s", b)
		}
	}
}

// TestSSOSecretsAtRest enables SSO with secrets on two tenants, exercises
// every SSO operation, then checks no response and no column of any table
// of the database holds a secret in clear, and that each stored secret is
// sealed for its own tenant.
func TestSSOSecretsAtRest(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	a := s.createTenant("Secret A", randomDomain())
	b := s.createTenant("Secret B", randomDomain())
	secretA, secretB := ssoSecret("a"), ssoSecret("b")
	keyA := s.createKey(a, "TENANT_READ", "SSO_READ", "SSO_UPDATE")
	s.must(keyA, qEnableSSO, ssoIn(map[string]any{"provider": s.oidc(secretA), "validateOnly": true}))
	s.must(keyA, qEnableSSO, ssoIn(map[string]any{"provider": s.oidc(secretA)}))
	s.must(testAdminSecret, qEnableSSO, ssoIn(map[string]any{"tenantId": b, "provider": ssoEntra("3f0e8a51-5b0d-4c44-9f5e-0c1d2e3f4a5b", secretB)}))
	s.must(keyA, qTestSSO, ssoIn(map[string]any{}))
	s.must(keyA, qDisableSSO, ssoIn(map[string]any{}))
	s.must(keyA, qEnableSSO, ssoIn(map[string]any{}))
	s.must(keyA, `{ me { sso { `+ssoFields+` } settings { ssoEnabled } } }`, nil)
	s.must(testAdminSecret, `{ tenants(first: 100) { nodes { id sso { `+ssoFields+` } } } }`, nil)
	s.ask(keyA, qEnableSSO, ssoIn(map[string]any{"provider": map[string]any{"oidc": map[string]any{"clientId": "x", "clientSecret": secretA,
		"discoveryUrl": "http://insecure.example", "redirectUri": ssoRedirectURI}}}))
	for _, secret := range []string{secretA, secretB} {
		s.assertNoSecretInResponses(t, secret)
	}

	// Every row of every table of the database, as text: what a dump holds.
	needles := map[string]string{}
	for _, secret := range []string{secretA, secretB} {
		needles[secret] = secret
		needles["hex of "+secret] = hex.EncodeToString([]byte(secret)) // as bytea reads in text form
	}
	tables := s.tables(t)
	if len(tables) < 5 || !slices.Contains(tables, "sso_configs") {
		t.Fatalf("tables = %v", tables)
	}
	rows := 0
	for _, table := range tables {
		q := fmt.Sprintf(`SELECT t::text FROM %s t`, pq.QuoteIdentifier(table))
		res, err := s.raw.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for res.Next() {
			var row string
			if err := res.Scan(&row); err != nil {
				t.Fatal(err)
			}
			rows++
			for what, needle := range needles {
				if strings.Contains(strings.ToLower(row), strings.ToLower(needle)) {
					t.Errorf("table %s holds the %s in clear: %s", table, what, row)
				}
			}
		}
		if err := res.Err(); err != nil {
			t.Fatal(err)
		}
		res.Close()
	}
	t.Logf("scanned %d rows of %d tables", rows, len(tables))
	s.scanTextColumns(t, needles)

	// The stored values are the secrets sealed for their own tenant only.
	for tenantID, secret := range map[string]string{a: secretA, b: secretB} {
		sealed := s.sealedSecret(tenantID)
		if !strings.HasPrefix(sealed, "test:") {
			t.Errorf("sealed secret %q does not name its key id", sealed)
		}
		if got, err := s.ring.Open(tenantID, sealed); err != nil || string(got) != secret {
			t.Errorf("the sealed secret of %s does not open to its secret: %v", tenantID, err)
		}
		other := a
		if tenantID == a {
			other = b
		}
		if _, err := s.ring.Open(other, sealed); err == nil {
			t.Errorf("the sealed secret of %s opens for another tenant", tenantID)
		}
	}
}

// tables lists the base tables of the public schema.
func (s *ssoEnv) tables(t *testing.T) []string {
	t.Helper()
	res, err := s.raw.Query(`SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	var out []string
	for res.Next() {
		var n string
		if err := res.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// scanTextColumns searches every text-like and bytea column, by its own
// type, for the needles: a second look besides the row texts.
func (s *ssoEnv) scanTextColumns(t *testing.T, needles map[string]string) {
	t.Helper()
	res, err := s.raw.Query(`SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'character', 'bytea', 'ARRAY', 'json', 'jsonb')`)
	if err != nil {
		t.Fatal(err)
	}
	type col struct{ table, column, typ string }
	var cols []col
	for res.Next() {
		var c col
		if err := res.Scan(&c.table, &c.column, &c.typ); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	res.Close()
	for _, c := range cols {
		expr := pq.QuoteIdentifier(c.column) + "::text"
		if c.typ == "bytea" {
			expr = "encode(" + pq.QuoteIdentifier(c.column) + ", 'escape')"
		}
		for what, needle := range needles {
			var n int
			q := fmt.Sprintf(`SELECT count(*) FROM %s WHERE strpos(%s, $1) > 0`, pq.QuoteIdentifier(c.table), expr)
			if err := s.raw.QueryRow(q, needle).Scan(&n); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if n > 0 {
				t.Errorf("%s.%s holds the %s in clear", c.table, c.column, what)
			}
		}
	}
	if len(cols) == 0 {
		t.Fatal("no text columns found")
	}
}

// TestSSOIsolation: tenant A's key holding every tenant permission cannot
// read, enable, disable or test tenant B's SSO: each answers exactly like a
// missing tenant, and B is unchanged.
func TestSSOIsolation(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	a := s.createTenant("Alpha", randomDomain())
	b := s.createTenant("Beta", randomDomain())
	aKey := s.createKey(a, enumNames(tenant.TenantPermissions())...)
	s.must(testAdminSecret, qEnableSSO, ssoIn(map[string]any{"tenantId": b, "provider": s.oidc(ssoSecret("b"))}))
	s.must(testAdminSecret, qTestSSO, ssoIn(map[string]any{"tenantId": b}))
	before := fmt.Sprint(s.ssoOf(b))
	with := func(fields map[string]any) func(string) map[string]any {
		return func(id string) map[string]any {
			m := map[string]any{"tenantId": id}
			for k, v := range fields {
				m[k] = v
			}
			return ssoIn(m)
		}
	}
	cases := []struct {
		name, query string
		vars        func(id string) map[string]any
	}{
		{"Tenant.sso", `query($id: ID!) { tenant(id: $id) { id sso { status clientId } } }`, idVar},
		{"enableSso", qEnableSSO, with(map[string]any{"provider": s.oidc(ssoSecret("hijack"))})},
		{"enableSso/reenable", qEnableSSO, with(map[string]any{})},
		{"enableSso/validateOnly", qEnableSSO, with(map[string]any{"provider": s.oidc(ssoSecret("hijack")), "validateOnly": true})},
		{"disableSso", qDisableSSO, with(map[string]any{"expectedVersion": 1})},
		{"testSso", qTestSSO, with(map[string]any{})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := s.withT(t)
			got := s.ask(aKey, c.query, c.vars(b))
			if got.Code() != "NOT_FOUND" || len(got.Errors) != 1 {
				t.Fatalf("B's id: want one NOT_FOUND, got %s", got.Raw)
			}
			sameResponse(t, got, s.ask(aKey, c.query, c.vars(randomUUID())))
		})
	}
	if after := fmt.Sprint(s.ssoOf(b)); after != before {
		t.Errorf("B's SSO changed:\nbefore %s\nafter  %s", before, after)
	}
	s.wantNotConfigured(t, a)
}

// ssoPermissionCases are the permission table's rows for SSO (run by
// TestPermissions): Tenant.sso needs SSO_READ, the mutations SSO_UPDATE,
// and another tenant TENANT_MANAGE as well.
func ssoPermissionCases() []permCase {
	enable := func(f *fixture) map[string]any {
		return f.input(map[string]any{"provider": map[string]any{"entraId": map[string]any{
			"directoryTenantId": "3f0e8a51-5b0d-4c44-9f5e-0c1d2e3f4a5b", "clientId": "app", "clientSecret": "perm-secret-0123456789"}}})
	}
	none := func(f *fixture) map[string]any { return f.input(map[string]any{}) }
	configure := func(e *env, f *fixture) {
		e.mustGQL(testAdminSecret, qEnableSSO, map[string]any{"in": map[string]any{"tenantId": f.target, "provider": map[string]any{"oidc": map[string]any{
			"clientId": "c", "clientSecret": "perm-secret-0123456789", "discoveryUrl": "https://127.0.0.1:1/.well-known/openid-configuration", "redirectUri": ssoRedirectURI}}}}, nil)
	}
	// unchanged checks neither tenant's SSO moved past what prepare saved.
	unchanged := func(t *testing.T, e *env, f *fixture, _ *result) {
		t.Helper()
		for _, id := range []string{f.own, f.other} {
			var out struct {
				Tenant struct {
					Sso struct{ Enabled, Status, LastTestResult any }
				}
			}
			e.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { sso { enabled status lastTestResult } } }`, map[string]any{"id": id}, &out)
			sso := out.Tenant.Sso
			configured := sso.Status == "CONFIGURED" && sso.Enabled == true
			if sso.LastTestResult != nil || (sso.Status != "NOT_CONFIGURED" && !configured) || (sso.Status == "NOT_CONFIGURED" && sso.Enabled != false) {
				t.Errorf("SSO of %s changed by a refused mutation: %+v", id, sso)
			}
		}
	}
	cases := []permCase{}
	for _, m := range []struct {
		op, query string
		vars      varsFunc
		prepare   func(*env, *fixture)
		ok        func(f *fixture) checkFunc
	}{
		{"enableSso", qEnableSSO, enable, nil, func(*fixture) checkFunc {
			return wantAll(wantAt("enableSso.sso.enabled", value(true)), wantAt("enableSso.sso.type", value("ENTRA_ID")))
		}},
		{"disableSso", qDisableSSO, none, configure, func(*fixture) checkFunc {
			return wantAll(wantAt("disableSso.sso.enabled", value(false)), wantAt("disableSso.sso.type", value("OIDC")))
		}},
		{"testSso", qTestSSO, none, configure, func(*fixture) checkFunc {
			return wantAll(wantAt("testSso.result", value("FAILURE")), wantAt("testSso.sso.status", value("ERROR")))
		}},
	} {
		cases = append(cases,
			permCase{op: m.op, cred: credAnonymous, query: m.query, vars: m.vars, prepare: m.prepare, want: "UNAUTHENTICATED", check: unchanged},
			permCase{op: m.op, cred: keyWith("USAGE_WRITE"), query: m.query, vars: m.vars, prepare: m.prepare, want: "FORBIDDEN", message: "SSO_UPDATE", check: unchanged},
			permCase{op: m.op, cred: keyWith("TENANT_MANAGE", "SSO_READ"), query: m.query, vars: m.vars, prepare: m.prepare, want: "FORBIDDEN", message: "SSO_UPDATE", check: unchanged},
			permCase{op: m.op, cred: keyWith("SSO_UPDATE"), query: m.query, vars: m.vars, prepare: m.prepare, check: m.ok(nil)},
			permCase{op: m.op, cred: keyWith("TENANT_MANAGE", "SSO_UPDATE"), query: m.query, vars: m.vars, prepare: m.prepare, check: m.ok(nil)},
			permCase{op: m.op, cred: credAdmin, query: m.query, vars: m.vars, prepare: m.prepare, check: m.ok(nil)},
			permCase{op: m.op, cred: keyWith("SSO_UPDATE"), variant: "otherTenant", query: m.query, prepare: m.prepare, want: "NOT_FOUND", check: unchanged,
				vars: func(f *fixture) map[string]any {
					v := m.vars(f)
					v["in"].(map[string]any)["tenantId"] = f.other
					return v
				}},
		)
	}
	return append(cases, tenantFieldCases("sso", "sso { status enabled }", "SSO_READ")...)
}

// TestSSOLoginURLFollowsDeployment: loginUrl is below the deployment's
// SSO_LOGIN_BASE_URL (httpapi.Config.SSOLoginBase), not the reference's.
func TestSSOLoginURLFollowsDeployment(t *testing.T) {
	t.Parallel()
	s := newSSOEnvWith(t, func(c *httpapi.Config) { c.SSOLoginBase = "https://login.example.test/auth/sso" })
	id := s.createTenant("Own Login Co", randomDomain())
	key := s.createKey(id, "TENANT_READ", "SSO_READ", "SSO_UPDATE")
	r := s.must(key, qEnableSSO, ssoIn(map[string]any{"provider": s.oidc(ssoSecret("oidc")), "expectedVersion": 0}))
	if got, want := dataAt(t, r, "enableSso.sso.loginUrl"), "https://login.example.test/auth/sso/"+id; got != want {
		t.Fatalf("enableSso.sso.loginUrl = %v, want %s", got, want)
	}
	r = s.must(key, `{ me { sso { loginUrl } } }`, nil)
	if got, want := dataAt(t, r, "me.sso.loginUrl"), "https://login.example.test/auth/sso/"+id; got != want {
		t.Fatalf("me.sso.loginUrl = %v, want %s", got, want)
	}
}
