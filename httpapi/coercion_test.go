package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// This file checks input coercion (issue 11 §8) through the real handler:
// the built-in scalars coerce as the GraphQL spec says ("5" is not an Int, 5
// is not a String), text that the JSON decoder damaged (U+FFFD from an
// invalid byte or a lone surrogate) is refused naming the field, NUL is
// refused in every text, and control characters in one-line texts. Each
// refusal is BAD_USER_INPUT naming the field, and nothing is saved.

const (
	qUpdateName = `mutation($in: UpdateTenantInput!) { updateTenant(input: $in) { tenant { name } } }`
	qTenantName = `query($id: ID!) { tenant(id: $id) { name } }`
)

// postRaw POSTs body as it is (bytes JSON encoding would have repaired).
func (e *env) postRaw(token string, body []byte) *result {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return e.do(req)
}

// tenantName reads a tenant's stored name.
func (e *env) tenantName(id string) string {
	e.t.Helper()
	var out struct{ Tenant struct{ Name string } }
	e.mustGQL(testAdminSecret, qTenantName, map[string]any{"id": id}, &out)
	return out.Tenant.Name
}

// wantInputRefused checks r is one BAD_USER_INPUT error naming field, with a
// message that starts with the field and contains msg.
func wantInputRefused(t *testing.T, r *result, field, msg string) {
	t.Helper()
	if r.Status != http.StatusOK || len(r.Errors) != 1 || r.Code() != "BAD_USER_INPUT" || r.Field() != field ||
		!strings.HasPrefix(r.Errors[0].Message, field+" ") || !strings.Contains(r.Errors[0].Message, msg) {
		t.Fatalf("got %d %s\nwant BAD_USER_INPUT field %q message %q", r.Status, r.Raw, field, msg)
	}
}

