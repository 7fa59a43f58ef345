package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"
)

// Tenant is one seeded tenant the workloads use: its id and an API key
// holding every tenant permission.
type Tenant struct {
	ID, Plan, Key string
	Line          int // its line in keys.tsv, from 0: the seeder's order
}

// pastDue says whether the seeder made the subscription of the tenant of
// line i PAST_DUE (one in 25): such a tenant's usage is refused once its
// credits are spent, so workload 4 records usage for current tenants only.
func pastDue(i int) bool { return i%25 == 1 }

// ReadTenants reads the seeder's keys.tsv, keeping the tenants on the
// given plans (the workloads use professional and enterprise tenants, whose
// rate limits, 1,000 and 5,000 requests a minute, a spread-out load stays
// under; the starter plan's 100 a minute would refuse it).
func ReadTenants(path string, plans ...string) ([]Tenant, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w (run the seeder first: make bench-seed)", err)
	}
	defer f.Close()
	keep := map[string]bool{}
	for _, p := range plans {
		keep[p] = true
	}
	var out []Tenant
	sc := bufio.NewScanner(f)
	for line := 0; sc.Scan(); line++ {
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) != 3 {
			continue
		}
		if len(keep) == 0 || keep[parts[1]] {
			out = append(out, Tenant{ID: parts[0], Plan: parts[1], Key: parts[2], Line: line})
		}
	}
	return out, sc.Err()
}

// Features are the optional Tenant fields present in this API's schema when
// the benchmark runs (other areas add them over time); the workloads
// include each one present, and the peer's queries fetch the same data.
type Features struct {
	Billing, Invoices, Stats, Credits, AccountStatus bool
}

// Dates are the calendar facts the queries depend on, fixed at start.
type Dates struct {
	Today, MonthStart, StatsFrom time.Time
	MonthDays                    int // days of the current month so far, today included
}

// NewDates computes the dates for now (UTC).
func NewDates(now time.Time) Dates {
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return Dates{Today: today, MonthStart: today.AddDate(0, 0, 1-today.Day()), StatsFrom: today.AddDate(0, 0, -29), MonthDays: today.Day()}
}

func gqlBody(query string, vars map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		panic(err) // only maps of strings and numbers
	}
	return b
}

// The dashboard's home (workload 1). The stats summary asks for the totals
// the peer can compute from the same daily rows (not the distinct users and
// platforms, which PostGraphile's generated schema cannot aggregate).
func oursHome(f Features) string {
	q := `query Home($from: DateOrTime!, $to: DateOrTime!) { me { id name domain status
  plan { id name monthlyPriceCents currency }
  settings { dataResidency encryptionEnabled auditLogRetentionDays ssoEnabled ipAllowlist deduplicateTokens version updatedAt updatedBy }
  limits { users policies interactionsPerMonth apiRequestsPerMinute }
  usage { activeUsers policies interactionsThisMonth }`
	if f.Billing {
		q += `
  billing { status billingPeriod nextBillingDate amount { amountCents currency formatted } paymentMethod { type brand last4 } billingEmail scheduledPlanChange { effectiveDate plan { id } } version updatedAt updatedBy }`
	}
	if f.Invoices {
		q += `
  invoices(first: 5) { totalCount nodes { id number status date dueDate amount { amountCents currency } description periodStart periodEnd paidAt createdAt } }`
	}
	if f.Stats {
		q += `
  stats(startDate: $from, endDate: $to, granularity: DAILY) { summary { totalInteractions blocked coached logged highRisk } trends { date interactions blocked coached logged highRisk } }`
	}
	if f.AccountStatus {
		q += "\n  accountStatus " + oursAccountStatus
	}
	return q + "\n} }"
}

// peerHome is oursHome in PostGraphile's generated schema: the same rows,
// which the client would then sum (usage this month, stats totals).
func peerHome(f Features) string {
	q := `query Home($id: UUID!, $month: Date!, $monthDays: Int!) { tenantByRowId(rowId: $id) { rowId name domain status
  planByPlanId { rowId name monthlyPriceCents currency users policies interactionsPerMonth apiRequestsPerMinute }
  tenantSettingByTenantId { dataResidency encryptionEnabled auditLogRetentionDays ssoEnabled ipAllowlist deduplicateTokens version updatedAt updatedBy }
  usageCounterByTenantId { policies }
  activeUsers: usageMonthlyUsersByTenantId(condition: {month: $month}) { totalCount }
  thisMonth: usageDailiesByTenantId(orderBy: DAY_DESC, first: $monthDays) { nodes { day interactions } }`
	if f.Billing {
		q += `
  billingAccountByTenantId { status billingPeriod nextBillingDate paymentType paymentBrand paymentLast4 billingEmail scheduledPlanId scheduledEffectiveDate version updatedAt updatedBy }`
	}
	if f.Invoices {
		q += `
  invoicesByTenantId(orderBy: [DATE_DESC, ROW_ID_DESC], first: 5) { totalCount nodes { rowId number status date dueDate amountCents currency description periodStart periodEnd paidAt createdAt } }`
	}
	if f.Stats {
		q += `
  stats: usageDailiesByTenantId(orderBy: DAY_DESC, first: 30) { nodes { day interactions logged coached blocked highRisk } }`
	}
	if f.AccountStatus {
		q += "\n  " + peerAccountStatus
	}
	return q + "\n} }"
}

