package httpapi_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"tenantapi/sso/ssotest"
	"tenantapi/tenant"
)

// samlIdP is a SAML 2.0 identity provider built in the test with
// crewjam/saml's IdentityProvider and a fresh RSA key: its SSO endpoint
// (HTTP-Redirect binding) reads the AuthnRequest, fetches the SP metadata
// from the server under test, and answers the auto-posting form of the
// HTTP-POST binding, as a real IdP does. The test then posts the form.
type samlIdP struct {
	idp     *saml.IdentityProvider
	server  *httptest.Server
	certPEM string
	spURL   string // the server under test

	mu     sync.Mutex
	email  string
	attr   bool                  // the address in an `email` attribute, NameID transient
	adjust func(*saml.Assertion) // before signing
	mode   string                // "" (response and assertion signed), "assertion" (only the assertion), "unsigned", "tampered"
}

func newSAMLIdP(t *testing.T, spURL string) *samlIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "Test SAML IdP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	i := &samlIdP{spURL: spURL, certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sso", i.sso)
	i.server = httptest.NewServer(mux)
	t.Cleanup(i.server.Close)
	meta, _ := url.Parse(i.server.URL + "/metadata")
	ssoURL, _ := url.Parse(i.server.URL + "/sso")
	i.idp = &saml.IdentityProvider{Key: key, Certificate: cert, MetadataURL: *meta, SSOURL: *ssoURL, ServiceProviderProvider: i}
	return i
}

// GetServiceProvider reads the SP metadata from the server under test.
func (i *samlIdP) GetServiceProvider(r *http.Request, entityID string) (*saml.EntityDescriptor, error) {
	// The tests name their SPs urn:tenantapi:test-sp:<tenant id>.
	tenantID := strings.TrimPrefix(entityID, "urn:tenantapi:test-sp:")
	resp, err := http.Get(i.spURL + "/auth/saml/" + tenantID + "/metadata")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(body, &ed); err != nil || ed.EntityID != entityID {
		return nil, os.ErrNotExist
	}
	return &ed, nil
}

