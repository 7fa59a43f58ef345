package graphiql

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
)

// SignInPath is where SignInHandler is meant to be mounted; GraphiQL's
// page links to it.
const SignInPath = "/signin"

// The sign-in page: an email field; then, as the server's methods endpoint
// answers for the address's domain, the environment to sign in to (a
// domain has up to one tenant per environment; production unless
// ?environment= says otherwise) and, for it, a password field (the login
// mutation with cookie: true and the environment) and/or a "Continue with
// SSO" button (that tenant's SSO login URL with return_to). Either ends on return_to (default "/",
// GraphiQL) holding the session in the HttpOnly cookie: the page's script
// never sees it. Like GraphiQL's page, it loads only this origin's
// embedded files, with no inline code.
var signInPage = template.Must(template.New("signin").Parse(`<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{.Title}}</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="{{.Style.URL}}" integrity="{{.Style.Integrity}}" crossorigin="anonymous">
  </head>
  <body>
    <main class="signin">
      <h1>Sign in</h1>
      <p class="lead">Then use your tenant's dashboard, or explore the API in GraphiQL as yourself: no key to paste.</p>
      <form id="signin" data-endpoint="{{.Endpoint}}" data-methods="{{.Methods}}" novalidate>
        <label for="email">Work email</label>
        <input id="email" name="email" type="email" autocomplete="username" required autofocus>
        <div id="environment-step" hidden>
          <label for="environment">Environment</label>
          <select id="environment" name="environment"></select>
        </div>
        <div id="password-step" hidden>
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password">
        </div>
        <button id="continue" type="submit">Continue</button>
        <p id="or" class="or" hidden>or</p>
        <button id="sso" type="button" hidden>Continue with SSO</button>
        <p id="message" class="message" role="alert"></p>
      </form>
      <p class="alt"><a href="/">Open GraphiQL without signing in</a> (with an API key in its Headers pane).</p>
    </main>
    <noscript>Signing in needs JavaScript.</noscript>
    <script src="{{.Script.URL}}" integrity="{{.Script.Integrity}}" crossorigin="anonymous"></script>
  </body>
</html>
`))

// Embedded files of the sign-in page, in assets/.
const (
	fileSignInJS  = "signin.js"
	fileSignInCSS = "signin.css"
)

// SignInHandler serves the sign-in page (mount it at GET SignInPath; its
// assets are served by Handler). endpoint is the GraphQL endpoint's path,
// methods the path of the endpoint that answers, for ?email=, how the
// address signs in: {"environment", "sso": <login URL or null>,
// "password": <bool>, "environments": [the same for each environment]}.
func SignInHandler(title, endpoint, methods string) http.Handler {
	var buf bytes.Buffer
	err := signInPage.Execute(&buf, struct {
		Title, Endpoint, Methods string
		Style, Script            pageRef
	}{title, endpoint, methods, assetRef(fileSignInCSS), assetRef(fileSignInJS)})
	if err != nil {
		panic("graphiql: rendering the sign-in page: " + err.Error())
	}
	return accountPageHandler(buf.Bytes())
}

// accountPageHandler serves a rendered sign-in or account page. Its script
// talks to this origin only and then navigates, which CSP does not
// restrict: to GraphiQL, or to an SSO login URL. form-action 'none': its
// forms are never submitted by the browser, so a password can never end up
// in a URL.
func accountPageHandler(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	})
}