// oursAccountStatus is the dashboard's summary; its plan, limits and usage
// are already selected at the top of the query.
const oursAccountStatus = `{ subscription { status month remaining { users policies interactions } } credits { granted used remaining expiredUnused expiresAt } watchlist { availableSeats activeSubjects remainingSeats } requiresPayment canDoScreening }`

// peerAccountStatus fetches what accountStatus is computed from, beyond
// what the rest of the query already has (billing status, plan limits, this
// month's usage): the credit grants and the watchlist seats.
const peerAccountStatus = `creditGrantsByTenantId { nodes { amount used expiresAt } }
  watchlistSeatByTenantId { availableSeats activeSubjects }`

// The operator's list (workload 2): the newest 100 tenants.
func oursList(f Features) string {
	q := `{ tenants(first: 100) { totalCount pageInfo { hasNextPage endCursor } nodes { id name domain status
  plan { id name }
  settings { dataResidency auditLogRetentionDays ssoEnabled }
  limits { users policies interactionsPerMonth apiRequestsPerMinute }
  usage { activeUsers policies interactionsThisMonth }`
	if f.Billing {
		q += `
  billing { status billingPeriod nextBillingDate amount { amountCents currency } }`
	}
	if f.Invoices {
		q += `
  invoices(first: 3) { nodes { id number status date amount { amountCents currency } } }`
	}
	return q + "\n} } }"
}

func peerList(f Features) string {
	q := `query List($month: Date!, $monthDays: Int!) { allTenants(first: 100, orderBy: [CREATED_AT_DESC, ROW_ID_DESC]) { totalCount pageInfo { hasNextPage endCursor } nodes { rowId name domain status
  planByPlanId { rowId name users policies interactionsPerMonth apiRequestsPerMinute monthlyPriceCents currency }
  tenantSettingByTenantId { dataResidency auditLogRetentionDays ssoEnabled }
  usageCounterByTenantId { policies }
  activeUsers: usageMonthlyUsersByTenantId(condition: {month: $month}) { totalCount }
  thisMonth: usageDailiesByTenantId(orderBy: DAY_DESC, first: $monthDays) { nodes { day interactions } }`
	if f.Billing {
		q += `
  billingAccountByTenantId { status billingPeriod nextBillingDate }`
	}
	if f.Invoices {
		q += `
  invoicesByTenantId(orderBy: [DATE_DESC, ROW_ID_DESC], first: 3) { nodes { rowId number status date amountCents currency } }`
	}
	return q + "\n} } }"
}

// pick spreads requests over the tenant pool.
func pick(pool []Tenant, seq int64) Tenant { return pool[int((seq*7919)%int64(len(pool)))] }

// HomeWorkloads returns workload 1 for this API and for the peer.
func HomeWorkloads(pool []Tenant, f Features, d Dates) (ours, peer Workload) {
	return homeWorkloads("home", pool, f, d, func(seq int64) int { return int((seq * 7919) % int64(len(pool))) })
}

// homeWorkloads is the dashboard home, as workload name, of the tenant at
// index(seq) of the pool.
func homeWorkloads(name string, pool []Tenant, f Features, d Dates, index func(seq int64) int) (ours, peer Workload) {
	ob := gqlBody(oursHome(f), map[string]any{"from": date(d.StatsFrom), "to": date(d.Today)})
	q := peerHome(f)
	peerBodies := make([][]byte, len(pool))
	for i, t := range pool {
		peerBodies[i] = gqlBody(q, map[string]any{"id": t.ID, "month": date(d.MonthStart), "monthDays": d.MonthDays})
	}
	ours = Workload{Name: name, Next: func(_ int, seq int64) Request {
		return Request{Body: ob, Bearer: pool[index(seq)].Key}
	}, Check: func(b []byte) string { return checkHome(b, f, true) }}
	peer = Workload{Name: name, Next: func(_ int, seq int64) Request {
		return Request{Body: peerBodies[index(seq)]}
	}, Check: func(b []byte) string { return checkHome(b, f, false) }}
	return ours, peer
}

