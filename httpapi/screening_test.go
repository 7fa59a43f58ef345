package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"tenantapi/tenant"
)

// This file checks the screening configuration (reference 003): keywords,
// industries, risk matrix, website validation defaults and watchlist seats.
// Defaults before any change, list replacement, every validation rule
// (code, field, message, nothing saved), validateOnly, expectedVersion,
// the permission rows (run by TestPermissions) and isolation.

const (
	qUpdateKeywords      = `mutation($in: UpdateKeywordsInput!) { updateKeywords(input: $in) { keywords { items version updatedAt updatedBy } } }`
	qUpdateIndustries    = `mutation($in: UpdateIndustriesInput!) { updateIndustries(input: $in) { industries { allowed { code naicsCode name } blocked { code } version updatedBy } } }`
	qUpdateRiskMatrix    = `mutation($in: UpdateRiskMatrixInput!) { updateRiskMatrix(input: $in) { riskMatrix { weights { check weight } version updatedBy } } }`
	qUpdateWebsiteConfig = `mutation($in: UpdateWebsiteConfigInput!) { updateWebsiteConfig(input: $in) { websiteConfig {
		enabledChecks timeoutSeconds passThreshold reviewThreshold followRedirects maxRedirects version updatedBy } } }`
	qUpdateWatchlistSeats = `mutation($in: UpdateWatchlistSeatsInput!) { updateWatchlistSeats(input: $in) { watchlist {
		availableSeats activeSubjects remainingSeats version updatedBy } } }`
	qIndustryCatalog = `{ industryCatalog { code naicsCode name } }`

	// screeningSel selects every screening field of a Tenant.
	screeningSel = `keywords { items version updatedAt updatedBy }
		industries { allowed { code naicsCode name } blocked { code naicsCode name } version updatedAt updatedBy }
		riskMatrix { weights { check weight } version updatedAt updatedBy }
		websiteConfig { enabledChecks timeoutSeconds passThreshold reviewThreshold followRedirects maxRedirects version updatedAt updatedBy }
		watchlist { availableSeats activeSubjects remainingSeats version updatedAt updatedBy }`
)

// screening is the decoded screeningSel.
type screening struct {
	Keywords struct {
		Items     []string
		Version   int
		UpdatedAt *string
		UpdatedBy *string
	}
	Industries struct {
		Allowed, Blocked []struct{ Code, NaicsCode, Name string }
		Version          int
		UpdatedAt        *string
		UpdatedBy        *string
	}
	RiskMatrix struct {
		Weights []struct {
			Check  string
			Weight float64
		}
		Version   int
		UpdatedAt *string
		UpdatedBy *string
	}
	WebsiteConfig struct {
		EnabledChecks                                  []string
		TimeoutSeconds, PassThreshold, ReviewThreshold int
		FollowRedirects                                bool
		MaxRedirects                                   int
		Version                                        int
		UpdatedAt                                      *string
		UpdatedBy                                      *string
	}
	Watchlist struct {
		AvailableSeats, ActiveSubjects, RemainingSeats int
		Version                                        int
		UpdatedAt                                      *string
		UpdatedBy                                      *string
	}
}

// readScreening reads a tenant's screening configuration as the operator:
// its raw JSON (to compare byte for byte) and its decoded form.
func readScreening(e *env, id string) (string, screening) {
	e.t.Helper()
	var out struct{ Tenant *screening }
	r := e.gql(testAdminSecret, `query($id: ID!) { tenant(id: $id) { `+screeningSel+` } }`, map[string]any{"id": id})
	r.Decode(e.t, &out)
	if out.Tenant == nil {
		e.t.Fatalf("tenant %s not found", id)
	}
	return string(r.Data), *out.Tenant
}

// in wraps a mutation input, with tenantId when id is not "".
func screeningInput(id string, fields map[string]any) map[string]any {
	in := map[string]any{}
	for k, v := range fields {
		in[k] = v
	}
	if id != "" {
		in["tenantId"] = id
	}
	return map[string]any{"in": in}
}

// TestScreeningDefaults reads a new tenant's screening configuration: every
// object reads as its documented defaults at version 0, never an error.
func TestScreeningDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Fresh Co", randomDomain())
	key, _ := e.createKeyWithID(id, enumNames(tenant.TenantPermissions())...)
	var out struct{ Me screening }
	e.mustGQL(key, `{ me { `+screeningSel+` } }`, nil, &out)
	s := out.Me
	if len(s.Keywords.Items) != 0 || s.Keywords.Version != 0 || s.Keywords.UpdatedAt != nil || s.Keywords.UpdatedBy != nil {
		t.Errorf("keywords = %+v, want empty at version 0", s.Keywords)
	}
	if len(s.Industries.Allowed)+len(s.Industries.Blocked) != 0 || s.Industries.Version != 0 || s.Industries.UpdatedAt != nil {
		t.Errorf("industries = %+v, want empty at version 0", s.Industries)
	}
	var sum float64
	var checks []string
	for _, w := range s.RiskMatrix.Weights {
		sum += w.Weight
		checks = append(checks, w.Check)
	}
	if len(s.RiskMatrix.Weights) != 8 || sum < 0.9999 || sum > 1.0001 || s.RiskMatrix.Version != 0 || s.RiskMatrix.UpdatedBy != nil ||
		s.RiskMatrix.Weights[4].Check != "BLACKLIST" || s.RiskMatrix.Weights[4].Weight != 0.25 {
		t.Errorf("riskMatrix = %+v, want the 8 default weights summing to 1", s.RiskMatrix)
	}
	w := s.WebsiteConfig
	if !slices.Equal(w.EnabledChecks, checks) || w.TimeoutSeconds != 10 || w.PassThreshold != 70 || w.ReviewThreshold != 40 ||
		!w.FollowRedirects || w.MaxRedirects != 5 || w.Version != 0 || w.UpdatedAt != nil {
		t.Errorf("websiteConfig = %+v, want the defaults with every check", w)
	}
	if s.Watchlist != (screening{}).Watchlist {
		t.Errorf("watchlist = %+v, want zeros at version 0", s.Watchlist)
	}
}

