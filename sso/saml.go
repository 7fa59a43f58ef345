package sso

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crewjam/saml"

	"tenantapi/tenant"
)

// SAML 2.0 SP-initiated login with crewjam/saml (docs/sso.md). Each tenant
// is its own service provider: its entity id is the configuration's
// entityId, its Assertion Consumer Service is
// PUBLIC_URL/auth/saml/<tenant id>/acs. The service provider signs nothing
// and decrypts nothing (the configuration holds no SP private key), so its
// metadata lists no key: identity providers then send assertions in clear
// over TLS. Responses are verified with the saved idpX509Cert only, never
// with a certificate found in the metadata or in the response.

// SAMLPath is where this deployment serves SAML service providers, one per
// tenant below it: <SAMLPath>/<tenant id>/{metadata,login,acs}.
const SAMLPath = "/auth/saml"

// The attributes that may carry the address when the NameID is not in the
// emailAddress format: `email`, LDAP's mail and the claim URI of Entra ID
// and AD FS.
var samlEmailAttributes = []string{"email", "mail", "urn:oid:0.9.2342.19200300.100.1.3",
	"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"}

var samlNameAttributes = []string{"name", "displayName", "cn", "urn:oid:2.16.840.1.113730.3.1.241",
	"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"}

// SAMLServiceProvider is the service provider of l's tenant below
// publicURL, without its identity provider's metadata (enough for the SP
// metadata).
func SAMLServiceProvider(l *tenant.SSOLogin, publicURL string) *saml.ServiceProvider {
	base := publicURL + SAMLPath + "/" + l.TenantID
	meta, _ := url.Parse(base + "/metadata")
	acs, _ := url.Parse(base + "/acs")
	sp := &saml.ServiceProvider{
		EntityID:          l.EntityID,
		MetadataURL:       *meta,
		AcsURL:            *acs,
		AuthnNameIDFormat: saml.EmailAddressNameIDFormat,
	}
	if cert, err := parseCert(l.IdpX509Cert); err == nil {
		// Only the saved certificate verifies signatures.
		der := base64.StdEncoding.EncodeToString(cert.Raw)
		sp.IDPCertificate = &der
	}
	return sp
}

// SAMLMetadata is the SP metadata of l's tenant: the entity id, the ACS
// (HTTP-POST binding only) and the NameID format emailAddress; no keys.
func SAMLMetadata(l *tenant.SSOLogin, publicURL string) *saml.EntityDescriptor {
	ed := SAMLServiceProvider(l, publicURL).Metadata()
	for i := range ed.SPSSODescriptors {
		d := &ed.SPSSODescriptors[i]
		// crewjam also lists an HTTP-Artifact ACS; artifacts are refused.
		var post []saml.IndexedEndpoint
		for _, e := range d.AssertionConsumerServices {
			if e.Binding == saml.HTTPPostBinding {
				post = append(post, e)
			}
		}
		d.AssertionConsumerServices = post
	}
	return ed
}

// samlProvider is the service provider with its identity provider's
// metadata, fetched from idpMetadataUrl or read from the saved XML.
func (c *Checker) samlProvider(ctx context.Context, l *tenant.SSOLogin, publicURL string) (*saml.ServiceProvider, *Problem) {
	if l.IdpX509Cert == "" {
		return nil, problemf("the configuration has no IdP certificate; save it again with idpX509Cert")
	}
	sp := SAMLServiceProvider(l, publicURL)
	if sp.IDPCertificate == nil {
		return nil, problemf("idpX509Cert does not parse as a PEM certificate; save the configuration again")
	}
	data, where := []byte(l.IdpMetadataXML), "the IdP metadata given as idpMetadataXml"
	if l.IdpMetadataURL != "" {
		where = "the IdP metadata at " + l.IdpMetadataURL
		var prob *Problem
		if data, prob = c.fetch(ctx, "fetching the IdP metadata at "+l.IdpMetadataURL, l.IdpMetadataURL); prob != nil {
			return nil, prob
		}
	}
	ed, err := ParseMetadata(data)
	if err != nil {
		return nil, problemf("%s is not SAML 2.0 metadata: %s", where, clip(err.Error()))
	}
	sp.IDPMetadata = ed
	return sp, nil
}