// ListWorkloads returns workload 2 for this API (with the admin secret)
// and for the peer.
func ListWorkloads(adminSecret string, f Features, d Dates) (ours, peer Workload) {
	ob := gqlBody(oursList(f), nil)
	pb := gqlBody(peerList(f), map[string]any{"month": date(d.MonthStart), "monthDays": d.MonthDays})
	ours = Workload{Name: "list", Next: func(int, int64) Request { return Request{Body: ob, Bearer: adminSecret} },
		Check: func(b []byte) string { return checkList(b, true) }}
	peer = Workload{Name: "list", Next: func(int, int64) Request { return Request{Body: pb} },
		Check: func(b []byte) string { return checkList(b, false) }}
	return ours, peer
}

// ListWorkloadOf is workload 2 with another page size, for the
// statement-count check (constant in the list size).
func ListWorkloadOf(adminSecret string, f Features, n int) Workload {
	b := gqlBody(strings.Replace(oursList(f), "tenants(first: 100)", fmt.Sprintf("tenants(first: %d)", n), 1), nil)
	return Workload{Name: fmt.Sprintf("list%d", n), Next: func(int, int64) Request { return Request{Body: b, Bearer: adminSecret} }}
}

// WriteWorkload returns workload 3 (this API only): in turn a settings
// change, a new list of 50 keywords and a batch of 20 usage events, each
// for a tenant of the pool with its own key (a usage batch: a current
// tenant's, as a past-due one records usage only against credits).
func WriteWorkload(pool []Tenant, nonce string) Workload {
	return writeWorkload(nonce, func(seq int64) Tenant {
		t := pick(pool, seq)
		for i := int64(1); seq%3 == 2 && pastDue(t.Line); i++ {
			t = pick(pool, seq+i)
		}
		return t
	})
}

// Zipf is a fixed sequence of tenant ranks drawn from a Zipf
// distribution (exponent 1.1; over a pool of 2,000 the first tenant gets
// 17% of the draws, the first 20 54%, the first 200 80%, and 1,968
// tenants are drawn at least once in 65,536), so every server of a run sees
// the same tenants in the same order.
type Zipf []int

// NewZipf draws n ranks below poolSize.
func NewZipf(poolSize, n int) Zipf {
	r := rand.New(rand.NewPCG(17, 29))
	z := rand.NewZipf(r, 1.1, 1, uint64(poolSize-1))
	out := make(Zipf, n)
	for i := range out {
		out[i] = int(z.Uint64())
	}
	return out
}

// pick returns the tenant of the seq'th draw.
func (z Zipf) pick(pool []Tenant, seq int64) Tenant { return pool[z[int(seq%int64(len(z)))]] }

// MixedWorkloads returns the realistic read side (workload 4): the
// dashboard home of a tenant drawn by z, the hot tenants far more often;
// its writes (MixedWrites) run alongside at a fixed rate.
func MixedWorkloads(pool []Tenant, z Zipf, f Features, d Dates) (ours, peer Workload) {
	return homeWorkloads("mixed", pool, f, d, func(seq int64) int { return z[int(seq%int64(len(z)))] })
}

// MixedWrites is workload 4's write side, sent to this API whichever
// server is measured: workload 3's writes for tenants drawn by z (other
// draws than the reads'), the hot tenants written most.
func MixedWrites(pool []Tenant, z Zipf, nonce string) Workload {
	return writeWorkload(nonce, func(seq int64) Tenant {
		t := z.pick(pool, seq*7+3)
		for i := 1; seq%3 == 2 && pastDue(t.Line); i++ { // a usage batch: a current tenant's
			t = z.pick(pool, seq*7+3+int64(i))
		}
		return t
	})
}

