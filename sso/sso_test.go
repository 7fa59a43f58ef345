package sso_test

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"tenantapi/egress"
	"tenantapi/sso"
	"tenantapi/sso/ssotest"
	"tenantapi/tenant"
)

// check runs the checker over p and returns the problem text ("" for none).
func check(t *testing.T, c *sso.Checker, p *tenant.SSOProvider) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if prob := c.Check(ctx, p); prob != nil {
		t.Log(prob)
		return prob.Error()
	}
	return ""
}

func TestCheckOIDC(t *testing.T) {
	t.Parallel()
	idp := ssotest.New(t)
	c := &sso.Checker{Egress: idp.Egress(true)}
	oidc := func(u string) *tenant.SSOProvider { return &tenant.SSOProvider{Type: tenant.SSOOIDC, DiscoveryURL: u} }

	t.Run("OK", func(t *testing.T) {
		if got := check(t, c, oidc(idp.DiscoveryURL())); got != "" {
			t.Fatalf("problem %q, want none", got)
		}
	})
	t.Run("OKIssuerURL", func(t *testing.T) {
		// The issuer itself is accepted as the discovery URL.
		if got := check(t, c, oidc(idp.Server.URL)); got != "" {
			t.Fatalf("problem %q, want none", got)
		}
	})
	tests := []struct {
		name  string
		url   string
		parts []string
	}{
		{"ErrNotFound", idp.Server.URL + "/nowhere/.well-known/openid-configuration", []string{"/nowhere/.well-known/openid-configuration", "HTTP 404"}},
		{"ErrTooLarge", idp.Server.URL + "/big/.well-known/openid-configuration", []string{"larger than the allowed size"}},
		{"ErrUnreachable", "https://127.0.0.1:1/.well-known/openid-configuration", []string{"https://127.0.0.1:1/.well-known/openid-configuration", "connection failed"}},
		{"ErrUnresolvable", "https://idp.invalid/.well-known/openid-configuration", []string{"idp.invalid", "does not resolve"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check(t, c, oidc(tt.url))
			for _, p := range tt.parts {
				if !strings.Contains(got, p) {
					t.Errorf("problem %q does not contain %q", got, p)
				}
			}
		})
	}
}

func TestCheckOIDCIssuerMismatch(t *testing.T) {
	t.Parallel()
	idp := ssotest.New(t)
	idp.SetIssuer("https://impostor.example")
	c := &sso.Checker{Egress: idp.Egress(true)}
	got := check(t, c, &tenant.SSOProvider{Type: tenant.SSOOIDC, DiscoveryURL: idp.DiscoveryURL()})
	for _, p := range []string{`"https://impostor.example"`, `"` + idp.Server.URL + `"`, "issuer"} {
		if !strings.Contains(got, p) {
			t.Errorf("problem %q does not contain %q", got, p)
		}
	}
}

func TestCheckOIDCBadDocuments(t *testing.T) {
	t.Parallel()
	var srv *httptest.Server
	docs := map[string]string{
		"/notjson":    `<html>hello</html>`,
		"/noauth":     `{"issuer":"%s/noauth","token_endpoint":"https://x.example/token","jwks_uri":"https://x.example/jwks"}`,
		"/httpjwks":   `{"issuer":"%s/httpjwks","authorization_endpoint":"https://x.example/a","token_endpoint":"https://x.example/token","jwks_uri":"http://x.example/jwks"}`,
		"/emptyjwks":  `{"issuer":"%s/emptyjwks","authorization_endpoint":"https://x.example/a","token_endpoint":"https://x.example/token","jwks_uri":"%s/keys/empty"}`,
		"/keys/empty": `{"keys":[]}`,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimSuffix(r.URL.Path, tenant.OIDCWellKnown)
		doc, ok := docs[path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		doc = strings.ReplaceAll(doc, "%s", srv.URL)
		_, _ = w.Write([]byte(doc))
	})
	srv = httptest.NewUnstartedServer(mux)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted-certificate case fails handshakes on purpose
	srv.StartTLS()
	defer srv.Close()
	eg := egress.New(egress.Options{AllowPrivate: true, Timeout: 5 * time.Second})
	eg.HTTP.Transport.(*http.Transport).TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig
	c := &sso.Checker{Egress: eg}
	tests := []struct{ name, path, want string }{
		{"ErrNotJSON", "/notjson", "not a JSON OpenID Connect discovery document"},
		{"ErrNoAuthorizationEndpoint", "/noauth", "has no authorization_endpoint"},
		{"ErrHTTPJWKS", "/httpjwks", `jwks_uri "http://x.example/jwks", which is not an https URL`},
		{"ErrEmptyJWKS", "/emptyjwks", "holds no public signing key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check(t, c, &tenant.SSOProvider{Type: tenant.SSOOIDC, DiscoveryURL: srv.URL + tt.path + tenant.OIDCWellKnown})
			if !strings.Contains(got, tt.want) {
				t.Errorf("problem %q does not contain %q", got, tt.want)
			}
		})
	}
	t.Run("ErrUntrustedCertificate", func(t *testing.T) {
		// The default roots do not trust httptest's certificate.
		c := &sso.Checker{Egress: egress.New(egress.Options{AllowPrivate: true, Timeout: 5 * time.Second})}
		got := check(t, c, &tenant.SSOProvider{Type: tenant.SSOOIDC, DiscoveryURL: srv.URL + "/noauth" + tenant.OIDCWellKnown})
		if !strings.Contains(got, "TLS certificate") {
			t.Errorf("problem %q does not mention the TLS certificate", got)
		}
	})
}