// SAMLAuthnRequest is where the browser starts the login at the identity
// provider (HTTP-Redirect binding, unsigned AuthnRequest), and the
// request's id, which the response's InResponseTo must repeat.
// relayState must be URL-safe (crewjam/saml does not escape it).
func (c *Checker) SAMLAuthnRequest(ctx context.Context, l *tenant.SSOLogin, publicURL, relayState string) (to, requestID string, prob *Problem) {
	sp, prob := c.samlProvider(ctx, l, publicURL)
	if prob != nil {
		return "", "", prob
	}
	dest := sp.GetSSOBindingLocation(saml.HTTPRedirectBinding)
	if dest == "" {
		return "", "", problemf("the IdP metadata lists no SingleSignOnService with the HTTP-Redirect binding")
	}
	req, err := sp.MakeAuthenticationRequest(dest, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return "", "", problemf("the SAML request could not be made")
	}
	u, err := req.Redirect(relayState, sp)
	if err != nil {
		return "", "", problemf("the IdP's SingleSignOnService location is not a URL")
	}
	return u.String(), req.ID, nil
}

// SAMLIdentity is who a verified assertion vouches for.
type SAMLIdentity struct {
	Email string
	Name  string
	// AssertionID is accepted once, until Expires (its NotOnOrAfter).
	AssertionID string
	Expires     time.Time
}

// SAMLAssertion verifies the SAML response that r posted (HTTP-POST
// binding; r's form is parsed) with crewjam/saml: the IdP's signature with
// idpX509Cert over the assertion (or over the whole response), the issuer,
// the destination and recipient (this ACS), the audience (the entity id),
// InResponseTo = requestID, IssueInstant, NotBefore and NotOnOrAfter with
// crewjam's clock skew. It then reads the address from the NameID
// (emailAddress format) or an email attribute.
func (c *Checker) SAMLAssertion(ctx context.Context, l *tenant.SSOLogin, publicURL string, r *http.Request, requestID string) (*SAMLIdentity, *Problem) {
	if r.PostForm.Get("SAMLart") != "" || r.URL.Query().Get("SAMLart") != "" {
		return nil, problemf("the identity provider sent an artifact; only the HTTP-POST binding is supported")
	}
	if r.PostForm.Get("SAMLResponse") == "" {
		return nil, problemf("the request carries no SAMLResponse")
	}
	sp, prob := c.samlProvider(ctx, l, publicURL)
	if prob != nil {
		return nil, prob
	}
	a, err := parseResponse(sp, r, requestID)
	if err != nil {
		return nil, samlProblem(err, sp)
	}
	id := &SAMLIdentity{AssertionID: a.ID, Expires: samlExpiry(a)}
	if a.Subject != nil && a.Subject.NameID != nil && a.Subject.NameID.Format == string(saml.EmailAddressNameIDFormat) {
		id.Email = strings.TrimSpace(a.Subject.NameID.Value)
	}
	if id.Email == "" {
		id.Email = samlAttribute(a, samlEmailAttributes)
	}
	if id.Email == "" || !strings.Contains(id.Email, "@") {
		return nil, problemf("the assertion carries no address: its NameID must have the format emailAddress, or an attribute named email must hold it")
	}
	id.Email = strings.ToLower(id.Email)
	id.Name = samlAttribute(a, samlNameAttributes)
	if id.AssertionID == "" {
		return nil, problemf("the assertion has no ID")
	}
	return id, nil
}