// TestScreeningUpdates sets each object and reads it back: what the payload
// shows is what the tenant then reads, with version, updatedAt, updatedBy.
func TestScreeningUpdates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Screening Co", randomDomain())
	key, keyID := e.createKeyWithID(id, enumNames(tenant.TenantPermissions())...)
	by := "key:" + keyID

	r := e.ask(key, qUpdateKeywords, screeningInput("", map[string]any{"keywords": []string{"  Casino ", "crypto", "CASINO", "online gambling"}}))
	if got := dataAt(t, r, "updateKeywords.keywords.items"); !reflect.DeepEqual(got, []any{"Casino", "crypto", "online gambling"}) {
		t.Errorf("keywords = %v (%s)", got, r.Raw)
	}
	r = e.ask(key, qUpdateIndustries, screeningInput("", map[string]any{"allowed": []string{"52", "31-33", "52"}, "blocked": []string{"71"}}))
	if got := dataAt(t, r, "updateIndustries.industries.allowed"); !reflect.DeepEqual(got, []any{
		map[string]any{"code": "52", "naicsCode": "52", "name": "Finance and Insurance"},
		map[string]any{"code": "31-33", "naicsCode": "31-33", "name": "Manufacturing"},
	}) {
		t.Errorf("industries.allowed = %v (%s)", got, r.Raw)
	}
	r = e.ask(key, qUpdateRiskMatrix, screeningInput("", map[string]any{"weights": []map[string]any{
		{"check": "BLACKLIST", "weight": 0.3333}, {"check": "DOMAIN_AGE", "weight": 0.3333}, {"check": "SSL_CERTIFICATE", "weight": 0.3333},
	}}))
	if got := dataAt(t, r, "updateRiskMatrix.riskMatrix.weights"); !reflect.DeepEqual(got, []any{
		map[string]any{"check": "DOMAIN_AGE", "weight": 0.3333},
		map[string]any{"check": "SSL_CERTIFICATE", "weight": 0.3333},
		map[string]any{"check": "BLACKLIST", "weight": 0.3333},
	}) {
		t.Errorf("riskMatrix.weights = %v (%s)", got, r.Raw)
	}
	r = e.ask(key, qUpdateWebsiteConfig, screeningInput("", map[string]any{"enabledChecks": []string{"BLACKLIST", "DOMAIN_AGE", "BLACKLIST"}, "timeoutSeconds": 30, "followRedirects": false}))
	if got := dataAt(t, r, "updateWebsiteConfig.websiteConfig"); !reflect.DeepEqual(got, map[string]any{
		"enabledChecks": []any{"DOMAIN_AGE", "BLACKLIST"}, "timeoutSeconds": 30.0, "passThreshold": 70.0, "reviewThreshold": 40.0,
		"followRedirects": false, "maxRedirects": 5.0, "version": 1.0, "updatedBy": by,
	}) {
		t.Errorf("websiteConfig = %v (%s)", got, r.Raw)
	}
	if err := e.store.ReportWatchlistSubjects(adminCtx(), id, 12); err != nil {
		t.Fatal(err)
	}
	r = e.ask(testAdminSecret, qUpdateWatchlistSeats, screeningInput(id, map[string]any{"availableSeats": 50}))
	if got := dataAt(t, r, "updateWatchlistSeats.watchlist"); !reflect.DeepEqual(got, map[string]any{
		"availableSeats": 50.0, "activeSubjects": 12.0, "remainingSeats": 38.0, "version": 1.0, "updatedBy": "admin",
	}) {
		t.Errorf("watchlist = %v (%s)", got, r.Raw)
	}

	_, s := readScreening(e, id)
	if !slices.Equal(s.Keywords.Items, []string{"Casino", "crypto", "online gambling"}) || s.Keywords.Version != 1 || s.Keywords.UpdatedBy == nil || *s.Keywords.UpdatedBy != by || s.Keywords.UpdatedAt == nil {
		t.Errorf("saved keywords = %+v", s.Keywords)
	}
	if len(s.Industries.Allowed) != 2 || len(s.Industries.Blocked) != 1 || s.Industries.Blocked[0].NaicsCode != "71" || s.Industries.Version != 1 {
		t.Errorf("saved industries = %+v", s.Industries)
	}
	if len(s.RiskMatrix.Weights) != 3 || s.RiskMatrix.Version != 1 || *s.RiskMatrix.UpdatedBy != by {
		t.Errorf("saved risk matrix = %+v", s.RiskMatrix)
	}
	if s.WebsiteConfig.TimeoutSeconds != 30 || s.WebsiteConfig.FollowRedirects || s.WebsiteConfig.Version != 1 {
		t.Errorf("saved website config = %+v", s.WebsiteConfig)
	}
	if s.Watchlist.AvailableSeats != 50 || s.Watchlist.RemainingSeats != 38 || s.Watchlist.Version != 1 || *s.Watchlist.UpdatedBy != "admin" {
		t.Errorf("saved watchlist = %+v", s.Watchlist)
	}

	// The weights are stored exactly, as decimals.
	conn := e.raw().DB
	rows, err := conn.Query(`SELECT web_check, weight::text FROM risk_matrix_weights WHERE tenant_id = $1 ORDER BY web_check`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var stored []string
	for rows.Next() {
		var c, w string
		if err := rows.Scan(&c, &w); err != nil {
			t.Fatal(err)
		}
		stored = append(stored, c+"="+w)
	}
	if want := []string{"BLACKLIST=0.3333", "DOMAIN_AGE=0.3333", "SSL_CERTIFICATE=0.3333"}; !slices.Equal(stored, want) {
		t.Errorf("stored weights = %v, want %v", stored, want)
	}

	// A second change bumps the version; remaining seats never go negative
	// when the screening service reports more subjects than seats.
	r = e.ask(key, qUpdateWebsiteConfig, screeningInput("", map[string]any{"passThreshold": 90, "reviewThreshold": 85, "expectedVersion": 1}))
	if dataAt(t, r, "updateWebsiteConfig.websiteConfig.version") != 2.0 || dataAt(t, r, "updateWebsiteConfig.websiteConfig.timeoutSeconds") != 30.0 {
		t.Errorf("second website config change: %s", r.Raw)
	}
	if err := e.store.ReportWatchlistSubjects(adminCtx(), id, 60); err != nil {
		t.Fatal(err)
	}
	if _, s = readScreening(e, id); s.Watchlist.RemainingSeats != 0 || s.Watchlist.ActiveSubjects != 60 || s.Watchlist.Version != 1 {
		t.Errorf("over-enrolled watchlist = %+v, want 0 remaining, version unchanged", s.Watchlist)
	}
}

