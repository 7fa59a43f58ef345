package httpapi_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tenantapi/live"
)

// dashboardReport is what graphiql/browsertest/dashboard.mjs prints.
type dashboardReport struct {
	scriptRun
	SignInHref    string `json:"signInHref"`
	Before, After dashboardView
	PdfNavigation *struct {
		URL, ContentType string
		Status           int
	}
	PdfFetch *struct {
		Status             int
		ContentType, Magic string
		Size               int
	}
	Triggered []struct {
		Status int
		Body   string
	}
	CookiesAfterSignOut []string `json:"cookiesAfterSignOut"`
}

// dashboardView is what the dashboard shows, read from its page.
type dashboardView struct {
	State, Who, TenantName, PlanName, Live string
	Meters                                 map[string]struct {
		Used  int
		Limit *int
	}
	InvoicesTotal *int
	Invoices      []struct{ ID, Number, Href string }
	APIKeysTotal  *int     `json:"apiKeysTotal"`
	APIKeys       []string `json:"apiKeys"`
	MembersTotal  *int
	Members       []string
	Events        []struct {
		ID, WireType string
		Live         bool
	}
	SectionErrors []string
}

// dashboardTruth is the API's own answer to what the dashboard shows.
type dashboardTruth struct {
	Name   string
	Plan   struct{ Name string }
	Limits struct{ Users, Policies, InteractionsPerMonth *int }
	Usage  struct{ ActiveUsers, Policies, InteractionsThisMonth int }
	// The dashboard lists the newest 12 invoices and 50 keys and members.
	Invoices struct {
		TotalCount int
		Nodes      []struct{ ID, Number, PdfURL string }
	}
	APIKeys struct {
		TotalCount int
		Nodes      []struct{ Name string }
	} `json:"apiKeys"`
	Members struct {
		TotalCount int
		Nodes      []struct{ Email string }
	}
	Events struct {
		Nodes []struct{ ID, WireType string }
	}
}