// parseResponse is sp.ParseResponse, which in crewjam/saml v0.5.1 panics
// on a signed assertion without Subject or Conditions.
func parseResponse(sp *saml.ServiceProvider, r *http.Request, requestID string) (a *saml.Assertion, err error) {
	defer func() {
		if recover() != nil {
			a, err = nil, errors.New("unmarshal: the assertion lacks its Subject or Conditions")
		}
	}()
	return sp.ParseResponse(r, []string{requestID})
}

// samlExpiry is how long an assertion could still be accepted: its latest
// NotOnOrAfter plus the clock skew, at least its IssueInstant's window.
func samlExpiry(a *saml.Assertion) time.Time {
	exp := a.IssueInstant.Add(saml.MaxIssueDelay)
	if a.Conditions != nil && a.Conditions.NotOnOrAfter.After(exp) {
		exp = a.Conditions.NotOnOrAfter
	}
	if a.Subject != nil {
		for _, sc := range a.Subject.SubjectConfirmations {
			if sc.SubjectConfirmationData != nil && sc.SubjectConfirmationData.NotOnOrAfter.After(exp) {
				exp = sc.SubjectConfirmationData.NotOnOrAfter
			}
		}
	}
	return exp.Add(saml.MaxClockSkew)
}

func samlAttribute(a *saml.Assertion, names []string) string {
	for _, want := range names {
		for _, st := range a.AttributeStatements {
			for _, at := range st.Attributes {
				if !strings.EqualFold(at.Name, want) && !strings.EqualFold(at.FriendlyName, want) {
					continue
				}
				for _, v := range at.Values {
					if s := strings.TrimSpace(v.Value); s != "" {
						return s
					}
				}
			}
		}
	}
	return ""
}

// samlProblem words crewjam/saml's private cause (never shown as is: it
// may quote the response) as a safe reason.
func samlProblem(err error, sp *saml.ServiceProvider) *Problem {
	var ire *saml.InvalidResponseError
	cause := err
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		cause = ire.PrivateErr
	}
	var bad saml.ErrBadStatus
	if errors.As(cause, &bad) {
		return problemf("the identity provider refused the sign-in (status %s)", clip(bad.Status))
	}
	msg := cause.Error()
	switch {
	case strings.Contains(msg, "signature element not present"):
		return problemf("the assertion is not signed: the identity provider must sign the assertion (or the response) with the certificate saved as idpX509Cert")
	case strings.Contains(msg, "cannot validate signature"), strings.Contains(msg, "Signature could not be verified"):
		return problemf("the signature does not verify with the certificate saved as idpX509Cert: the response was altered or signed by someone else")
	case strings.Contains(msg, "AudienceRestriction"):
		return problemf("the assertion is not meant for this service provider: its audience is not %s", clip(sp.EntityID))
	case strings.Contains(msg, "expired"):
		return problemf("the assertion expired (it is older than its validity window, with %s of clock skew allowed)", saml.MaxClockSkew)
	case strings.Contains(msg, "not yet valid"):
		return problemf("the assertion is not valid yet (NotBefore is in the future beyond %s of clock skew)", saml.MaxClockSkew)
	case strings.Contains(msg, "InResponseTo"), strings.Contains(msg, "possible request IDs"):
		return problemf("the response does not answer this sign-in request (InResponseTo does not match): start again from your organisation's login URL")
	case strings.Contains(msg, "Destination"), strings.Contains(msg, "Recipient"):
		return problemf("the response was sent to another service provider (its Destination or Recipient is not %s)", sp.AcsURL.String())
	case strings.Contains(msg, "Issuer"), strings.Contains(msg, "issuer"):
		return problemf("the response was issued by another identity provider than %s", clip(sp.IDPMetadata.EntityID))
	case strings.Contains(msg, "base64"), strings.Contains(msg, "xml"), strings.Contains(msg, "unmarshal"):
		return problemf("the SAML response is malformed")
	case strings.Contains(msg, "decrypt"):
		return problemf("the assertion is encrypted, but this service provider has no decryption key: turn assertion encryption off at the identity provider")
	}
	return problemf("the SAML response is not valid")
}