func adminCtx() context.Context {
	return tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.Admin})
}

// TestScreeningListReplacement checks keywords, industries and the risk
// matrix are replaced whole: what is left out of an update is gone.
func TestScreeningListReplacement(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Replace Co", randomDomain())
	key, _ := e.createKeyWithID(id, enumNames(tenant.TenantPermissions())...)
	step := func(query string, fields map[string]any) {
		t.Helper()
		if r := e.ask(key, query, screeningInput("", fields)); len(r.Errors) > 0 {
			t.Fatalf("%s", r.Raw)
		}
	}
	step(qUpdateKeywords, map[string]any{"keywords": []string{"casino", "crypto", "escort"}})
	step(qUpdateKeywords, map[string]any{"keywords": []string{"escort", "Weapons"}})
	step(qUpdateIndustries, map[string]any{"allowed": []string{"52", "44-45"}, "blocked": []string{"71"}})
	step(qUpdateIndustries, map[string]any{"allowed": []string{"71"}, "blocked": []string{}})
	step(qUpdateRiskMatrix, map[string]any{"weights": []map[string]any{{"check": "BLACKLIST", "weight": 0.5}, {"check": "DOMAIN_AGE", "weight": 0.5}}})
	step(qUpdateRiskMatrix, map[string]any{"weights": []map[string]any{{"check": "CONTACT_INFO", "weight": 1}}})
	_, s := readScreening(e, id)
	if !slices.Equal(s.Keywords.Items, []string{"escort", "Weapons"}) || s.Keywords.Version != 2 {
		t.Errorf("keywords = %+v, want [escort Weapons] at version 2", s.Keywords)
	}
	if len(s.Industries.Allowed) != 1 || s.Industries.Allowed[0].Code != "71" || len(s.Industries.Blocked) != 0 || s.Industries.Version != 2 {
		t.Errorf("industries = %+v, want only ARTS_ENTERTAINMENT_RECREATION allowed at version 2", s.Industries)
	}
	if len(s.RiskMatrix.Weights) != 1 || s.RiskMatrix.Weights[0].Check != "CONTACT_INFO" || s.RiskMatrix.Weights[0].Weight != 1 || s.RiskMatrix.Version != 2 {
		t.Errorf("riskMatrix = %+v, want only CONTACT_INFO at 1 at version 2", s.RiskMatrix)
	}
	step(qUpdateKeywords, map[string]any{"keywords": []string{}})
	if _, s = readScreening(e, id); len(s.Keywords.Items) != 0 || s.Keywords.Version != 3 {
		t.Errorf("keywords after an empty list = %+v", s.Keywords)
	}
}

// badCase is a refused screening mutation.
type badCase struct {
	name    string
	query   string
	fields  map[string]any
	code    string // default BAD_USER_INPUT
	field   string
	message []string
}

func manyKeywords(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("keyword %03d", i)
	}
	return out
}

func weightList(pairs ...any) []map[string]any {
	var out []map[string]any
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, map[string]any{"check": pairs[i], "weight": pairs[i+1]})
	}
	return out
}

