package ssotest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// A minimal OpenID Connect provider for the authorization code flow with
// PKCE: /authorize signs in the user set by SetUser at once (no page) and
// redirects back with a code; /token redeems it, checking the client
// secret, the redirect URI and the S256 code verifier, and returns an ID
// token signed with the key the JWKS lists. Adjust and TamperIDToken make
// it misbehave for tests of refusals.

// ClientSecret is the secret the IdP expects of every client.
const ClientSecret = "test-client-secret-0123456789abcdef"

type oidcState struct {
	email    string
	name     string
	adjust   func(claims map[string]any)
	tamper   bool
	foreign  bool // sign with a key the JWKS does not list
	codes    map[string]codeGrant
	lastAuth url.Values
}

type codeGrant struct {
	clientID, redirectURI, nonce, challenge string
}

// SetUser is who the IdP signs in (email claim) with name.
func (i *IdP) SetUser(email, name string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.oidc.email, i.oidc.name = email, name
}

// Adjust changes the claims of the next ID tokens (nil restores them).
func (i *IdP) Adjust(f func(claims map[string]any)) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.oidc.adjust = f
}

// TamperIDToken makes the next ID tokens altered after signing (a changed
// email in the payload), or signed with a key the JWKS does not list
// (foreignKey).
func (i *IdP) TamperIDToken(tamper, foreignKey bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.oidc.tamper, i.oidc.foreign = tamper, foreignKey
}

// LastAuthorization is the query of the last /authorize request.
func (i *IdP) LastAuthorization() url.Values {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.oidc.lastAuth
}

func (i *IdP) issuerURL() string {
	if i.issuer != "" {
		return i.issuer
	}
	return i.Server.URL
}

func (i *IdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	i.mu.Lock()
	i.oidc.lastAuth = q
	i.mu.Unlock()
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
		q.Get("state") == "" || q.Get("nonce") == "" || !strings.Contains(q.Get("scope"), "openid") {
		http.Error(w, "authorize: need response_type=code, S256 PKCE, state, nonce, scope openid", http.StatusBadRequest)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Host == "" {
		http.Error(w, "authorize: bad redirect_uri", http.StatusBadRequest)
		return
	}
	code := randomString()
	i.mu.Lock()
	i.oidc.codes[code] = codeGrant{clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), nonce: q.Get("nonce"), challenge: q.Get("code_challenge")}
	i.mu.Unlock()
	back := redirect.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (i *IdP) token(w http.ResponseWriter, r *http.Request) {
	fail := func(code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
	}
	if err := r.ParseForm(); err != nil {
		fail("invalid_request")
		return
	}
	clientID, secret, ok := r.BasicAuth()
	if ok {
		clientID, _ = url.QueryUnescape(clientID)
		secret, _ = url.QueryUnescape(secret)
	} else {
		clientID, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	i.mu.Lock()
	g, found := i.oidc.codes[r.PostForm.Get("code")]
	delete(i.oidc.codes, r.PostForm.Get("code"))
	st := i.oidc
	issuer := i.issuerURL()
	i.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case secret != ClientSecret:
		fail("invalid_client")
		return
	case r.PostForm.Get("grant_type") != "authorization_code" || !found || g.clientID != clientID ||
		g.redirectURI != r.PostForm.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		fail("invalid_grant")
		return
	}
	now := time.Now()
	claims := map[string]any{"iss": issuer, "sub": "user-" + st.email, "aud": clientID, "iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(), "nonce": g.nonce, "email": st.email, "email_verified": true, "name": st.name}
	if st.adjust != nil {
		st.adjust(claims)
	}
	key := i.key
	if st.foreign {
		key, _ = rsa.GenerateKey(rand.Reader, 2048)
	}
	idToken := sign(key, claims)
	if st.tamper {
		parts := strings.Split(idToken, ".")
		claims["email"] = "ceo@" + strings.SplitN(st.email, "@", 2)[1]
		payload, _ := json.Marshal(claims)
		parts[1] = base64.RawURLEncoding.EncodeToString(payload)
		idToken = strings.Join(parts, ".")
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": randomString(), "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
}

func sign(key *rsa.PrivateKey, claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "test-key-1").WithType("JWT"))
	if err != nil {
		panic(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		panic(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		panic(err)
	}
	return out
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
