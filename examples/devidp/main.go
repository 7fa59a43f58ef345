// Command devidp is an OpenID Connect provider to try the API's SSO login
// by hand, on this machine: it signs in one person (-email) at once, with
// no page, through the authorization code flow with PKCE, and signs ID
// tokens with a key its JWKS lists. It is sso/ssotest's IdP, the one the
// tests sign in through. Its TLS certificate is self-signed: the API trusts
// it through SSL_CERT_FILE, a browser after one warning.
//
//	go run ./examples/devidp            # then follow what it prints
package main

import (
	"encoding/pem"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"

	"tenantapi/sso/ssotest"
)

func main() {
	email := flag.String("email", "ana@acme.fr", "who the provider signs in (the tenant's domain decides which tenant)")
	name := flag.String("name", "Ana Example", "their name")
	certOut := flag.String("cert-out", ".data/devidp.pem", "where to write the provider's TLS certificate, for the API's SSL_CERT_FILE")
	api := flag.String("api", "http://localhost:8080", "the API's PUBLIC_URL, for the printed commands")
	flag.Parse()

	idp, err := ssotest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer idp.Server.Close()
	idp.SetUser(*email, *name)
	if err := os.MkdirAll(filepath.Dir(*certOut), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*certOut, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: idp.Server.Certificate().Raw}), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf(`Development OpenID Connect provider at %[1]s: it signs in %[2]s at once.

1. Run the API trusting it (in place of a plain make run):
     EGRESS_ALLOW_PRIVATE=true SSL_CERT_FILE=%[3]s make run
2. Save and test SSO for the demo tenant (acme.fr) with its operator secret:
     curl -s %[4]s/graphql -H 'Content-Type: application/json' -H "Authorization: Bearer $(cat .data/admin-secret)" \
       -d '{"query": "mutation { enableSso(input: {tenantId: \"00000000-0000-4000-8000-000000000001\", defaultRole: DEVELOPER, provider: {oidc: {clientId: \"tenant-api-dev\", clientSecret: \"%[5]s\", discoveryUrl: \"%[1]s\", redirectUri: \"https://localhost/unused\"}}}) { sso { status loginUrl } } }"}'
     curl -s %[4]s/graphql -H 'Content-Type: application/json' -H "Authorization: Bearer $(cat .data/admin-secret)" \
       -d '{"query": "mutation { testSso(input: {tenantId: \"00000000-0000-4000-8000-000000000001\"}) { sso { status lastTestResult } } }"}'
3. Open %[4]s/signin, type %[2]s, Continue with SSO (accept this provider's
   self-signed certificate once): you land in GraphiQL signed in.

Ctrl-C stops it.
`, idp.Server.URL, *email, *certOut, *api, ssotest.ClientSecret)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	<-stop
}