var screeningBadCases = []badCase{
	{name: "ErrKeywordEmpty", query: qUpdateKeywords, fields: map[string]any{"keywords": []string{"casino", "crypto", "gambling", "   "}},
		field: "keywords[3]", message: []string{"keywords[3] is empty", "1 to 100 characters"}},
	{name: "ErrKeywordTooLong", query: qUpdateKeywords, fields: map[string]any{"keywords": []string{"casino", strings.Repeat("x", 101)}},
		field: "keywords[1]", message: []string{"keywords[1] is 101 characters long", "1 to 100"}},
	{name: "ErrKeywordControl", query: qUpdateKeywords, fields: map[string]any{"keywords": []string{"casino\ncrypto"}},
		field: "keywords[0]", message: []string{"control characters"}},
	{name: "ErrTooManyKeywords", query: qUpdateKeywords, fields: map[string]any{"keywords": manyKeywords(501)},
		field: "keywords", message: []string{"at most 500 distinct keywords, got 501"}},
	{name: "ErrKeywordsValidateOnly", query: qUpdateKeywords, fields: map[string]any{"keywords": []string{""}, "validateOnly": true},
		field: "keywords[0]", message: []string{"keywords[0] is empty"}},

	{name: "ErrIndustryInBoth", query: qUpdateIndustries, fields: map[string]any{"allowed": []string{"52", "44-45"}, "blocked": []string{"22", "44-45"}},
		field: "blocked[1]", message: []string{"44-45 (Retail Trade) is in both allowed and blocked"}},
	{name: "ErrIndustryUnknown", query: qUpdateIndustries, fields: map[string]any{"allowed": []string{"CASINOS"}, "blocked": []string{}},
		field: "allowed[0]", message: []string{`allowed[0]: "CASINOS" is not a NAICS 2022 code`, "2 to 6 digits", "industryCatalog"}},
	{name: "ErrIndustrySevenDigits", query: qUpdateIndustries, fields: map[string]any{"allowed": []string{}, "blocked": []string{"71", "7132101"}},
		field: "blocked[1]", message: []string{`"7132101" is not a NAICS 2022 code`}},

	{name: "ErrWeightsSum", query: qUpdateRiskMatrix, fields: map[string]any{"weights": weightList("BLACKLIST", 0.5, "DOMAIN_AGE", 0.45)},
		field: "weights", message: []string{"weights must sum to 1.0", "got 0.9500"}},
	{name: "ErrWeightsSumAbove", query: qUpdateRiskMatrix, fields: map[string]any{"weights": weightList("BLACKLIST", 0.6, "DOMAIN_AGE", 0.4002)},
		field: "weights", message: []string{"got 1.0002"}},
	{name: "ErrWeightsEmpty", query: qUpdateRiskMatrix, fields: map[string]any{"weights": []any{}},
		field: "weights", message: []string{"at least one check"}},
	{name: "ErrWeightAboveOne", query: qUpdateRiskMatrix, fields: map[string]any{"weights": weightList("BLACKLIST", 1.5)},
		field: "weights[0].weight", message: []string{"between 0 and 1, got 1.5"}},
	{name: "ErrWeightNegative", query: qUpdateRiskMatrix, fields: map[string]any{"weights": weightList("BLACKLIST", 1.2, "DOMAIN_AGE", -0.2)},
		field: "weights[0].weight", message: []string{"got 1.2"}},
	{name: "ErrWeightZero", query: qUpdateRiskMatrix, fields: map[string]any{"weights": weightList("BLACKLIST", 1, "WHOIS_PRIVACY", 0)},
		field: "weights[1].weight", message: []string{"WHOIS_PRIVACY", "is 0", "leave out"}},
	{name: "ErrWeightPrecision", query: qUpdateRiskMatrix, fields: map[string]any{"weights": weightList("BLACKLIST", 0.33333, "DOMAIN_AGE", 0.66667)},
		field: "weights[0].weight", message: []string{"at most 4 decimal places", "0.33333"}},
	{name: "ErrWeightDuplicate", query: qUpdateRiskMatrix, fields: map[string]any{"weights": weightList("BLACKLIST", 0.5, "BLACKLIST", 0.5)},
		field: "weights[1].check", message: []string{"BLACKLIST is listed twice (weights[0] and weights[1])"}},
	{name: "ErrWebCheckUnknown", query: qUpdateRiskMatrix, fields: map[string]any{"weights": weightList("PAGE_RANK", 1)},
		code: "GRAPHQL_VALIDATION_FAILED", message: []string{"PAGE_RANK is not a valid WebCheck"}},
	{name: "ErrWeightsSumValidateOnly", query: qUpdateRiskMatrix, fields: map[string]any{"weights": weightList("BLACKLIST", 0.5), "validateOnly": true},
		field: "weights", message: []string{"got 0.5000"}},

	{name: "ErrNoEnabledChecks", query: qUpdateWebsiteConfig, fields: map[string]any{"enabledChecks": []string{}},
		field: "enabledChecks", message: []string{"at least one check"}},
	{name: "ErrTimeoutTooShort", query: qUpdateWebsiteConfig, fields: map[string]any{"timeoutSeconds": 0},
		field: "timeoutSeconds", message: []string{"between 1 and 60 seconds, got 0"}},
	{name: "ErrTimeoutTooLong", query: qUpdateWebsiteConfig, fields: map[string]any{"timeoutSeconds": 61},
		field: "timeoutSeconds", message: []string{"got 61"}},
	{name: "ErrPassThresholdRange", query: qUpdateWebsiteConfig, fields: map[string]any{"passThreshold": 101},
		field: "passThreshold", message: []string{"between 0 and 100, got 101"}},
	{name: "ErrReviewThresholdRange", query: qUpdateWebsiteConfig, fields: map[string]any{"reviewThreshold": -1},
		field: "reviewThreshold", message: []string{"between 0 and 100, got -1"}},
	{name: "ErrReviewAbovePass", query: qUpdateWebsiteConfig, fields: map[string]any{"reviewThreshold": 80},
		field: "reviewThreshold", message: []string{"reviewThreshold (80) must be at most passThreshold (70)"}},
	{name: "ErrPassBelowReview", query: qUpdateWebsiteConfig, fields: map[string]any{"passThreshold": 30},
		field: "passThreshold", message: []string{"reviewThreshold (40) must be at most passThreshold (30)"}},
	{name: "ErrMaxRedirectsRange", query: qUpdateWebsiteConfig, fields: map[string]any{"maxRedirects": 11},
		field: "maxRedirects", message: []string{"between 0 and 10, got 11"}},
	{name: "ErrWebsiteConfigValidateOnly", query: qUpdateWebsiteConfig, fields: map[string]any{"timeoutSeconds": 0, "validateOnly": true},
		field: "timeoutSeconds", message: []string{"got 0"}},

	{name: "ErrSeatsNegative", query: qUpdateWatchlistSeats, fields: map[string]any{"availableSeats": -1},
		field: "availableSeats", message: []string{"between 0 and 1000000, got -1"}},
	{name: "ErrSeatsTooMany", query: qUpdateWatchlistSeats, fields: map[string]any{"availableSeats": 1_000_001},
		field: "availableSeats", message: []string{"got 1000001"}},
	{name: "ErrSeatsBelowActive", query: qUpdateWatchlistSeats, fields: map[string]any{"availableSeats": 4},
		field: "availableSeats", message: []string{"availableSeats cannot be 4", "7 active subjects"}},
	{name: "ErrSeatsBelowActiveValidateOnly", query: qUpdateWatchlistSeats, fields: map[string]any{"availableSeats": 6, "validateOnly": true},
		field: "availableSeats", message: []string{"cannot be 6", "7 active subjects"}},

	{name: "ErrKeywordsVersionConflict", query: qUpdateKeywords, fields: map[string]any{"keywords": []string{"casino"}, "expectedVersion": 1},
		code: "CONFLICT", field: "expectedVersion", message: []string{"expected version 1, current version 0"}},
	{name: "ErrIndustriesVersionConflict", query: qUpdateIndustries, fields: map[string]any{"allowed": []string{}, "blocked": []string{"22"}, "expectedVersion": 3},
		code: "CONFLICT", field: "expectedVersion", message: []string{"expected version 3, current version 0"}},
	{name: "ErrRiskMatrixVersionConflict", query: qUpdateRiskMatrix, fields: map[string]any{"weights": weightList("BLACKLIST", 1), "expectedVersion": 2},
		code: "CONFLICT", field: "expectedVersion", message: []string{"expected version 2, current version 0"}},
	{name: "ErrWebsiteConfigVersionConflict", query: qUpdateWebsiteConfig, fields: map[string]any{"timeoutSeconds": 5, "expectedVersion": 1},
		code: "CONFLICT", field: "expectedVersion", message: []string{"expected version 1, current version 0"}},
	{name: "ErrWatchlistVersionConflict", query: qUpdateWatchlistSeats, fields: map[string]any{"availableSeats": 10, "expectedVersion": 1},
		code: "CONFLICT", field: "expectedVersion", message: []string{"expected version 1, current version 0"}},
	{name: "ErrVersionConflictValidateOnly", query: qUpdateKeywords, fields: map[string]any{"keywords": []string{"casino"}, "expectedVersion": 1, "validateOnly": true},
		code: "CONFLICT", field: "expectedVersion", message: []string{"expected version 1, current version 0"}},
}

