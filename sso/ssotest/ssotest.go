// Package ssotest serves a real identity provider on loopback for tests: an
// OpenID Connect discovery document and its JWKS, Entra ID style discovery
// documents per directory, and SAML 2.0 metadata, all over TLS with a
// certificate that only the egress clients it hands out trust.
package ssotest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"math/big"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/go-jose/go-jose/v4"

	"tenantapi/egress"
)

// EntraDirectoryID is the directory id the IdP's Entra ID documents give a
// directory named by a verified domain.
const EntraDirectoryID = "5d2b4c1e-7a39-4f6e-9c0b-2e8d4a61f7c3"

var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IdP is a loopback identity provider. Its documents are served from
// Server.URL (https://127.0.0.1:port).
type IdP struct {
	Server *httptest.Server
	// SigningPEM is the SAML signing certificate the metadata lists.
	SigningPEM  string
	signingCert *x509.Certificate
	jwks        []byte
	key         *rsa.PrivateKey

	mu     sync.Mutex
	issuer string // "" means the server's URL
	oidc   oidcState
}

// New starts an IdP, closed when the test ends.
func New(t testing.TB) *IdP {
	t.Helper()
	i, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(i.Server.Close)
	return i
}

// Start starts an IdP on a loopback port with httptest's certificate; the
// caller closes i.Server. cmd/devidp serves one for trying SSO by hand.
func Start() (*IdP, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "test-key-1", Algorithm: "RS256", Use: "sig"}}})
	if err != nil {
		return nil, err
	}
	i := &IdP{jwks: jwks, key: key}
	i.oidc.codes = map[string]codeGrant{}
	if i.SigningPEM, i.signingCert, err = makeCert("Test IdP signing", time.Now().Add(-time.Hour), time.Now().Add(365*24*time.Hour)); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		i.mu.Lock()
		issuer := i.issuer
		i.mu.Unlock()
		if issuer == "" {
			issuer = i.Server.URL
		}
		writeDiscovery(w, issuer, i.Server.URL)
	})
	// Entra ID: https://login.microsoftonline.com/{directory}/v2.0/.well-known/openid-configuration
	// As Microsoft's, a directory named by a verified domain (no GUID) has
	// the issuer of its id, EntraDirectoryID.
	mux.HandleFunc("GET /{dir}/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		dir := r.PathValue("dir")
		if !guid.MatchString(dir) {
			dir = EntraDirectoryID
		}
		writeDiscovery(w, i.Server.URL+"/"+dir+"/v2.0", i.Server.URL)
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(i.jwks)
	})
	mux.HandleFunc("GET /authorize", i.authorize)
	mux.HandleFunc("POST /token", i.token)
	mux.HandleFunc("GET /saml/metadata", func(w http.ResponseWriter, r *http.Request) {
		md, err := metadataFor(i.Server.URL, i.signingCert)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write([]byte(md))
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"issuer":"` + strings.Repeat("x", 2<<20) + `"}`))
	})
	mux.HandleFunc("GET /big/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"issuer":"` + strings.Repeat("x", 2<<20) + `"}`))
	})
	i.Server = httptest.NewTLSServer(mux)
	return i, nil
}

func writeDiscovery(w http.ResponseWriter, issuer, base string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                base + "/authorize",
		"token_endpoint":                        base + "/token",
		"userinfo_endpoint":                     base + "/userinfo",
		"jwks_uri":                              base + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	})
}

// SetIssuer makes the discovery document name issuer ("" restores the
// server's URL, the correct one).
func (i *IdP) SetIssuer(issuer string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.issuer = issuer
}

// DiscoveryURL is the OIDC discovery document's URL.
func (i *IdP) DiscoveryURL() string { return i.Server.URL + "/.well-known/openid-configuration" }

// MetadataURL is the SAML metadata's URL.
func (i *IdP) MetadataURL() string { return i.Server.URL + "/saml/metadata" }

// MetadataXML is SAML 2.0 IdP metadata listing SigningPEM, generated with
// crewjam/saml's types.
func (i *IdP) MetadataXML(t testing.TB) string {
	return MetadataFor(t, i.Server.URL, i.signingCert)
}

// MetadataFor is IdP metadata for the entity at base, signing with cert.
func MetadataFor(t testing.TB, base string, cert *x509.Certificate) string {
	md, err := metadataFor(base, cert)
	if err != nil {
		t.Fatal(err)
	}
	return md
}

func metadataFor(base string, cert *x509.Certificate) (string, error) {
	ed := saml.EntityDescriptor{
		EntityID:   base + "/saml/metadata",
		ValidUntil: time.Now().Add(48 * time.Hour).UTC(),
		IDPSSODescriptors: []saml.IDPSSODescriptor{{
			SSODescriptor: saml.SSODescriptor{RoleDescriptor: saml.RoleDescriptor{
				ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol",
				KeyDescriptors: []saml.KeyDescriptor{{
					Use:     "signing",
					KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{X509Certificates: []saml.X509Certificate{{Data: base64.StdEncoding.EncodeToString(cert.Raw)}}}},
				}},
			}},
			SingleSignOnServices: []saml.Endpoint{{Binding: saml.HTTPRedirectBinding, Location: base + "/saml/sso"}},
		}},
	}
	b, err := xml.MarshalIndent(ed, "", "  ")
	if err != nil {
		return "", err
	}
	return xml.Header + string(b), nil
}

// Egress returns an egress client that trusts the IdP's TLS certificate,
// allowing private addresses (loopback) when allowPrivate is set.
func (i *IdP) Egress(allowPrivate bool) *egress.Client {
	c := egress.New(egress.Options{AllowPrivate: allowPrivate, Timeout: 5 * time.Second})
	pool := x509.NewCertPool()
	pool.AddCert(i.Server.Certificate())
	c.HTTP.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return c
}

// Cert makes a self-signed certificate valid from notBefore to notAfter and
// returns it in PEM form and parsed.
func Cert(t testing.TB, cn string, notBefore, notAfter time.Time) (string, *x509.Certificate) {
	t.Helper()
	p, cert, err := makeCert(cn, notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	return p, cert
}

func makeCert(cn string, notBefore, notAfter time.Time) (string, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", nil, err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return "", nil, err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), cert, nil
}