func writeWorkload(nonce string, pick func(int64) Tenant) Workload {
	const (
		settings = `mutation($d: Int!) { updateTenantSettings(input: {auditLogRetentionDays: $d}) { settings { auditLogRetentionDays version } } }`
		keywords = `mutation($k: [String!]!) { updateKeywords(input: {keywords: $k}) { keywords { version } } }`
		usage    = `mutation($e: [UsageEventInput!]!) { recordUsage(input: {events: $e}) { accepted duplicates } }`
	)
	outcomes := []string{"LOGGED", "LOGGED", "LOGGED", "COACHED", "BLOCKED"}
	risks := []string{"LOW", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
	return Workload{Name: "writes", Next: func(_ int, seq int64) Request {
		t := pick(seq)
		switch seq % 3 {
		case 0:
			return Request{Body: gqlBody(settings, map[string]any{"d": 90 + int(seq%2000)}), Bearer: t.Key}
		case 1:
			kw := make([]string, 50)
			for i := range kw {
				kw[i] = fmt.Sprintf("%s %s %d", kwords[(int(seq)+i)%len(kwords)], kwords[i%len(kwords)], i)
			}
			return Request{Body: gqlBody(keywords, map[string]any{"k": kw}), Bearer: t.Key}
		}
		now := time.Now().UTC()
		ev := make([]map[string]any, 20)
		for i := range ev {
			ev[i] = map[string]any{"id": fmt.Sprintf("bench-%s-%d-%d", nonce, seq, i), "occurredAt": now.Add(-time.Duration(i) * time.Minute).Format(time.RFC3339),
				"userId": fmt.Sprintf("user-%d", i%7), "platform": []string{"chatgpt", "copilot", "gemini"}[i%3], "outcome": outcomes[i%5], "riskLevel": risks[i%5]}
		}
		return Request{Body: gqlBody(usage, map[string]any{"e": ev}), Bearer: t.Key}
	}}
}

// checkHome validates one home response: no errors, and the expected
// number of invoices and stats days.
func checkHome(b []byte, f Features, ours bool) string {
	var r struct {
		Errors []json.RawMessage
		Data   map[string]json.RawMessage
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return "not JSON: " + err.Error()
	}
	if len(r.Errors) > 0 {
		return "errors: " + string(r.Errors[0])
	}
	h, err := homeFingerprint(b, ours)
	if err != nil {
		return err.Error()
	}
	if h.Name == "" {
		return "no tenant"
	}
	if f.Invoices && len(h.Invoices) != 5 {
		return fmt.Sprintf("%d invoices, want 5", len(h.Invoices))
	}
	if f.Stats && len(h.Days) != 30 {
		return fmt.Sprintf("%d stats days, want 30", len(h.Days))
	}
	return ""
}

func checkList(b []byte, ours bool) string {
	l, err := listFingerprint(b, ours)
	if err != nil {
		return err.Error()
	}
	if len(l) != 100 {
		return fmt.Sprintf("%d tenants, want 100", len(l))
	}
	return ""
}

// Fingerprint is what both servers must agree on for one tenant: the
// benchmark compares them before measuring, so the peer's query is known
// to fetch the same data.
type Fingerprint struct {
	ID, Name, Plan     string
	Retention          int
	ActiveUsers        int
	InteractionsMonth  int64
	BillingStatus      string
	Invoices           []string // numbers, newest first
	Days               []int64  // interactions per day, oldest first
	InteractionsPeriod int64    // over the stats period
	CreditsGranted     int64    // accountStatus: credits granted and used
	CreditsUsed        int64
	Seats              int // accountStatus: watchlist seats available
}

type num = json.Number

func toInt(n num) int64 { v, _ := n.Int64(); return v }

// homeFingerprint reads a home response of either server.
func homeFingerprint(b []byte, ours bool) (*Fingerprint, error) {
	dec := func(v any) error {
		d := json.NewDecoder(strings.NewReader(string(b)))
		d.UseNumber()
		return d.Decode(v)
	}
	if ours {
		var r struct {
			Data struct {
				Me *oursTenant `json:"me"`
			}
		}
		if err := dec(&r); err != nil || r.Data.Me == nil {
			return nil, fmt.Errorf("no me in %.200s", b)
		}
		return r.Data.Me.fingerprint(), nil
	}
	var r struct {
		Data struct {
			T *peerTenant `json:"tenantByRowId"`
		}
	}
	if err := dec(&r); err != nil || r.Data.T == nil {
		return nil, fmt.Errorf("no tenantByRowId in %.200s", b)
	}
	return r.Data.T.fingerprint(), nil
}

func listFingerprint(b []byte, ours bool) ([]*Fingerprint, error) {
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	var out []*Fingerprint
	if ours {
		var r struct {
			Errors []json.RawMessage
			Data   struct {
				Tenants struct{ Nodes []*oursTenant }
			}
		}
		if err := d.Decode(&r); err != nil || len(r.Errors) > 0 {
			return nil, fmt.Errorf("bad list response: %.300s", b)
		}
		for _, t := range r.Data.Tenants.Nodes {
			out = append(out, t.fingerprint())
		}
		return out, nil
	}
	var r struct {
		Errors []json.RawMessage
		Data   struct {
			AllTenants struct{ Nodes []*peerTenant }
		}
	}
	if err := d.Decode(&r); err != nil || len(r.Errors) > 0 {
		return nil, fmt.Errorf("bad list response: %.300s", b)
	}
	for _, t := range r.Data.AllTenants.Nodes {
		out = append(out, t.fingerprint())
	}
	return out, nil
}

type oursTenant struct {
	ID, Name string
	Plan     struct{ ID string }
	Settings struct{ AuditLogRetentionDays int }
	Usage    struct {
		ActiveUsers           int
		InteractionsThisMonth num
	}
	Billing  *struct{ Status string }
	Invoices *struct {
		Nodes []struct{ Number string }
	}
	Stats *struct {
		Summary struct{ TotalInteractions num }
		Trends  []struct{ Interactions num }
	}
	AccountStatus *struct {
		Credits   struct{ Granted, Used num }
		Watchlist struct{ AvailableSeats int }
	}
}

func (t *oursTenant) fingerprint() *Fingerprint {
	f := &Fingerprint{ID: t.ID, Name: t.Name, Plan: t.Plan.ID, Retention: t.Settings.AuditLogRetentionDays,
		ActiveUsers: t.Usage.ActiveUsers, InteractionsMonth: toInt(t.Usage.InteractionsThisMonth)}
	if t.Billing != nil {
		f.BillingStatus = t.Billing.Status
	}
	if t.Invoices != nil {
		for _, i := range t.Invoices.Nodes {
			f.Invoices = append(f.Invoices, i.Number)
		}
	}
	if t.Stats != nil {
		for _, d := range t.Stats.Trends {
			f.Days = append(f.Days, toInt(d.Interactions))
		}
		f.InteractionsPeriod = toInt(t.Stats.Summary.TotalInteractions)
	}
	if a := t.AccountStatus; a != nil {
		f.CreditsGranted, f.CreditsUsed, f.Seats = toInt(a.Credits.Granted), toInt(a.Credits.Used), a.Watchlist.AvailableSeats
	}
	return f
}

type peerTenant struct {
	RowID, Name  string
	PlanByPlanID struct {
		RowID string
	}
	TenantSettingByTenantID struct{ AuditLogRetentionDays int }
	ActiveUsers             struct{ TotalCount int }
	ThisMonth               struct {
		Nodes []struct{ Interactions num }
	}
	BillingAccountByTenantID *struct{ Status string }
	InvoicesByTenantID       *struct {
		Nodes []struct{ Number string }
	}
	Stats *struct {
		Nodes []struct{ Interactions num }
	}
	CreditGrantsByTenantID *struct {
		Nodes []struct{ Amount, Used num }
	}
	WatchlistSeatByTenantID *struct{ AvailableSeats int }
}

func (t *peerTenant) fingerprint() *Fingerprint {
	f := &Fingerprint{ID: t.RowID, Name: t.Name, Plan: t.PlanByPlanID.RowID, Retention: t.TenantSettingByTenantID.AuditLogRetentionDays,
		ActiveUsers: t.ActiveUsers.TotalCount}
	for _, d := range t.ThisMonth.Nodes {
		f.InteractionsMonth += toInt(d.Interactions)
	}
	if t.BillingAccountByTenantID != nil {
		f.BillingStatus = t.BillingAccountByTenantID.Status
	}
	if t.InvoicesByTenantID != nil {
		for _, i := range t.InvoicesByTenantID.Nodes {
			f.Invoices = append(f.Invoices, i.Number)
		}
	}
	if t.Stats != nil {
		for i := len(t.Stats.Nodes) - 1; i >= 0; i-- { // newest first: reverse
			v := toInt(t.Stats.Nodes[i].Interactions)
			f.Days = append(f.Days, v)
			f.InteractionsPeriod += v
		}
	}
	if g := t.CreditGrantsByTenantID; g != nil {
		for _, n := range g.Nodes {
			f.CreditsGranted += toInt(n.Amount)
			f.CreditsUsed += toInt(n.Used)
		}
	}
	if w := t.WatchlistSeatByTenantID; w != nil {
		f.Seats = w.AvailableSeats
	}
	return f
}

// SameData compares two fingerprints and says how they differ ("" if not).
func SameData(a, b *Fingerprint) string {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		return fmt.Sprintf("ours %s\n  peer %s", ja, jb)
	}
	return ""
}