// TestScreeningBadInput runs the bad-input table against one tenant (with
// 7 watchlist subjects): each case answers its code, field and message, and
// the tenant's configuration is unchanged afterwards.
func TestScreeningBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Bad Input Co", randomDomain())
	key, _ := e.createKeyWithID(id, enumNames(tenant.TenantPermissions())...)
	if err := e.store.ReportWatchlistSubjects(adminCtx(), id, 7); err != nil {
		t.Fatal(err)
	}
	before, _ := readScreening(e, id)
	t.Run("cases", func(t *testing.T) {
		for _, c := range screeningBadCases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				e := e.withT(t)
				token, target := key, ""
				if c.query == qUpdateWatchlistSeats {
					token, target = testAdminSecret, id // an operator's mutation
				}
				r := e.ask(token, c.query, screeningInput(target, c.fields))
				code := c.code
				if code == "" {
					code = "BAD_USER_INPUT"
				}
				if len(r.Errors) != 1 || r.Code() != code {
					t.Fatalf("want one %s error, got %s", code, r.Raw)
				}
				if r.Field() != c.field {
					t.Errorf("extensions.field = %q, want %q", r.Field(), c.field)
				}
				for _, m := range c.message {
					if !strings.Contains(r.Errors[0].Message, m) {
						t.Errorf("message %q does not contain %q", r.Errors[0].Message, m)
					}
				}
				if len(r.Data) > 0 && string(r.Data) != "null" {
					t.Errorf("data = %s, want null", r.Data)
				}
			})
		}
	})
	if after, _ := readScreening(e, id); after != before {
		t.Errorf("a refused mutation saved something:\nbefore %s\nafter  %s", before, after)
	}
}

// TestScreeningValidateOnly sends a valid change of each object with
// validateOnly: the payload shows what would be saved (version 1), and the
// tenant still reads its defaults; the same change without it is saved.
func TestScreeningValidateOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Dry Run Co", randomDomain())
	key, _ := e.createKeyWithID(id, enumNames(tenant.TenantPermissions())...)
	cases := []struct {
		name, query, version string
		token, target        string
		fields               map[string]any
	}{
		{"keywords", qUpdateKeywords, "updateKeywords.keywords.version", key, "", map[string]any{"keywords": []string{"casino"}}},
		{"industries", qUpdateIndustries, "updateIndustries.industries.version", key, "", map[string]any{"allowed": []string{"22"}, "blocked": []string{}}},
		{"riskMatrix", qUpdateRiskMatrix, "updateRiskMatrix.riskMatrix.version", key, "", map[string]any{"weights": weightList("BLACKLIST", 1)}},
		{"websiteConfig", qUpdateWebsiteConfig, "updateWebsiteConfig.websiteConfig.version", key, "", map[string]any{"timeoutSeconds": 20}},
		{"watchlist", qUpdateWatchlistSeats, "updateWatchlistSeats.watchlist.version", testAdminSecret, id, map[string]any{"availableSeats": 25}},
	}
	before, _ := readScreening(e, id)
	for _, c := range cases {
		dry := map[string]any{"validateOnly": true}
		for k, v := range c.fields {
			dry[k] = v
		}
		r := e.ask(c.token, c.query, screeningInput(c.target, dry))
		if len(r.Errors) > 0 || dataAt(t, r, c.version) != 1.0 {
			t.Errorf("%s validateOnly: want the would-be object at version 1, got %s", c.name, r.Raw)
		}
	}
	if after, _ := readScreening(e, id); after != before {
		t.Fatalf("validateOnly saved something:\nbefore %s\nafter  %s", before, after)
	}
	for _, c := range cases {
		r := e.ask(c.token, c.query, screeningInput(c.target, c.fields))
		if len(r.Errors) > 0 || dataAt(t, r, c.version) != 1.0 {
			t.Errorf("%s: %s", c.name, r.Raw)
		}
	}
	_, s := readScreening(e, id)
	if s.Keywords.Version != 1 || s.Industries.Version != 1 || s.RiskMatrix.Version != 1 || s.WebsiteConfig.Version != 1 || s.Watchlist.Version != 1 {
		t.Errorf("after the real changes: %+v", s)
	}
}

// TestScreeningExpectedVersion: the current version is accepted, a stale
// one answers CONFLICT and saves nothing.
func TestScreeningExpectedVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Versioned Co", randomDomain())
	key := e.createKey(id, "KEYWORDS_READ", "KEYWORDS_UPDATE")
	set := func(version int, kw string) *result {
		return e.ask(key, qUpdateKeywords, screeningInput("", map[string]any{"keywords": []string{kw}, "expectedVersion": version}))
	}
	if r := set(0, "first"); len(r.Errors) > 0 {
		t.Fatalf("expectedVersion 0 on defaults: %s", r.Raw)
	}
	if r := set(1, "second"); len(r.Errors) > 0 || dataAt(t, r, "updateKeywords.keywords.version") != 2.0 {
		t.Fatalf("expectedVersion 1: %s", r.Raw)
	}
	r := set(1, "stale")
	if r.Code() != "CONFLICT" || r.Field() != "expectedVersion" || !strings.Contains(r.Errors[0].Message, "expected version 1, current version 2") {
		t.Fatalf("stale expectedVersion: %s", r.Raw)
	}
	if _, s := readScreening(e, id); !slices.Equal(s.Keywords.Items, []string{"second"}) || s.Keywords.Version != 2 {
		t.Errorf("keywords after the conflict = %+v", s.Keywords)
	}
}