// TestCoercionIntRefusesString: "5" for an Int is an error, by variable
// (gqlparser's variable check lets a numeric string through) and as a
// literal (refused by validation), and no grant is saved.
func TestCoercionIntRefusesString(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Coerce Int", randomDomain())

	t.Run("ErrVariable", func(t *testing.T) {
		r := e.withT(t).ask(testAdminSecret, `mutation($id: ID, $a: Int!) { grantCredits(input: {tenantId: $id, amount: $a, reason: "x"}) { grant { amount } } }`,
			map[string]any{"id": id, "a": "5"})
		wantInputRefused(t, r, "amount", "amount must be an Int (a whole number from -2147483648 to 2147483647, not in quotes), got a string")
	})
	t.Run("ErrInputVariable", func(t *testing.T) {
		r := e.withT(t).ask(testAdminSecret, qGrantCredits, map[string]any{"in": map[string]any{"tenantId": id, "amount": "5", "reason": "x"}})
		wantInputRefused(t, r, "amount", "got a string")
	})
	t.Run("ErrOutOfRange", func(t *testing.T) {
		r := e.withT(t).ask(testAdminSecret, qUpdateName, map[string]any{"in": map[string]any{"tenantId": id, "name": "x", "expectedVersion": 1 << 31}})
		wantInputRefused(t, r, "expectedVersion", "must be an Int from -2147483648 to 2147483647, got the number 2147483648")
	})
	t.Run("ErrLiteral", func(t *testing.T) {
		r := e.withT(t).ask(testAdminSecret, `mutation($id: ID) { grantCredits(input: {tenantId: $id, amount: "5", reason: "x"}) { grant { amount } } }`,
			map[string]any{"id": id})
		if r.Code() != "GRAPHQL_VALIDATION_FAILED" || !strings.Contains(r.Errors[0].Message, `Int cannot represent non-integer value: "5"`) {
			t.Fatalf("got %d %s", r.Status, r.Raw)
		}
	})
	t.Run("OKWholeNumber", func(t *testing.T) {
		// JSON has one number type: 7.0 is the integer 7 (as in graphql-js).
		var out struct {
			GrantCredits struct{ Grant struct{ Amount int } }
		}
		e.withT(t).mustGQL(testAdminSecret, qGrantCredits, map[string]any{"in": map[string]any{"tenantId": id, "amount": 7.0, "reason": "whole"}}, &out)
		if out.GrantCredits.Grant.Amount != 7 {
			t.Fatalf("amount = %d", out.GrantCredits.Grant.Amount)
		}
	})

	var out struct {
		Tenant struct{ Credits struct{ Granted int } }
	}
	e.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { credits { granted } } }`, map[string]any{"id": id}, &out)
	if out.Tenant.Credits.Granted != 7 {
		t.Fatalf("credits granted = %d, want 7 (only the whole-number grant)", out.Tenant.Credits.Granted)
	}
}

// TestCoercionStringRefusesNumber: 5 for a String is an error (a JSON number
// passes gqlparser's variable check, which sees json.Number as a string),
// and an ID is a string or a whole number. (true for a String, 5.5 for an
// Int, "true" for a Boolean are already refused by that check, before
// execution, as GRAPHQL_VALIDATION_FAILED.)
func TestCoercionStringRefusesNumber(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Coerce String", randomDomain())
	for _, c := range []struct {
		name  string
		in    map[string]any
		field string
		msg   string
	}{
		{"ErrNumber", map[string]any{"name": 5}, "name", "name must be a String (text in quotes), got the number 5"},
		{"ErrIDFraction", map[string]any{"tenantId": 1.5, "name": "x"}, "tenantId", "tenantId must be an ID (a string, or a whole number), got the number 1.5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, ok := c.in["tenantId"]; !ok {
				c.in["tenantId"] = id
			}
			wantInputRefused(t, e.withT(t).ask(testAdminSecret, qUpdateName, map[string]any{"in": c.in}), c.field, c.msg)
		})
	}
	t.Run("ErrKeywordNumber", func(t *testing.T) {
		r := e.withT(t).ask(testAdminSecret, `mutation($in: UpdateKeywordsInput!) { updateKeywords(input: $in) { __typename } }`,
			map[string]any{"in": map[string]any{"tenantId": id, "keywords": []any{"ok", 12}}})
		wantInputRefused(t, r, "keywords[1]", "keywords[1] must be a String")
	})
	if got := e.tenantName(id); got != "Coerce String" {
		t.Fatalf("name = %q after refusals", got)
	}
}

// TestCoercionDamagedText: an invalid UTF-8 byte and a lone surrogate
// escape become U+FFFD in the JSON decoder; the field is refused instead of
// storing U+FFFD.
func TestCoercionDamagedText(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Intact Name", randomDomain())
	body := func(name string) []byte {
		return []byte(`{"query":"mutation($in: UpdateTenantInput!) { updateTenant(input: $in) { tenant { name } } }","variables":{"in":{"tenantId":"` + id + `","name":"` + name + `"}}}`)
	}

	t.Run("ErrLoneSurrogate", func(t *testing.T) {
		r := e.withT(t).postRaw(testAdminSecret, body(`Acme \ud800 Corp`))
		wantInputRefused(t, r, "name", "name must be valid UTF-8 text: character 6 is U+FFFD")
	})
	t.Run("ErrInvalidByte", func(t *testing.T) {
		r := e.withT(t).postRaw(testAdminSecret, body("Acme \xff Corp"))
		// The transport may refuse a body that is not UTF-8 as a whole
		// (400); otherwise the field is refused here.
		if r.Status == http.StatusBadRequest && (r.Code() == "BAD_USER_INPUT" || r.Code() == "BAD_REQUEST") {
			return
		}
		wantInputRefused(t, r, "name", "name must be valid UTF-8 text: character 6 is U+FFFD")
	})
	t.Run("ErrReplacementCharacter", func(t *testing.T) {
		// U+FFFD sent on purpose cannot be told from a decoding loss.
		r := e.withT(t).ask(testAdminSecret, qUpdateName, map[string]any{"in": map[string]any{"tenantId": id, "name": "Acme \uFFFD"}})
		wantInputRefused(t, r, "name", "U+FFFD")
	})
	t.Run("ErrLiteral", func(t *testing.T) {
		r := e.withT(t).ask(testAdminSecret, `mutation($id: ID) { updateTenant(input: {tenantId: $id, name: "Acme \ud800"}) { tenant { name } } }`, map[string]any{"id": id})
		if r.Code() != "GRAPHQL_PARSE_FAILED" {
			wantInputRefused(t, r, "name", "U+FFFD")
		}
	})
	t.Run("OKOtherScripts", func(t *testing.T) {
		// Valid non-ASCII text, astral characters included, passes intact.
		r := e.withT(t).postRaw(testAdminSecret, body(`Ac\u00e9me \ud83d\ude80 東京`))
		if len(r.Errors) != 0 || !strings.Contains(string(r.Data), "Acéme 🚀 東京") {
			t.Fatalf("got %s", r.Raw)
		}
	})
	if got := e.tenantName(id); got != "Acéme 🚀 東京" {
		t.Fatalf("name = %q, want only the valid rename saved", got)
	}
}

// TestCoercionNUL: NUL is refused in every text, secrets included, and in
// multi-line texts; nothing is saved.
func TestCoercionNUL(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	id := s.createTenant("NUL Co", randomDomain())

	t.Run("ErrName", func(t *testing.T) {
		r := s.withT(t).ask(testAdminSecret, qUpdateName, map[string]any{"in": map[string]any{"tenantId": id, "name": "Acme\x00Corp"}})
		wantInputRefused(t, r, "name", "name must not contain control characters: NUL (U+0000) found at character 5")
	})
	t.Run("ErrClientSecret", func(t *testing.T) {
		r := s.withT(t).ask(testAdminSecret, qEnableSSO, ssoIn(map[string]any{"tenantId": id, "provider": s.oidc("secret\x00-" + randomHex(8))}))
		wantInputRefused(t, r, "provider.oidc.clientSecret", "NUL (U+0000) found at character 7")
		if strings.Contains(string(r.Raw), "secret") && strings.Contains(string(r.Raw), "\\u0000") {
			t.Fatalf("the refusal repeats the secret: %s", r.Raw)
		}
	})
	t.Run("ErrMultiLine", func(t *testing.T) {
		saml := s.samlURL(t)
		saml["saml"].(map[string]any)["spX509Cert"] = "-----BEGIN CERTIFICATE-----\n\x00\n-----END CERTIFICATE-----\n"
		r := s.withT(t).ask(testAdminSecret, qEnableSSO, ssoIn(map[string]any{"tenantId": id, "provider": saml}))
		wantInputRefused(t, r, "provider.saml.spX509Cert", "NUL (U+0000) found at character 29")
	})
	t.Run("ErrFilter", func(t *testing.T) {
		r := s.withT(t).ask(testAdminSecret, `query($f: TenantFilter) { tenants(filter: $f) { totalCount } }`, map[string]any{"f": map[string]any{"search": "a\x00"}})
		wantInputRefused(t, r, "filter.search", "NUL (U+0000)")
	})
	s.wantNotConfigured(t, id)
	if got := s.tenantName(id); got != "NUL Co" {
		t.Fatalf("name = %q after refusals", got)
	}
}

// TestCoercionControlCharacters: one-line texts refuse control characters
// (CR, LF, BEL, tab, DEL, C1, U+2028); multi-line texts (a PEM certificate)
// keep their line breaks.
func TestCoercionControlCharacters(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t)
	id := s.createTenant("Plain Name", randomDomain())
	for _, c := range []struct {
		name, value, char string
	}{
		{"ErrLF", "Acme\nCorp", "U+000A at character 5"},
		{"ErrCR", "Acme\rCorp", "U+000D at character 5"},
		{"ErrBEL", "Acme\aCorp", "U+0007 at character 5"},
		{"ErrTab", "Acme\tCorp", "U+0009 at character 5"},
		{"ErrDEL", "Acme\x7fCorp", "U+007F at character 5"},
		{"ErrC1", "Acme\u0085Corp", "U+0085 at character 5"},
		{"ErrLineSeparator", "Acme\u2028Corp", "U+2028 at character 5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := s.withT(t).ask(testAdminSecret, qUpdateName, map[string]any{"in": map[string]any{"tenantId": id, "name": c.value}})
			wantInputRefused(t, r, "name", "name must not contain control characters: one line of text")
			if !strings.Contains(r.Errors[0].Message, c.char) {
				t.Fatalf("message %q does not say %s", r.Errors[0].Message, c.char)
			}
		})
	}
	t.Run("ErrAllowlistEntry", func(t *testing.T) {
		r := s.withT(t).ask(testAdminSecret, `mutation($in: UpdateTenantSettingsInput!) { updateTenantSettings(input: $in) { settings { version } } }`,
			map[string]any{"in": map[string]any{"tenantId": id, "ipAllowlist": []string{"10.0.0.1", "10.0.0.2\r\n"}}})
		wantInputRefused(t, r, "ipAllowlist[1]", "U+000D at character 9")
	})
	t.Run("OKMultiLinePEM", func(t *testing.T) {
		// PEM certificates are multi-line: their LF (and CRLF) pass.
		saml := s.samlURL(t)
		in := saml["saml"].(map[string]any)
		in["spX509Cert"] = strings.ReplaceAll(in["spX509Cert"].(string), "\n", "\r\n")
		if !strings.Contains(in["idpX509Cert"].(string), "\n") {
			t.Fatal("the IdP certificate has no line break to test")
		}
		r := s.withT(t).must(testAdminSecret, qEnableSSO, ssoIn(map[string]any{"tenantId": id, "provider": saml}))
		if got := dataAt(t, r, "enableSso.sso.type"); got != "SAML" {
			t.Fatalf("sso.type = %v", got)
		}
	})
	if got := s.tenantName(id); got != "Plain Name" {
		t.Fatalf("name = %q after refusals", got)
	}
}