// TestCheckRefusesLoopbackByDefault: without AllowPrivate, the egress client
// refuses the loopback identity provider, for every type.
func TestCheckRefusesLoopbackByDefault(t *testing.T) {
	t.Parallel()
	idp := ssotest.New(t)
	c := &sso.Checker{Egress: idp.Egress(false), EntraBaseURL: idp.Server.URL}
	for name, p := range map[string]*tenant.SSOProvider{
		"OIDC":    {Type: tenant.SSOOIDC, DiscoveryURL: idp.DiscoveryURL()},
		"SAML":    {Type: tenant.SSOSAML, IdpMetadataURL: idp.MetadataURL(), IdpX509Cert: idp.SigningPEM},
		"EntraID": {Type: tenant.SSOEntraID, DirectoryTenantID: "8e4ab2a4-19a3-4ef4-9bd0-3a3c0f6b0e11"},
	} {
		t.Run(name, func(t *testing.T) {
			got := check(t, c, p)
			if !strings.Contains(got, "private, loopback or link-local address") {
				t.Errorf("problem %q, want the private-address refusal", got)
			}
			if strings.Contains(got, "127.0.0.1:") && !strings.Contains(got, idp.Server.URL) {
				t.Errorf("problem %q names an address the tenant did not give", got)
			}
		})
	}
}

func TestCheckEntraID(t *testing.T) {
	t.Parallel()
	idp := ssotest.New(t)
	c := &sso.Checker{Egress: idp.Egress(true), EntraBaseURL: idp.Server.URL}
	dir := "8e4ab2a4-19a3-4ef4-9bd0-3a3c0f6b0e11"
	t.Run("OK", func(t *testing.T) {
		if got := check(t, c, &tenant.SSOProvider{Type: tenant.SSOEntraID, DirectoryTenantID: dir}); got != "" {
			t.Fatalf("problem %q, want none", got)
		}
	})
	t.Run("OKVerifiedDomain", func(t *testing.T) {
		// Named by a domain, the directory's document names its id as the
		// issuer, as Microsoft's does; that is accepted below the same host.
		if got := check(t, c, &tenant.SSOProvider{Type: tenant.SSOEntraID, DirectoryTenantID: "contoso.onmicrosoft.com"}); got != "" {
			t.Fatalf("problem %q, want none", got)
		}
	})
	t.Run("Issuer", func(t *testing.T) {
		if got, want := (&sso.Checker{}).EntraIssuer(dir), "https://login.microsoftonline.com/"+dir+"/v2.0"; got != want {
			t.Fatalf("EntraIssuer = %q, want %q", got, want)
		}
		// National clouds have their own login hosts.
		for cloud, host := range map[tenant.EntraCloud]string{
			tenant.EntraGlobal:       "https://login.microsoftonline.com",
			tenant.EntraUSGovernment: "https://login.microsoftonline.us",
			tenant.EntraChina:        "https://login.chinacloudapi.cn",
		} {
			if got, want := (&sso.Checker{}).EntraIssuerIn(cloud, "contoso.onmicrosoft.com"), host+"/contoso.onmicrosoft.com/v2.0"; got != want {
				t.Errorf("EntraIssuerIn(%s) = %q, want %q", cloud, got, want)
			}
		}
	})
	t.Run("ErrUnknownDirectory", func(t *testing.T) {
		// No document at this base: the loopback IdP answers 404 (Microsoft
		// answers 400 for a directory it does not know).
		c := &sso.Checker{Egress: idp.Egress(true), EntraBaseURL: idp.Server.URL + "/tenants"}
		got := check(t, c, &tenant.SSOProvider{Type: tenant.SSOEntraID, DirectoryTenantID: dir})
		if !strings.Contains(got, "HTTP 404") || !strings.Contains(got, dir) {
			t.Errorf("problem %q, want an HTTP 404 naming the directory's document", got)
		}
	})
}