// TestScreeningIsolation uses tenant A's key (every permission but
// TENANT_MANAGE) on tenant B: every read and mutation answers like a
// missing tenant would, and B's configuration is unchanged.
func TestScreeningIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createTenant("Alpha", randomDomain())
	b := e.createTenant("Beta", randomDomain())
	aKey, _ := e.createKeyWithID(a, enumNames(tenant.TenantPermissions())...)
	// B has a configuration of its own.
	e.mustGQL(testAdminSecret, qUpdateKeywords, screeningInput(b, map[string]any{"keywords": []string{"beta-secret"}}), nil)
	e.mustGQL(testAdminSecret, qUpdateWatchlistSeats, screeningInput(b, map[string]any{"availableSeats": 9}), nil)
	beforeA, _ := readScreening(e, a)
	beforeB, _ := readScreening(e, b)

	cases := []struct {
		name, query string
		fields      map[string]any
		want        string
	}{
		{"updateKeywords", qUpdateKeywords, map[string]any{"keywords": []string{"hijacked"}}, "NOT_FOUND"},
		{"updateKeywords/expectedVersion", qUpdateKeywords, map[string]any{"keywords": []string{"hijacked"}, "expectedVersion": 1}, "NOT_FOUND"},
		{"updateKeywords/validateOnly", qUpdateKeywords, map[string]any{"keywords": []string{"hijacked"}, "validateOnly": true}, "NOT_FOUND"},
		{"updateIndustries", qUpdateIndustries, map[string]any{"allowed": []string{}, "blocked": []string{"22"}}, "NOT_FOUND"},
		{"updateRiskMatrix", qUpdateRiskMatrix, map[string]any{"weights": weightList("BLACKLIST", 1)}, "NOT_FOUND"},
		{"updateWebsiteConfig", qUpdateWebsiteConfig, map[string]any{"timeoutSeconds": 1}, "NOT_FOUND"},
		{"updateWatchlistSeats", qUpdateWatchlistSeats, map[string]any{"availableSeats": 1000}, "FORBIDDEN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := e.withT(t)
			got := e.ask(aKey, c.query, screeningInput(b, c.fields))
			if got.Code() != c.want || len(got.Errors) != 1 {
				t.Fatalf("B's id: want one %s error, got %s", c.want, got.Raw)
			}
			sameResponse(t, got, e.ask(aKey, c.query, screeningInput(randomUUID(), c.fields)))
			if c.want == "NOT_FOUND" {
				sameResponse(t, e.ask(aKey, c.query, screeningInput("not-a-uuid", c.fields)), got)
			}
		})
	}
	t.Run("read", func(t *testing.T) {
		e := e.withT(t)
		got := e.ask(aKey, `query($id: ID!) { tenant(id: $id) { id `+screeningSel+` } }`, idVar(b))
		if got.Code() != "NOT_FOUND" || len(got.Errors) != 1 || dataAt(t, got, "tenant") != nil {
			t.Fatalf("B's tenant: want one NOT_FOUND error, got %s", got.Raw)
		}
		var out struct{ Me screening }
		e.mustGQL(aKey, `{ me { `+screeningSel+` } }`, nil, &out)
		if len(out.Me.Keywords.Items) != 0 || out.Me.Watchlist.AvailableSeats != 0 {
			t.Errorf("A reads B's configuration: %+v", out.Me)
		}
	})
	t.Run("loaderScope", func(t *testing.T) {
		// The batch SQL carries the scope: A's key asking for A and B in
		// one batch gets B as NOT_FOUND.
		ctx := tenant.WithActor(context.Background(), &tenant.Actor{Kind: tenant.APIKey, TenantID: a, Permissions: tenant.TenantPermissions()})
		ids := []string{b, a}
		check := func(what string, errs []error) {
			t.Helper()
			if tenant.ErrorCode(errs[0]) != tenant.ENOTFOUND || errs[1] != nil {
				t.Errorf("%s batch for [B, A] with A's key: errors %v, want [NOT_FOUND, nil]", what, errs)
			}
		}
		kw, errs := e.store.KeywordsByTenant(ctx, ids)
		check("keywords", errs)
		if kw[1] == nil || kw[1].TenantID != a {
			t.Errorf("keywords batch: %+v", kw)
		}
		_, errs = e.store.IndustriesByTenant(ctx, ids)
		check("industries", errs)
		_, errs = e.store.RiskMatricesByTenant(ctx, ids)
		check("riskMatrix", errs)
		_, errs = e.store.WebsiteConfigsByTenant(ctx, ids)
		check("websiteConfig", errs)
		_, errs = e.store.WatchlistByTenant(ctx, ids)
		check("watchlist", errs)
	})
	if after, _ := readScreening(e, b); after != beforeB {
		t.Errorf("tenant B changed:\nbefore %s\nafter  %s", beforeB, after)
	}
	if after, _ := readScreening(e, a); after != beforeA {
		t.Errorf("tenant A changed:\nbefore %s\nafter  %s", beforeA, after)
	}
}

// TestScreeningStatementsForMe: me with every screening field runs one
// statement per field after the key lookup and the tenant.
func TestScreeningStatementsForMe(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Counted", randomDomain())
	key, _ := e.createKeyWithID(id, enumNames(tenant.TenantPermissions())...)
	e.mustGQL(key, qUpdateRiskMatrix, screeningInput("", map[string]any{"weights": weightList("BLACKLIST", 0.5, "DOMAIN_AGE", 0.5)}), nil)
	e.store.WaitBackground()
	before := e.store.Statements.Load()
	e.mustGQL(key, `{ me { id `+screeningSel+` } }`, nil, nil)
	e.store.WaitBackground()
	got := e.store.Statements.Load() - before
	// key lookup + tenant + keywords + industries + riskMatrix + websiteConfig + watchlist
	if got > 7 {
		t.Errorf("me with every screening field ran %d statements, want at most 7", got)
	}
}