func (i *samlIdP) metadataXML(t *testing.T) string {
	b, err := xml.Marshal(i.idp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (i *samlIdP) set(email string, attr bool, mode string, adjust func(*saml.Assertion)) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.email, i.attr, i.mode, i.adjust = email, attr, mode, adjust
}

var acsFormRE = regexp.MustCompile(`action="([^"]+)"[\s\S]*name="SAMLResponse" value="([^"]*)"[\s\S]*name="RelayState" value="([^"]*)"`)

func (i *samlIdP) sso(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	email, attr, mode, adjust := i.email, i.attr, i.mode, i.adjust
	i.mu.Unlock()
	req, err := saml.NewIdpAuthnRequest(i.idp, r)
	if err == nil {
		err = req.Validate()
	}
	if err != nil {
		http.Error(w, "IdP: "+err.Error(), http.StatusBadRequest)
		return
	}
	session := &saml.Session{ID: "s1", CreateTime: time.Now(), NameID: email, NameIDFormat: string(saml.EmailAddressNameIDFormat), UserCommonName: "Sam Example"}
	if attr {
		session.NameID, session.NameIDFormat = "opaque-7f3a", string(saml.TransientNameIDFormat)
		session.CustomAttributes = []saml.Attribute{{Name: "email", Values: []saml.AttributeValue{{Type: "xs:string", Value: email}}}}
	}
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, session); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if adjust != nil {
		adjust(req.Assertion)
	}
	var respEl *etree.Element
	switch mode {
	case "", "tampered":
		err = req.MakeResponse() // signs the assertion, then the response
		respEl = req.ResponseEl
	case "assertion", "unsigned":
		if mode == "assertion" {
			err = req.MakeAssertionEl()
		} else {
			req.AssertionEl = req.Assertion.Element()
		}
		resp := saml.Response{Destination: req.ACSEndpoint.Location, ID: fmt.Sprintf("id-r%d", time.Now().UnixNano()), InResponseTo: req.Request.ID,
			IssueInstant: req.Now, Version: "2.0", Issuer: &saml.Issuer{Value: i.idp.MetadataURL.String()},
			Status: saml.Status{StatusCode: saml.StatusCode{Value: saml.StatusSuccess}}}
		respEl = resp.Element()
		respEl.AddChild(req.AssertionEl)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	doc := etree.NewDocument()
	doc.SetRoot(respEl)
	raw, _ := doc.WriteToString()
	if mode == "tampered" {
		// Someone on the way swaps the address inside the signed assertion.
		raw = strings.ReplaceAll(raw, email, "mallory@"+strings.SplitN(email, "@", 2)[1])
	}
	w.Header().Set("Content-Type", "text/html")
	fmt.Fprintf(w, `<html><form method="post" action="%s"><input type="hidden" name="SAMLResponse" value="%s" /><input type="hidden" name="RelayState" value="%s" /></form></html>`,
		html.EscapeString(req.ACSEndpoint.Location), base64.StdEncoding.EncodeToString([]byte(raw)), html.EscapeString(req.RelayState))
}

// samlTenant creates a tenant whose SAML configuration points at the IdP
// (metadata inline) and enables SSO.
func samlTenant(t *testing.T, s *ssoEnv, idp *samlIdP) (id, domain, entityID string) {
	domain = randomDomain()
	id = s.createTenant("SAML Login Co", domain)
	spPEM, _ := ssotest.Cert(t, "SP", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	entityID = "urn:tenantapi:test-sp:" + id
	s.must(testAdminSecret, qEnableSSO, ssoIn(map[string]any{"tenantId": id, "defaultRole": "DEVELOPER", "provider": map[string]any{"saml": map[string]any{
		"entityId": entityID, "idpMetadataXml": idp.metadataXML(t), "spX509Cert": spPEM, "idpX509Cert": idp.certPEM}}}))
	return id, domain, entityID
}

// samlSignIn runs the browser from the tenant's loginUrl to the IdP's
// auto-posting form, and returns the form.
func (b *browser) samlToIdP(tenantID, returnTo string) (action string, form url.Values) {
	b.t.Helper()
	resp, body := b.get(b.s.srv.URL + "/auth/sso/" + tenantID + "?return_to=" + url.QueryEscape(returnTo))
	m := acsFormRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		b.t.Fatalf("the IdP did not answer its POST form: %d %s", resp.StatusCode, body)
	}
	return html.UnescapeString(m[1]), url.Values{"SAMLResponse": {html.UnescapeString(m[2])}, "RelayState": {html.UnescapeString(m[3])}}
}

func (b *browser) post(u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.PostForm(u, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func newSAMLEnv(t *testing.T) (*ssoEnv, *samlIdP) {
	s := newSSOEnv(t)
	idp := newSAMLIdP(t, s.srv.URL)
	return s, idp
}

// TestSAMLLogin: the SP metadata names the entity id and the ACS; the
// login URL sends an AuthnRequest to the IdP by the HTTP-Redirect binding;
// the IdP's signed response posted to the ACS creates the member (default
// role) and opens a session that GraphQL accepts; the address can also come
// from an `email` attribute, and a signature over the assertion alone
// suffices.
func TestSAMLLogin(t *testing.T) {
	t.Parallel()
	s, idp := newSAMLEnv(t)
	id, domain, entityID := samlTenant(t, s, idp)

	resp, body := s.browser(t).get(s.srv.URL + "/auth/saml/" + id + "/metadata")
	var md saml.EntityDescriptor
	if err := xml.Unmarshal([]byte(body), &md); err != nil || resp.StatusCode != http.StatusOK || md.EntityID != entityID || len(md.SPSSODescriptors) != 1 {
		t.Fatalf("metadata: %d %v %s", resp.StatusCode, err, body)
	}
	d := md.SPSSODescriptors[0]
	if len(d.AssertionConsumerServices) != 1 || d.AssertionConsumerServices[0].Location != s.srv.URL+"/auth/saml/"+id+"/acs" ||
		d.AssertionConsumerServices[0].Binding != saml.HTTPPostBinding || len(d.KeyDescriptors) != 0 || d.AuthnRequestsSigned == nil || *d.AuthnRequestsSigned {
		t.Fatalf("SP descriptor = %+v, want one HTTP-POST ACS below PUBLIC_URL, no keys, unsigned requests", d)
	}
	if resp, _ := s.browser(t).get(s.srv.URL + "/auth/saml/" + s.createTenant("No SAML", randomDomain()) + "/metadata"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("metadata of a tenant without SAML: %d, want 404", resp.StatusCode)
	}

	for _, tc := range []struct {
		name, mode string
		attr       bool
	}{{"NameID", "", false}, {"EmailAttributeAssertionSigned", "assertion", true}} {
		t.Run(tc.name, func(t *testing.T) {
			email := "sam." + strings.ToLower(tc.name) + "@" + domain
			idp.set(strings.ToUpper(email[:1])+email[1:], tc.attr, tc.mode, nil)
			b := s.browser(t)
			action, form := b.samlToIdP(id, "/?tab=saml")
			if action != s.srv.URL+"/auth/saml/"+id+"/acs" {
				t.Fatalf("the IdP posts to %s", action)
			}
			resp, body := b.post(action, form)
			if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/?tab=saml" || b.session() == "" {
				t.Fatalf("ACS answered %d %q: %s", resp.StatusCode, resp.Header.Get("Location"), body)
			}
			v := b.viewer()
			m, _ := v["member"].(map[string]any)
			if m["email"] != email || m["role"] != "DEVELOPER" || m["status"] != "ACTIVE" || m["lastLoginMethod"] != "SSO" {
				t.Fatalf("viewer = %v, want %s, DEVELOPER, ACTIVE, by SSO", v, email)
			}
		})
	}
}

// TestSAMLLoginRefused: every refusal is a page with its reason, and no
// session.
func TestSAMLLoginRefused(t *testing.T) {
	t.Parallel()
	s, idp := newSAMLEnv(t)
	id, domain, _ := samlTenant(t, s, idp)
	past := func(a *saml.Assertion) {
		old := time.Now().Add(-20 * time.Minute)
		a.IssueInstant = old
		a.Conditions.NotBefore, a.Conditions.NotOnOrAfter = old, old.Add(5*time.Minute)
		a.Subject.SubjectConfirmations[0].SubjectConfirmationData.NotOnOrAfter = old.Add(5 * time.Minute)
	}
	cases := []struct {
		name, email, mode string
		adjust            func(*saml.Assertion)
		reason            string
	}{
		{"ErrExpired", "", "", past, "assertion expired"},
		{"ErrWrongAudience", "", "", func(a *saml.Assertion) {
			a.Conditions.AudienceRestrictions[0].Audience.Value = "urn:another:sp"
		}, "not meant for this service provider"},
		{"ErrUnsigned", "", "unsigned", nil, "is not signed"},
		{"ErrTampered", "", "tampered", nil, "signature does not verify"},
		{"ErrForeignDomain", "eve@elsewhere.example", "", nil, "is not in this organisation"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			email := tc.email
			if email == "" {
				email = "bob@" + domain
			}
			idp.set(email, false, tc.mode, tc.adjust)
			b := s.browser(t)
			action, form := b.samlToIdP(id, "/")
			resp, body := b.post(action, form)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, tc.reason) || resp.Header.Get("Content-Security-Policy") == "" {
				t.Fatalf("got %d %s, want 403 with %q", resp.StatusCode, body, tc.reason)
			}
			if b.session() != "" {
				t.Fatal("a refused sign-in left a session cookie")
			}
		})
	}

	t.Run("ErrReplayed", func(t *testing.T) {
		idp.set("carol@"+domain, false, "", nil)
		b := s.browser(t)
		action, form := b.samlToIdP(id, "/")
		if resp, body := b.post(action, form); resp.StatusCode != http.StatusFound {
			t.Fatalf("first post: %d %s", resp.StatusCode, body)
		}
		// The same response again, from a browser holding the same state
		// cookie (a stolen form and cookie).
		other := s.browser(t)
		other.jar.SetCookies(mustURL(s.srv.URL), []*http.Cookie{{Name: "__Host-tenant_saml_state", Value: form.Get("RelayState"), Path: "/"}})
		resp, body := other.post(action, form)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "already used") || other.session() != "" {
			t.Fatalf("replay: %d %s", resp.StatusCode, body)
		}
		// Had the single-use state survived, the assertion id would still
		// be refused: put the state back and post again.
		var seen string
		if err := s.env.raw().Get(&seen, `SELECT assertion_id FROM saml_assertions_seen WHERE tenant_id = $1`, id); err != nil {
			t.Fatal(err)
		}
		xmlResp, _ := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
		inResponseTo := regexp.MustCompile(`InResponseTo="([^"]+)"`).FindSubmatch(xmlResp)
		if _, err := s.env.raw().Exec(`INSERT INTO sso_login_states (state_hash, tenant_id, nonce, verifier, return_to, created_at, expires_at)
			VALUES ($1, $2, $3, '', '/', now(), now() + interval '5 minutes')`, tenant.HashToken(form.Get("RelayState")), id, string(inResponseTo[1])); err != nil {
			t.Fatal(err)
		}
		other.jar.SetCookies(mustURL(s.srv.URL), []*http.Cookie{{Name: "__Host-tenant_saml_state", Value: form.Get("RelayState"), Path: "/"}})
		resp, body = other.post(action, form)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "assertion was already used") || other.session() != "" {
			t.Fatalf("replayed assertion: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("ErrNotStartedHere", func(t *testing.T) {
		idp.set("dave@"+domain, false, "", nil)
		action, form := s.browser(t).samlToIdP(id, "/")
		other := s.browser(t) // no state cookie
		resp, body := other.post(action, form)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "RelayState does not match") || other.session() != "" {
			t.Fatalf("another browser: %d %s", resp.StatusCode, body)
		}
	})

	var n int
	if err := s.env.raw().Get(&n, `SELECT count(*) FROM sessions s JOIN members m ON m.id = s.member_id WHERE s.tenant_id = $1 AND m.email <> $2`, id, "carol@"+domain); err != nil || n != 0 {
		t.Fatalf("sessions after refusals = %d, %v; want 0", n, err)
	}
}