func TestCheckSAML(t *testing.T) {
	t.Parallel()
	idp := ssotest.New(t)
	c := &sso.Checker{Egress: idp.Egress(true)}
	otherPEM, _ := ssotest.Cert(t, "Someone else", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	_, expired := ssotest.Cert(t, "Old", time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	staleMetadata := strings.Replace(idp.MetadataXML(t), `validUntil="`, `validUntil="2001-01-01T00:00:00Z" x="`, 1)
	entities := `<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata">` +
		strings.TrimPrefix(idp.MetadataXML(t), `<?xml version="1.0" encoding="UTF-8"?>`+"\n") + `</EntitiesDescriptor>`
	tests := []struct {
		name string
		p    tenant.SSOProvider
		want string // "" for success
	}{
		{"OKURL", tenant.SSOProvider{IdpMetadataURL: idp.MetadataURL(), IdpX509Cert: idp.SigningPEM}, ""},
		{"OKXML", tenant.SSOProvider{IdpMetadataXML: idp.MetadataXML(t), IdpX509Cert: idp.SigningPEM}, ""},
		{"OKEntitiesDescriptor", tenant.SSOProvider{IdpMetadataXML: entities, IdpX509Cert: idp.SigningPEM}, ""},
		{"ErrCertificateMismatch", tenant.SSOProvider{IdpMetadataURL: idp.MetadataURL(), IdpX509Cert: otherPEM}, "does not match idpX509Cert"},
		{"ErrCertificateMismatchXML", tenant.SSOProvider{IdpMetadataXML: ssotest.MetadataFor(t, "https://idp.example", expired), IdpX509Cert: idp.SigningPEM}, "does not match idpX509Cert"},
		{"ErrNotFound", tenant.SSOProvider{IdpMetadataURL: idp.Server.URL + "/saml/missing", IdpX509Cert: idp.SigningPEM}, "HTTP 404"},
		{"ErrUnreachable", tenant.SSOProvider{IdpMetadataURL: "https://127.0.0.1:1/metadata", IdpX509Cert: idp.SigningPEM}, "connection failed"},
		{"ErrNotMetadata", tenant.SSOProvider{IdpMetadataXML: `<html xmlns="http://www.w3.org/1999/xhtml"/>`, IdpX509Cert: idp.SigningPEM}, "not SAML 2.0 metadata"},
		{"ErrExpiredMetadata", tenant.SSOProvider{IdpMetadataXML: staleMetadata, IdpX509Cert: idp.SigningPEM}, "expired on 2001-01-01"},
		{"ErrNotAnIdP", tenant.SSOProvider{IdpMetadataXML: `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example"/>`, IdpX509Cert: idp.SigningPEM}, "no IDPSSODescriptor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.Type = tenant.SSOSAML
			got := check(t, c, &tt.p)
			if tt.want == "" && got != "" {
				t.Fatalf("problem %q, want none", got)
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("problem %q does not contain %q", got, tt.want)
			}
		})
	}
}

func TestParseMetadataFingerprint(t *testing.T) {
	t.Parallel()
	_, cert := ssotest.Cert(t, "fp", time.Now(), time.Now().Add(time.Hour))
	ed, err := sso.ParseMetadata([]byte(ssotest.MetadataFor(t, "https://idp.example", cert)))
	if err != nil {
		t.Fatal(err)
	}
	if ed.EntityID != "https://idp.example/saml/metadata" || len(ed.IDPSSODescriptors) != 1 {
		t.Fatalf("parsed %+v", ed)
	}
	if fp := sso.Fingerprint(cert.Raw); len(fp) != 95 || strings.ToUpper(fp) != fp {
		t.Fatalf("Fingerprint = %q, want 32 upper-case hex bytes joined by colons", fp)
	}
}