// TestScreeningEnums checks the WebCheck enum is exactly the domain's
// catalog, and that the industry catalog answers the NAICS 2022 codes at
// every level: the 20 sectors, a code's children, one code with its title,
// level and parent, and BAD_USER_INPUT naming the argument for an unknown
// code.
func TestScreeningEnums(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var out struct {
		Check struct{ EnumValues []struct{ Name string } } `json:"check"`
	}
	e.mustGQL("", `{ check: __type(name: "WebCheck") { enumValues { name } } }`, nil, &out)
	var checks []string
	for _, v := range out.Check.EnumValues {
		checks = append(checks, v.Name)
	}
	var want []string
	for _, c := range tenant.WebChecks {
		want = append(want, string(c))
	}
	if !slices.Equal(checks, want) {
		t.Errorf("WebCheck = %v, want tenant.WebChecks %v", checks, want)
	}

	r := e.ask(testAdminSecret, qIndustryCatalog, nil)
	var cat struct {
		IndustryCatalog []struct{ Code, NaicsCode, Name string }
	}
	r.Decode(t, &cat)
	raw, _ := json.Marshal(cat.IndustryCatalog[9])
	if len(cat.IndustryCatalog) != 20 || string(raw) != `{"Code":"52","NaicsCode":"52","Name":"Finance and Insurance"}` {
		t.Errorf("industryCatalog = %d entries, [9] = %s", len(cat.IndustryCatalog), raw)
	}
	for _, c := range []struct{ name, query, want string }{
		{"Children", `{ industryCatalog(parent: "7132") { code name level } }`,
			`{"industryCatalog":[{"code":"71321","name":"Casinos (except Casino Hotels)","level":"INDUSTRY"},{"code":"71329","name":"Other Gambling Industries","level":"INDUSTRY"}]}`},
		{"NoChildren", `{ industryCatalog(parent: "713210") { code } }`, `{"industryCatalog":[]}`},
		{"OneCode", `{ industry(code: "713210") { code name level parent { code level parent { code } } } }`,
			`{"industry":{"code":"713210","name":"Casinos (except Casino Hotels)","level":"NATIONAL_INDUSTRY","parent":{"code":"71321","level":"INDUSTRY","parent":{"code":"7132"}}}}`},
		{"Sector", `{ industry(code: "31-33") { name level parent { code } } }`, `{"industry":{"name":"Manufacturing","level":"SECTOR","parent":null}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.ask(testAdminSecret, c.query, nil)
			if string(r.Data) != c.want {
				t.Errorf("got %s\nwant %s", r.Raw, c.want)
			}
		})
	}
	for _, c := range []struct{ name, query, field string }{
		{"ErrUnknownCode", `{ industry(code: "999999") { name } }`, "code"},
		{"ErrUnknownParent", `{ industryCatalog(parent: "31") { name } }`, "parent"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.ask(testAdminSecret, c.query, nil)
			if r.Code() != "BAD_USER_INPUT" || r.Field() != c.field || !strings.Contains(r.Errors[0].Message, "is not a NAICS 2022 code") {
				t.Errorf("got %s", r.Raw)
			}
		})
	}
}

// TestIndustryDecision: blocking a national industry (713210, casinos)
// refuses it and nothing else of its sector; the most specific listed code
// decides, against the real database and through the API.
func TestIndustryDecision(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Screened Co", randomDomain())
	key := e.createKey(id, "TENANT_READ", "INDUSTRIES_READ", "INDUSTRIES_UPDATE")
	if r := e.ask(key, qUpdateIndustries, screeningInput("", map[string]any{"allowed": []string{}, "blocked": []string{"713210"}})); len(r.Errors) > 0 {
		t.Fatal(string(r.Raw))
	}
	decide := func(code string) *result {
		return e.gql(key, `query($c: IndustryCode!) { me { industryDecision(code: $c) { industry { code level } accepted reason decidedBy { code } } } }`, map[string]any{"c": code})
	}
	for _, c := range []struct{ code, want string }{
		{"713210", `{"industry":{"code":"713210","level":"NATIONAL_INDUSTRY"},"accepted":false,"reason":"BLOCKED","decidedBy":{"code":"713210"}}`},
		{"71", `{"industry":{"code":"71","level":"SECTOR"},"accepted":true,"reason":"NOT_RESTRICTED","decidedBy":null}`},
		{"713290", `{"industry":{"code":"713290","level":"NATIONAL_INDUSTRY"},"accepted":true,"reason":"NOT_RESTRICTED","decidedBy":null}`},
	} {
		t.Run("OK/"+c.code, func(t *testing.T) {
			if r := decide(c.code); string(r.Data) != `{"me":{"industryDecision":`+c.want+`}}` {
				t.Errorf("got %s", r.Raw)
			}
		})
	}
	// An exception carved out of a blocked sector.
	if r := e.ask(key, qUpdateIndustries, screeningInput("", map[string]any{"allowed": []string{"713210"}, "blocked": []string{"71"}})); len(r.Errors) > 0 {
		t.Fatal(string(r.Raw))
	}
	for _, c := range []struct{ code, want string }{
		{"713210", `"accepted":true,"reason":"ALLOWED","decidedBy":{"code":"713210"}`},
		{"713290", `"accepted":false,"reason":"BLOCKED","decidedBy":{"code":"71"}`},
		{"52", `"accepted":false,"reason":"NOT_ALLOWED","decidedBy":null`},
	} {
		t.Run("OK/exception/"+c.code, func(t *testing.T) {
			if r := decide(c.code); !strings.Contains(string(r.Data), c.want) {
				t.Errorf("got %s, want %s", r.Raw, c.want)
			}
		})
	}
	t.Run("ErrUnknownCode", func(t *testing.T) {
		r := decide("7132109")
		if r.Code() != "BAD_USER_INPUT" || r.Field() != "code" || !strings.Contains(r.Errors[0].Message, `"7132109" is not a NAICS 2022 code`) {
			t.Errorf("got %s", r.Raw)
		}
	})
}

// ---- Permission rows (appended to the table of TestPermissions) ----

// screeningVersion checks, as the operator, the version of field (a Tenant
// screening field) on the case's target tenant, and that the other tenant
// of the fixture is untouched (version 0).
func screeningVersion(field string, want int) checkFunc {
	return func(t *testing.T, e *env, f *fixture, _ *result) {
		t.Helper()
		q := `query($id: ID!) { tenant(id: $id) { ` + field + ` { version } } }`
		for _, id := range []string{f.own, f.other} {
			w := 0
			if id == f.target {
				w = want
			}
			r := e.ask(testAdminSecret, q, idVar(id))
			if got := dataAt(t, r, "tenant."+field+".version"); got != float64(w) {
				t.Errorf("%s.version of %s = %v, want %d (%s)", field, map[bool]string{true: "the target", false: "the other tenant"}[id == f.target], got, w, r.Raw)
			}
		}
	}
}

// screeningMutationCases are the permission rows of a config mutation
// needing perm (own tenant), or TENANT_MANAGE too for another tenant.
func screeningMutationCases(op, query, field, perm string, fields map[string]any) []permCase {
	vars := func(f *fixture) map[string]any {
		in := map[string]any{}
		for k, v := range fields {
			in[k] = v
		}
		return f.input(in)
	}
	otherTenant := func(f *fixture) map[string]any {
		in := map[string]any{"tenantId": f.other}
		for k, v := range fields {
			in[k] = v
		}
		return map[string]any{"in": in}
	}
	unchanged := screeningVersion(field, 0)
	saved := screeningVersion(field, 1)
	return []permCase{
		{op: op, cred: credAnonymous, query: query, vars: vars, want: "UNAUTHENTICATED", check: unchanged},
		{op: op, cred: keyWith("USAGE_WRITE"), query: query, vars: vars, want: "FORBIDDEN", message: perm, check: unchanged},
		{op: op, cred: keyWith("TENANT_UPDATE"), query: query, vars: vars, want: "FORBIDDEN", message: perm, check: unchanged},
		{op: op, cred: keyWith("TENANT_MANAGE"), query: query, vars: vars, want: "FORBIDDEN", message: perm, check: unchanged},
		{op: op, cred: keyWith(perm), query: query, vars: vars, check: saved},
		{op: op, cred: keyWith(perm), variant: "otherTenant", query: query, vars: otherTenant, want: "NOT_FOUND", check: screeningVersion(field, 0)},
		{op: op, cred: keyWith("TENANT_MANAGE", perm), query: query, vars: vars, check: saved},
		{op: op, cred: credAdmin, query: query, vars: vars, check: saved},
		{op: op, cred: credAdmin, variant: "noTenantId", query: query, want: "BAD_USER_INPUT", field: "tenantId",
			vars: func(*fixture) map[string]any { return map[string]any{"in": fields} }, check: screeningVersion(field, 0)},
	}
}

func screeningPermissionCases() []permCase {
	cases := []permCase{
		{op: "industryCatalog", cred: credAnonymous, query: qIndustryCatalog, want: "UNAUTHENTICATED"},
		{op: "industryCatalog", cred: keyWith("TENANT_READ"), query: qIndustryCatalog, want: "FORBIDDEN", message: "INDUSTRIES_READ"},
		{op: "industryCatalog", cred: keyWith("INDUSTRIES_READ"), query: qIndustryCatalog, check: wantAt("industryCatalog.0.naicsCode", value("11"))},
		{op: "industryCatalog", cred: credAdmin, query: qIndustryCatalog, check: wantAt("industryCatalog.19.code", value("92"))},
		{op: "industry", cred: credAnonymous, query: `{ industry(code: "71") { name } }`, want: "UNAUTHENTICATED"},
		{op: "industry", cred: keyWith("TENANT_READ"), query: `{ industry(code: "71") { name } }`, want: "FORBIDDEN", message: "INDUSTRIES_READ"},
		{op: "industry", cred: keyWith("INDUSTRIES_READ"), query: `{ industry(code: "71") { name } }`, check: wantAt("industry.name", value("Arts, Entertainment, and Recreation"))},

		// updateWatchlistSeats is the operator's: TENANT_MANAGE only.
		{op: "updateWatchlistSeats", cred: credAnonymous, query: qUpdateWatchlistSeats, vars: seatsInput, want: "UNAUTHENTICATED", check: screeningVersion("watchlist", 0)},
		{op: "updateWatchlistSeats", cred: keyWith("USAGE_WRITE"), query: qUpdateWatchlistSeats, vars: seatsInput, want: "FORBIDDEN", message: "TENANT_MANAGE", check: screeningVersion("watchlist", 0)},
		{op: "updateWatchlistSeats", cred: keyWith("TENANT_READ", "TENANT_UPDATE", "KEYWORDS_UPDATE"), query: qUpdateWatchlistSeats, vars: seatsInput,
			want: "FORBIDDEN", message: "TENANT_MANAGE", check: screeningVersion("watchlist", 0)},
		{op: "updateWatchlistSeats", cred: keyWith("TENANT_MANAGE"), query: qUpdateWatchlistSeats, vars: seatsInput,
			check: wantAll(wantAt("updateWatchlistSeats.watchlist.availableSeats", value(40.0)), screeningVersion("watchlist", 1))},
		{op: "updateWatchlistSeats", cred: credAdmin, query: qUpdateWatchlistSeats, vars: seatsInput,
			check: wantAll(wantAt("updateWatchlistSeats.watchlist.remainingSeats", value(40.0)), screeningVersion("watchlist", 1))},
	}
	cases = append(cases, screeningMutationCases("updateKeywords", qUpdateKeywords, "keywords", "KEYWORDS_UPDATE",
		map[string]any{"keywords": []string{"casino"}})...)
	cases = append(cases, screeningMutationCases("updateIndustries", qUpdateIndustries, "industries", "INDUSTRIES_UPDATE",
		map[string]any{"allowed": []string{"52"}, "blocked": []string{"71"}})...)
	cases = append(cases, screeningMutationCases("updateRiskMatrix", qUpdateRiskMatrix, "riskMatrix", "RISK_MATRIX_UPDATE",
		map[string]any{"weights": weightList("BLACKLIST", 0.6, "DOMAIN_AGE", 0.4)})...)
	cases = append(cases, screeningMutationCases("updateWebsiteConfig", qUpdateWebsiteConfig, "websiteConfig", "WEBSITE_CONFIG_UPDATE",
		map[string]any{"timeoutSeconds": 30})...)
	cases = append(cases, tenantFieldCases("keywords", "keywords { items version }", "KEYWORDS_READ")...)
	cases = append(cases, tenantFieldCases("industries", "industries { allowed { code } version }", "INDUSTRIES_READ")...)
	cases = append(cases, tenantFieldCases("industryDecision", `industryDecision(code: "71") { accepted }`, "INDUSTRIES_READ")...)
	cases = append(cases, tenantFieldCases("riskMatrix", "riskMatrix { weights { check weight } version }", "RISK_MATRIX_READ")...)
	cases = append(cases, tenantFieldCases("websiteConfig", "websiteConfig { enabledChecks version }", "WEBSITE_CONFIG_READ")...)
	cases = append(cases, tenantFieldCases("watchlist", "watchlist { availableSeats remainingSeats version }", "TENANT_READ")...)
	return cases
}

func seatsInput(f *fixture) map[string]any { return f.input(map[string]any{"availableSeats": 40}) }

// screeningTenantFields are the Tenant fields of this file, for the
// coverage check of the permission table.
var screeningTenantFields = []string{"keywords", "industries", "riskMatrix", "websiteConfig", "watchlist"}