// truth reads, as the operator, what the dashboard of tenantID must show.
func (e *env) dashboardTruth(tenantID string) dashboardTruth {
	e.t.Helper()
	var out struct{ Tenant dashboardTruth }
	e.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { name plan { name }
		limits { users policies interactionsPerMonth } usage { activeUsers policies interactionsThisMonth }
		invoices(first: 12) { totalCount nodes { id number pdfUrl } }
		apiKeys(first: 50) { totalCount nodes { name } } members(first: 50) { totalCount nodes { email } }
		events(first: 20) { nodes { id wireType } } } }`, map[string]any{"id": tenantID}, &out)
	return out.Tenant
}

// usageEvents is a recordUsage input of n interactions of user, now.
func usageEvents(prefix, user string, n int) map[string]any {
	events := make([]map[string]any, n)
	for i := range events {
		events[i] = map[string]any{"id": fmt.Sprintf("%s-%d", prefix, i), "occurredAt": time.Now().UTC().Format(time.RFC3339),
			"userId": user, "platform": "chatgpt", "outcome": "LOGGED", "riskLevel": "LOW"}
	}
	return map[string]any{"in": map[string]any{"events": events}}
}

const qDashboardRecordUsage = `mutation($in: RecordUsageInput!) { recordUsage(input: $in) { accepted } }`

// TestDashboardBrowser loads the example dashboard (examples/dashboard,
// served at /dashboard/) in a real headless Chromium: not signed in, it
// offers the sign-in page, which brings the member back signed in; then
// what it shows (plan, usage meters, invoices and their PDF links, API
// keys, members) must equal the API's own answers, an invoice's PDF link
// must open, a rename and a usage batch made by another client must arrive
// live over the tenantEvents subscription and update the figures, and
// signing out must drop the session. A VIEWER sees FORBIDDEN in place of
// what the role may not read, and no live events. No console error, no
// request off loopback.
func TestDashboardBrowser(t *testing.T) {
	node := needBrowser(t)
	e, _ := liveEnv(t, "", live.Options{})
	domain := randomDomain()
	id := e.createTenant("Dashboard Co", domain)
	addPasswordMember(t, e, id, "ana@"+domain, "ADMIN")
	addPasswordMember(t, e, id, "bo@"+domain, "VIEWER")
	e.createNamedKey(id, "Deploy pipeline", "TENANT_READ")
	ingest, _ := e.createNamedKey(id, "Usage ingestion", "TENANT_READ", "TENANT_UPDATE", "USAGE_WRITE")
	e.mustGQL(ingest, qDashboardRecordUsage, usageEvents("seed", "user-1", 3), nil)
	e.mustGQL(testAdminSecret, qRunBilling, map[string]any{"in": map[string]any{"period": time.Now().UTC().Format("2006-01")}}, nil)
	open := func(t *testing.T, email, live string, env ...string) dashboardReport {
		var rep dashboardReport
		runBrowserScript(t, node, "dashboard.mjs", &rep, append(env,
			"DASHBOARD_URL="+e.srv.URL+"/dashboard/", "EMAIL="+email, "PASSWORD="+testPassword, "LIVE="+live)...)
		t.Logf("steps: %q", rep.Steps)
		t.Logf("the dashboard showed, before: %+v", rep.Before)
		if !strings.HasPrefix(rep.SignInHref, "/signin?return_to=") {
			t.Errorf("signed out, the dashboard links to %q, want the sign-in page returning to it", rep.SignInHref)
		}
		if slices.Contains(rep.CookiesAfterSignOut, "__Host-tenant_session") {
			t.Error("the session cookie survived signing out of the dashboard")
		}
		rep.checkClean(t)
		return rep
	}

	t.Run("Admin", func(t *testing.T) {
		e := e.withT(t)
		email := "ana@" + domain
		before := e.dashboardTruth(id)
		if before.Invoices.TotalCount == 0 {
			t.Fatal("seeding: runBilling issued no invoice to the new tenant")
		}
		const newName = "Dashboard Co (renamed)"
		triggers, _ := json.Marshal([]map[string]any{
			{"query": `mutation($in: UpdateTenantInput!) { updateTenant(input: $in) { tenant { name } } }`,
				"variables": map[string]any{"in": map[string]any{"name": newName}}},
			{"query": qDashboardRecordUsage, "variables": usageEvents("live", "user-2", 2)},
		})
		rep := open(t, email, "connected",
			"API_URL="+e.srv.URL+"/graphql",
			"TRIGGER_TOKEN="+ingest,
			"TRIGGERS="+string(triggers),
			"EXPECT_LIVE=tenant.updated,usage.recorded",
			"EXPECT_NAME="+newName,
			"EXPECT_INTERACTIONS="+strconv.Itoa(before.Usage.InteractionsThisMonth+2),
		)
		t.Logf("after: %+v", rep.After)
		after := e.dashboardTruth(id)

		if want := email + " · ADMIN"; rep.Before.Who != want {
			t.Errorf("the dashboard says it is signed in as %q, want %q", rep.Before.Who, want)
		}
		checkDashboardView(t, "before the change", rep.Before, before)
		for i, inv := range before.Invoices.Nodes {
			if i < len(rep.Before.Invoices) && rep.Before.Invoices[i].Href != inv.PdfURL {
				t.Errorf("invoice %s links to %q, want its pdfUrl %q", inv.Number, rep.Before.Invoices[i].Href, inv.PdfURL)
			}
		}
		if n := rep.PdfNavigation; n == nil || n.Status != 200 || n.ContentType != "application/pdf" {
			t.Errorf("following an invoice's PDF link: %+v, want 200 application/pdf", n)
		}
		if f := rep.PdfFetch; f == nil || f.Status != 200 || f.Magic != "%PDF-" {
			t.Errorf("the PDF link's bytes: %+v, want a PDF", f)
		}

		for i, tr := range rep.Triggered {
			if tr.Status != 200 || strings.Contains(tr.Body, `"errors"`) {
				t.Fatalf("trigger %d: %d %s", i, tr.Status, tr.Body)
			}
		}
		if after.Name != newName || after.Usage.InteractionsThisMonth != before.Usage.InteractionsThisMonth+2 {
			t.Fatalf("the API after the triggers: name %q, %d interactions", after.Name, after.Usage.InteractionsThisMonth)
		}
		checkDashboardView(t, "after the change", rep.After, after)
		// The events that arrived live are the API's, by id.
		for _, wireType := range []string{"tenant.updated", "usage.recorded"} {
			var apiID string
			for _, ev := range after.Events.Nodes {
				if ev.WireType == wireType {
					apiID = ev.ID // newest first: the triggers' are the newest
					break
				}
			}
			live := false
			for _, ev := range rep.After.Events {
				if ev.WireType == wireType && ev.Live && ev.ID == apiID {
					live = true
				}
			}
			if !live {
				t.Errorf("the %s event %s did not arrive live; the dashboard shows %+v", wireType, apiID, rep.After.Events)
			}
		}
		sawSocket := false
		for _, r := range rep.Requests {
			sawSocket = sawSocket || strings.HasPrefix(r, "WS ")
		}
		if !sawSocket {
			t.Errorf("the dashboard opened no websocket: %q", rep.Requests)
		}
	})

	t.Run("Viewer", func(t *testing.T) {
		e := e.withT(t)
		email := "bo@" + domain
		truth := e.dashboardTruth(id)
		rep := open(t, email, "ended")
		if want := email + " · VIEWER"; rep.Before.Who != want {
			t.Errorf("the dashboard says it is signed in as %q, want %q", rep.Before.Who, want)
		}
		checkDashboardView(t, "as a VIEWER", rep.Before, truth, "invoices", "api-keys", "events")
		if rep.PdfNavigation != nil {
			t.Errorf("a VIEWER followed an invoice link: %+v", rep.PdfNavigation)
		}
		for _, r := range rep.Requests {
			if strings.HasPrefix(r, "WS ") {
				t.Errorf("the dashboard of a role without EVENTS_READ opened a websocket: %s", r)
			}
		}
	})
}

// checkDashboardView compares what the dashboard showed with the API's
// answer at the same moment. The forbidden sections (by id) must show the
// API's FORBIDDEN error instead; every other section must show no error.
func checkDashboardView(t *testing.T, when string, v dashboardView, api dashboardTruth, forbidden ...string) {
	t.Helper()
	if v.State != "ready" {
		t.Errorf("%s: the dashboard is %q, want ready", when, v.State)
	}
	var sections []string
	for _, e := range v.SectionErrors {
		section, rest, _ := strings.Cut(e, " ")
		if !strings.HasPrefix(rest, "FORBIDDEN: ") {
			t.Errorf("%s: section %s shows %q, want nothing or FORBIDDEN", when, section, rest)
		}
		sections = append(sections, section)
	}
	if !slices.Equal(sections, forbidden) {
		t.Errorf("%s: sections %q show an error, want %q: %q", when, sections, forbidden, v.SectionErrors)
	}
	shown := func(section string) bool { return !slices.Contains(forbidden, section) }
	if v.TenantName != api.Name || v.PlanName != api.Plan.Name {
		t.Errorf("%s: shows %q on plan %q, want %q on %q", when, v.TenantName, v.PlanName, api.Name, api.Plan.Name)
	}
	for key, want := range map[string]struct {
		used  int
		limit *int
	}{
		"activeUsers":  {api.Usage.ActiveUsers, api.Limits.Users},
		"policies":     {api.Usage.Policies, api.Limits.Policies},
		"interactions": {api.Usage.InteractionsThisMonth, api.Limits.InteractionsPerMonth},
	} {
		got, ok := v.Meters[key]
		if !ok || got.Used != want.used || !eqIntPtr(got.Limit, want.limit) {
			t.Errorf("%s: meter %s = %+v, want %d of %s", when, key, got, want.used, ptrInt(want.limit))
		}
	}
	if !shown("invoices") {
		api.Invoices.Nodes = nil // not compared
	} else if v.InvoicesTotal == nil || *v.InvoicesTotal != api.Invoices.TotalCount || len(v.Invoices) != len(api.Invoices.Nodes) {
		t.Errorf("%s: %d invoice rows of %s, want %d of %d", when, len(v.Invoices), ptrInt(v.InvoicesTotal), len(api.Invoices.Nodes), api.Invoices.TotalCount)
	}
	for i, inv := range api.Invoices.Nodes {
		if i < len(v.Invoices) && (v.Invoices[i].ID != inv.ID || v.Invoices[i].Number != inv.Number) {
			t.Errorf("%s: invoice row %d = %+v, want %s %s", when, i, v.Invoices[i], inv.ID, inv.Number)
		}
	}
	var keys, members []string
	for _, k := range api.APIKeys.Nodes {
		keys = append(keys, k.Name)
	}
	for _, m := range api.Members.Nodes {
		members = append(members, m.Email)
	}
	if shown("api-keys") && (v.APIKeysTotal == nil || *v.APIKeysTotal != api.APIKeys.TotalCount || !slices.Equal(v.APIKeys, keys)) {
		t.Errorf("%s: API keys %q (total %s), want %q (total %d)", when, v.APIKeys, ptrInt(v.APIKeysTotal), keys, api.APIKeys.TotalCount)
	}
	if shown("members") && (v.MembersTotal == nil || *v.MembersTotal != api.Members.TotalCount || !slices.Equal(v.Members, members)) {
		t.Errorf("%s: members %q (total %s), want %q (total %d)", when, v.Members, ptrInt(v.MembersTotal), members, api.Members.TotalCount)
	}
}
