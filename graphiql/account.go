package graphiql

import (
	"bytes"
	"html/template"
	"net/http"
)

// The pages the members' emails link to (resolvers' tokenInstructions):
// AcceptInvitationPath#token=… and ResetPasswordPath#token=…. The token
// stays in the URL's fragment, which browsers never send, so it reaches no
// server log; the page's script reads it and calls acceptInvitation (with
// cookie: true: signed in, on to GraphiQL) or resetPassword (then on to the
// sign-in page). Same embedded assets and CSP as the sign-in page.
const (
	AcceptInvitationPath = "/accept-invitation"
	ResetPasswordPath    = "/reset-password"
)

var accountPage = template.Must(template.New("account").Parse(`<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{.Heading}} · {{.Title}}</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="{{.Style.URL}}" integrity="{{.Style.Integrity}}" crossorigin="anonymous">
  </head>
  <body>
    <main class="signin">
      <h1>{{.Heading}}</h1>
      <p class="lead">{{.Lead}}</p>
      <form id="account" data-mode="{{.Mode}}" data-endpoint="{{.Endpoint}}" novalidate>
        {{if eq .Mode "invitation"}}<label for="name">Your name</label>
        <input id="name" name="name" type="text" autocomplete="name" maxlength="200" required autofocus>
        {{end}}<label for="password">{{if eq .Mode "invitation"}}Choose a password{{else}}New password{{end}} (12 to 128 characters)</label>
        <input id="password" name="password" type="password" autocomplete="new-password" minlength="12" maxlength="128" required{{if ne .Mode "invitation"}} autofocus{{end}}>
        <button id="submit" type="submit">{{.Button}}</button>
        <p id="message" class="message" role="alert"></p>
      </form>
      <p id="done" hidden>Your password is changed and every session ended. <a href="/signin">Sign in</a> with the new one.</p>
    </main>
    <noscript>This page needs JavaScript.</noscript>
    <script src="{{.Script.URL}}" integrity="{{.Script.Integrity}}" crossorigin="anonymous"></script>
  </body>
</html>
`))

const fileAccountJS = "account.js"

// AcceptInvitationHandler serves the page an invitation email links to.
func AcceptInvitationHandler(title, endpoint string) http.Handler {
	return accountHandler(title, endpoint, "invitation", "Join your team",
		"You were invited to a tenant of this API: choose your password to accept.", "Accept and sign in")
}

// ResetPasswordHandler serves the page a password-reset email links to.
func ResetPasswordHandler(title, endpoint string) http.Handler {
	return accountHandler(title, endpoint, "reset", "Choose a new password",
		"Setting it ends every session of your account.", "Change password")
}

func accountHandler(title, endpoint, mode, heading, lead, button string) http.Handler {
	var buf bytes.Buffer
	if err := accountPage.Execute(&buf, struct {
		Title, Endpoint, Mode, Heading, Lead, Button string
		Style, Script                                pageRef
	}{title, endpoint, mode, heading, lead, button, assetRef(fileSignInCSS), assetRef(fileAccountJS)}); err != nil {
		panic("graphiql: rendering the account page: " + err.Error())
	}
	return accountPageHandler(buf.Bytes())
}
