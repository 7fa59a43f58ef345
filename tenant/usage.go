package tenant

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Usage ingestion, credits and statistics. Interaction events arrive in
// batches (recordUsage), are de-duplicated by id and rolled up per tenant
// per UTC day; statistics and reports read the roll-ups only.

// Limits of recordUsage.
const (
	MaxUsageBatch      = 1000
	MaxEventIDLength   = 100
	MaxUserIDLength    = 100
	MaxPlatformLength  = 100
	MaxTokenTypeLength = 50
	MaxTokenIDLength   = 100
	// MaxEventAge is how old an event may be when it is recorded. It is also
	// how long event ids are worth keeping for de-duplication: an older
	// event is refused anyway.
	MaxEventAge = 35 * 24 * time.Hour
	// MaxEventSkew is how far in the future an event may be dated (clock
	// skew between the reporting service and this API).
	MaxEventSkew = 5 * time.Minute
)

// Outcome is what the product did with an interaction: the GraphQL enum
// InteractionOutcome.
type Outcome string

// Interaction outcomes.
const (
	OutcomeLogged  Outcome = "LOGGED"
	OutcomeCoached Outcome = "COACHED"
	OutcomeBlocked Outcome = "BLOCKED"
)

// Valid reports whether o is a known outcome.
func (o Outcome) Valid() bool {
	return o == OutcomeLogged || o == OutcomeCoached || o == OutcomeBlocked
}

// UnmarshalGQL decodes the GraphQL enum InteractionOutcome.
func (o *Outcome) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	if !Outcome(s).Valid() {
		return Invalid("outcome", "outcome must be LOGGED, COACHED or BLOCKED, got %q", s)
	}
	*o = Outcome(s)
	return nil
}

// MarshalGQL encodes the GraphQL enum InteractionOutcome.
func (o Outcome) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(o))) }

// RiskLevel is the risk an interaction was assessed at: the GraphQL enum
// RiskLevel. HIGH and CRITICAL count as high risk in statistics.
type RiskLevel string

// Risk levels, lowest first.
const (
	RiskLow      RiskLevel = "LOW"
	RiskMedium   RiskLevel = "MEDIUM"
	RiskHigh     RiskLevel = "HIGH"
	RiskCritical RiskLevel = "CRITICAL"
)

// Valid reports whether r is a known risk level.
func (r RiskLevel) Valid() bool {
	return r == RiskLow || r == RiskMedium || r == RiskHigh || r == RiskCritical
}

// IsHigh reports whether r counts as high risk (HIGH or CRITICAL).
func (r RiskLevel) IsHigh() bool { return r == RiskHigh || r == RiskCritical }

// UnmarshalGQL decodes the GraphQL enum RiskLevel.
func (r *RiskLevel) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	if !RiskLevel(s).Valid() {
		return Invalid("riskLevel", "riskLevel must be LOW, MEDIUM, HIGH or CRITICAL, got %q", s)
	}
	*r = RiskLevel(s)
	return nil
}

// MarshalGQL encodes the GraphQL enum RiskLevel.
func (r RiskLevel) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(r))) }

// UsageEvent is one interaction reported by recordUsage (the GraphQL input
// UsageEventInput).
type UsageEvent struct {
	// ID is chosen by the client and makes the event idempotent: an id
	// already recorded for the tenant is counted once.
	ID         string
	OccurredAt time.Time
	UserID     string
	Platform   string
	Outcome    Outcome
	RiskLevel  RiskLevel
	// TokenType, when set, counts the event in the usage report's token
	// metrics under that type (lower-cased: `token`, `card`, `bank`).
	TokenType *string
	// TokenID, when set, names the token (with its TokenType): each
	// distinct token counts once in a month's active tokens, whatever the
	// number of its events.
	TokenID *string
}

// UsageBatch is the input of recordUsage.
type UsageBatch struct {
	Events       []UsageEvent
	ValidateOnly bool
}

// Normalize validates every event against now and canonicalizes it in
// place (user ids trimmed, platforms and token types trimmed and
// lower-cased, times in UTC). The first bad event refuses the batch, its
// error naming the event by index (events[12].platform).
func (b *UsageBatch) Normalize(now time.Time) error {
	if n := len(b.Events); n == 0 || n > MaxUsageBatch {
		return Invalid("events", "events must hold 1 to %s events, got %s", FormatCount(MaxUsageBatch), FormatCount(n))
	}
	earliest, latest := now.Add(-MaxEventAge), now.Add(MaxEventSkew)
	for i := range b.Events {
		e := &b.Events[i]
		at := func(f string) string { return fmt.Sprintf("events[%d].%s", i, f) }
		if err := checkText(at("id"), e.ID, MaxEventIDLength); err != nil {
			return err
		}
		e.OccurredAt = e.OccurredAt.UTC()
		if e.OccurredAt.Before(earliest) || e.OccurredAt.After(latest) {
			return Invalid(at("occurredAt"), "%s must be within the last 35 days and at most 5 minutes ahead (%s to %s), got %s",
				at("occurredAt"), earliest.Format(time.RFC3339), latest.Format(time.RFC3339), e.OccurredAt.Format(time.RFC3339Nano))
		}
		e.UserID = strings.TrimSpace(e.UserID)
		if err := checkText(at("userId"), e.UserID, MaxUserIDLength); err != nil {
			return err
		}
		e.Platform = strings.ToLower(strings.TrimSpace(e.Platform))
		if err := checkText(at("platform"), e.Platform, MaxPlatformLength); err != nil {
			return err
		}
		if !e.Outcome.Valid() {
			return Invalid(at("outcome"), "%s must be LOGGED, COACHED or BLOCKED, got %q", at("outcome"), e.Outcome)
		}
		if !e.RiskLevel.Valid() {
			return Invalid(at("riskLevel"), "%s must be LOW, MEDIUM, HIGH or CRITICAL, got %q", at("riskLevel"), e.RiskLevel)
		}
		if e.TokenType != nil {
			t := strings.ToLower(strings.TrimSpace(*e.TokenType))
			if !validTokenType(t) {
				return Invalid(at("tokenType"), "%s must be 1 to %d letters, digits, '_', '-' or '.' starting with a letter or digit (such as token, card or bank), got %q",
					at("tokenType"), MaxTokenTypeLength, *e.TokenType)
			}
			e.TokenType = &t
		}
		if e.TokenID != nil {
			id := strings.TrimSpace(*e.TokenID)
			if err := checkText(at("tokenId"), id, MaxTokenIDLength); err != nil {
				return err
			}
			if e.TokenType == nil {
				return Invalid(at("tokenId"), "%s needs %s: a token has a type (such as token, card or bank)", at("tokenId"), at("tokenType"))
			}
			e.TokenID = &id
		}
	}
	return nil
}

// checkText refuses an empty or too long value, or one holding control
// characters (which also keeps NUL out of PostgreSQL text).
func checkText(field, s string, max int) error {
	n := utf8.RuneCountInString(s)
	if n == 0 || n > max {
		return Invalid(field, "%s must be 1 to %d characters, got %d", field, max, n)
	}
	if !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return Invalid(field, "%s must not contain control characters, got %q", field, s)
	}
	return nil
}

func validTokenType(t string) bool {
	if len(t) == 0 || len(t) > MaxTokenTypeLength {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '-' && c != '.') {
			return false
		}
	}
	return true
}

// Unique returns the events with repeated ids left out (the first of each
// id is kept) and how many were left out.
func Unique(events []UsageEvent) ([]UsageEvent, int) {
	seen := make(map[string]bool, len(events))
	out := make([]UsageEvent, 0, len(events))
	for _, e := range events {
		if !seen[e.ID] {
			seen[e.ID] = true
			out = append(out, e)
		}
	}
	return out, len(events) - len(out)
}

// DayCounts are the roll-up of one UTC day.
type DayCounts struct {
	Day          Date
	Interactions int
	Logged       int
	Coached      int
	Blocked      int
	HighRisk     int
	// Tokenized counts the events that carried a token type but no token
	// id: each is a token of its own in the month's active tokens (named
	// tokens are counted in Rollup.MonthTokens instead).
	Tokenized int
}

// DayValue is a distinct value seen on a day (or in a month: Day is then
// the first of the month).
type DayValue struct {
	Day   Date
	Value string
}

// TokenCount is the roll-up of one token type.
type TokenCount struct {
	Type          string
	Count         int
	LastCreatedAt time.Time
}

// Rollup is what a set of new events adds to a tenant's roll-ups: one entry
// per day, per distinct (day, user), (month, user), (day, platform) and per
// token type, each sorted, so the statements that apply it touch rows in a
// stable order.
type Rollup struct {
	Days         []DayCounts
	DayUsers     []DayValue
	MonthUsers   []DayValue
	DayPlatforms []DayValue
	Tokens       []TokenCount
	// MonthTokens are the distinct named tokens (TokenID) per month.
	MonthTokens []DayValue
}

// NewRollup aggregates events (already normalized and de-duplicated).
func NewRollup(events []UsageEvent) *Rollup {
	days := map[Date]*DayCounts{}
	dayUsers, monthUsers, dayPlatforms, monthTokens := map[DayValue]bool{}, map[DayValue]bool{}, map[DayValue]bool{}, map[DayValue]bool{}
	tokens := map[string]*TokenCount{}
	for _, e := range events {
		d := DateOf(e.OccurredAt)
		c := days[d]
		if c == nil {
			c = &DayCounts{Day: d}
			days[d] = c
		}
		c.Interactions++
		switch e.Outcome {
		case OutcomeLogged:
			c.Logged++
		case OutcomeCoached:
			c.Coached++
		case OutcomeBlocked:
			c.Blocked++
		}
		if e.RiskLevel.IsHigh() {
			c.HighRisk++
		}
		dayUsers[DayValue{d, e.UserID}] = true
		monthUsers[DayValue{d.MonthStart(), e.UserID}] = true
		dayPlatforms[DayValue{d, e.Platform}] = true
		if e.TokenID != nil {
			monthTokens[DayValue{d.MonthStart(), *e.TokenID}] = true
		} else if e.TokenType != nil {
			c.Tokenized++
		}
		if e.TokenType != nil {
			t := tokens[*e.TokenType]
			if t == nil {
				t = &TokenCount{Type: *e.TokenType}
				tokens[*e.TokenType] = t
			}
			t.Count++
			if e.OccurredAt.After(t.LastCreatedAt) {
				t.LastCreatedAt = e.OccurredAt
			}
		}
	}
	r := &Rollup{}
	for _, c := range days {
		r.Days = append(r.Days, *c)
	}
	slices.SortFunc(r.Days, func(a, b DayCounts) int { return a.Day.Time().Compare(b.Day.Time()) })
	r.DayUsers, r.MonthUsers, r.DayPlatforms = sortedValues(dayUsers), sortedValues(monthUsers), sortedValues(dayPlatforms)
	r.MonthTokens = sortedValues(monthTokens)
	for _, t := range tokens {
		r.Tokens = append(r.Tokens, *t)
	}
	slices.SortFunc(r.Tokens, func(a, b TokenCount) int { return strings.Compare(a.Type, b.Type) })
	return r
}

func sortedValues(m map[DayValue]bool) []DayValue {
	out := make([]DayValue, 0, len(m))
	for v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b DayValue) int {
		if c := a.Day.Time().Compare(b.Day.Time()); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return out
}

// ByMonth is the number of interactions the roll-up adds to each calendar
// month, keyed by the month's first day.
func (r *Rollup) ByMonth() map[Date]int {
	out := map[Date]int{}
	for _, d := range r.Days {
		out[d.Day.MonthStart()] += d.Interactions
	}
	return out
}

// MonthUsage is a calendar month's interactions before a batch and what
// the batch adds to them.
type MonthUsage struct {
	Month Date
	Used  int // interactions recorded before the batch
	Added int // new interactions of the batch
}

// CreditsNeeded is how many credits new interactions cost under a monthly
// limit (nil: unlimited, never any): those of each month beyond the limit.
// Interactions a month already had beyond the limit were paid before.
func CreditsNeeded(limit *int, months []MonthUsage) int {
	if limit == nil {
		return 0
	}
	need := 0
	for _, m := range months {
		free := max(0, *limit-m.Used)
		need += max(0, m.Added-free)
	}
	return need
}

// QuotaExceeded is the error of a batch that needs more credits than are
// left: it names the plan's limit, the use of each month beyond it, the
// credits left and what the batch needed.
func QuotaExceeded(planID string, limit int, months []MonthUsage, need, left int) *Error {
	var used []string
	added, hit := 0, &LimitHit{Name: "interactionsPerMonth", Limit: limit}
	for _, m := range months {
		added += m.Added
		if m.Added > max(0, limit-m.Used) {
			used = append(used, fmt.Sprintf("%s of %s used in %s", FormatCount(m.Used), FormatCount(limit), m.Month.t.Format("2006-01")))
			hit.Used, hit.Requested = m.Used, m.Added
		}
	}
	e := Errorf(EQUOTA, "monthly interaction quota of %s (%s) and credits are exhausted: %s, %s left; this batch needs %s for %s; nothing was recorded",
		FormatCount(limit), planID, strings.Join(used, " and "), countOf(left, "credit"), countOf(need, "credit"), countOf(added, "new interaction"))
	e.Limit = hit
	return e
}

// PaymentRequired is the error of a batch of a tenant that cannot pay for
// it: without an ACTIVE subscription new interactions are paid by credits
// alone, and too few are left.
func PaymentRequired(st Standing, need, left int) *Error {
	return Errorf(EPAYMENT, "the subscription is %s, so usage is accepted only against credits: %s left, this batch needs %s; nothing was recorded (accountStatus.canDoScreening says the same; reactivate the subscription or grant credits)",
		st.Subscription, countOf(left, "credit"), countOf(need, "credit"))
}

// MonthUsers is a calendar month's distinct active users before a batch
// and the users the batch would add to them.
type MonthUsers struct {
	Month Date `db:"month"`
	Users int  `db:"users"` // distinct users recorded in the month before the batch
	Added int  `db:"added"` // users of the batch not yet recorded in the month
}

// UsersExceeded returns the EQUOTA error of a batch that would bring a
// month's distinct users over the plan's users limit (nil: unlimited), or
// nil. Users already counted in a month never count again, so a batch of
// theirs always passes.
func UsersExceeded(planID string, limit *int, months []MonthUsers) *Error {
	if limit == nil {
		return nil
	}
	for _, m := range months {
		if m.Added > 0 && m.Users+m.Added > *limit {
			e := Errorf(EQUOTA, "the %s plan allows %s active users a month (users): %s of %s were active in %s and this batch would add %s; users already active this month keep working; nothing was recorded",
				planID, FormatCount(*limit), FormatCount(m.Users), FormatCount(*limit), m.Month.t.Format("2006-01"), countOf(m.Added, "new user"))
			e.Limit = &LimitHit{Name: "users", Limit: *limit, Used: m.Users, Requested: m.Added}
			return e
		}
	}
	return nil
}

// countOf writes n things, in the singular for one: "1 credit", "2 credits".
func countOf(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return FormatCount(n) + " " + thing + "s"
}

// FormatCount writes n with thousands separators: 10000 -> "10,000".
func FormatCount(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Quota is a tenant's interaction quota for the current calendar month
// (UTC): the plan's limit, what the month used and the credits left for
// interactions beyond the limit.
type Quota struct {
	TenantID string
	Month    Date
	PlanID   string
	// Limit is the plan's interactions per month; nil is unlimited.
	Limit *int
	Used  int
	// Remaining is Limit - Used, never below 0; nil when unlimited.
	Remaining        *int
	CreditsRemaining int
}

// NewQuota fills Remaining from Limit and Used.
func NewQuota(tenantID string, month Date, planID string, limit *int, used, credits int) *Quota {
	q := &Quota{TenantID: tenantID, Month: month, PlanID: planID, Limit: limit, Used: used, CreditsRemaining: credits}
	if limit != nil {
		r := max(0, *limit-used)
		q.Remaining = &r
	}
	return q
}

// UsageReceipt is what recordUsage reports.
type UsageReceipt struct {
	Accepted   int // new events, now counted
	Duplicates int // events whose id was already recorded (or repeated in the batch)
	Quota      *Quota
	DryRun     bool // the batch was validateOnly: nothing was saved
}

// ---- Credits ----

// Limits of credit grants. MaxCreditGrants bounds Credits.grants, which
// lists every grant: grantCredits refuses one more (CONFLICT).
const (
	MaxCreditGrant      = 1_000_000_000
	MaxCreditReasonSize = 200
	MaxCreditGrants     = 100
)

// MaxTokenTypes bounds the distinct token types a tenant records
// (TokenReport.metricsByType lists each): recordUsage refuses a batch that
// would add more (BAD_USER_INPUT on events).
const MaxTokenTypes = 100

// CreditGrant is one-time credits given to a tenant (the screening
// reference's free tier): used, oldest-expiring first, for interactions
// beyond the plan's monthly quota; never renewed.
type CreditGrant struct {
	ID        string     `db:"id"`
	TenantID  string     `db:"tenant_id"`
	Amount    int        `db:"amount"`
	Used      int        `db:"used"`
	ExpiresAt *time.Time `db:"expires_at"`
	Reason    string     `db:"reason"`
	CreatedAt time.Time  `db:"created_at"`
	CreatedBy string     `db:"created_by"`
	// Remaining is Amount - Used while the grant has not expired, else 0.
	Remaining int `db:"-"`
	// Expired reports whether the grant had expired when it was read.
	Expired bool `db:"-"`
}

// Settle sets the grant's Expired and Remaining as of now.
func (g *CreditGrant) Settle(now time.Time) {
	g.Expired = g.ExpiresAt != nil && !now.Before(*g.ExpiresAt)
	g.Remaining = 0
	if !g.Expired {
		g.Remaining = g.Amount - g.Used
	}
}

// Credits is a tenant's credit balance: Granted = Used + Remaining + the
// credits that expired unused.
type Credits struct {
	TenantID  string
	Granted   int
	Used      int
	Remaining int
	// ExpiredUnused is what grants held when they expired.
	ExpiredUnused int
	// ExpiresAt is the earliest expiry of the grants with credits left; nil
	// when none is left or none of them expires.
	ExpiresAt *time.Time
	// Grants lists every grant, in the order they are used (earliest expiry
	// first, then oldest).
	Grants []*CreditGrant
}

// NewCredits sums grants (in use order) as of now.
func NewCredits(tenantID string, grants []*CreditGrant, now time.Time) *Credits {
	c := &Credits{TenantID: tenantID, Grants: grants}
	if c.Grants == nil {
		c.Grants = []*CreditGrant{}
	}
	for _, g := range grants {
		g.Settle(now)
		c.Granted += g.Amount
		c.Used += g.Used
		if g.Expired {
			c.ExpiredUnused += g.Amount - g.Used
			continue
		}
		c.Remaining += g.Remaining
		if g.Remaining > 0 && g.ExpiresAt != nil && (c.ExpiresAt == nil || g.ExpiresAt.Before(*c.ExpiresAt)) {
			c.ExpiresAt = g.ExpiresAt
		}
	}
	return c
}

// CreditGrantInput is the input of grantCredits.
type CreditGrantInput struct {
	Amount       int
	ExpiresAt    *time.Time
	Reason       string
	ValidateOnly bool
}

// Normalize validates the grant against now and trims its reason.
func (in *CreditGrantInput) Normalize(now time.Time) error {
	if in.Amount < 1 || in.Amount > MaxCreditGrant {
		return Invalid("amount", "amount must be 1 to %s credits, got %d", FormatCount(MaxCreditGrant), in.Amount)
	}
	if in.ExpiresAt != nil {
		t := in.ExpiresAt.UTC()
		if !t.After(now) {
			return Invalid("expiresAt", "expiresAt must be in the future, got %s", t.Format(time.RFC3339))
		}
		in.ExpiresAt = &t
	}
	in.Reason = strings.TrimSpace(in.Reason)
	return checkText("reason", in.Reason, MaxCreditReasonSize)
}

// ---- Statistics ----

// Granularity is the size of a statistics bucket: the GraphQL enum
// StatsGranularity.
type Granularity string

// Bucket sizes, all in UTC.
const (
	ByDay   Granularity = "DAILY"
	ByWeek  Granularity = "WEEKLY"  // ISO 8601 weeks, Monday to Sunday
	ByMonth Granularity = "MONTHLY" // calendar months
)

// MaxStatsBuckets bounds the trends of one stats query.
const MaxStatsBuckets = 366

// UnmarshalGQL decodes the GraphQL enum StatsGranularity.
func (g *Granularity) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	switch Granularity(s) {
	case ByDay, ByWeek, ByMonth:
		*g = Granularity(s)
		return nil
	}
	return Invalid("granularity", "granularity must be DAILY, WEEKLY or MONTHLY, got %q", s)
}

// MarshalGQL encodes the GraphQL enum StatsGranularity.
func (g Granularity) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(g))) }

// BucketOf is the first day of the bucket holding d: d itself, the Monday
// of its ISO week, or the first of its month.
func (g Granularity) BucketOf(d Date) Date {
	switch g {
	case ByWeek:
		return d.WeekStart()
	case ByMonth:
		return d.MonthStart()
	}
	return d
}

// next is the first day of the bucket after the one starting at b.
func (g Granularity) next(b Date) Date {
	switch g {
	case ByWeek:
		return b.AddDays(7)
	case ByMonth:
		return NewDate(b.Year(), b.Month()+1, 1)
	}
	return b.AddDays(1)
}

// StatsQuery is the arguments of Tenant.stats. It is comparable, so it
// can key a loader.
type StatsQuery struct {
	Start, End  Date
	Granularity Granularity
	// Distinct asks for the distinct users and platforms of the period
	// (summary.uniqueUsers, summary.uniquePlatforms): the dearest part of
	// the statistics, computed only when selected. Without it both are 0.
	Distinct bool
}

// Validate refuses an end before the start and more than MaxStatsBuckets
// buckets. A missing granularity is DAILY.
func (q *StatsQuery) Validate() error {
	if q.Granularity == "" {
		q.Granularity = ByDay
	}
	if q.End.Before(q.Start) {
		return Invalid("endDate", "endDate %s is before startDate %s", q.End, q.Start)
	}
	if n := q.BucketCount(); n > MaxStatsBuckets {
		return Invalid("endDate", "%s to %s holds %s %s buckets; at most %d are allowed: shorten the period or use a coarser granularity",
			q.Start, q.End, FormatCount(n), strings.ToLower(string(q.Granularity)), MaxStatsBuckets)
	}
	return nil
}

// BucketCount is the number of buckets from Start to End.
func (q StatsQuery) BucketCount() int {
	first, last := q.Granularity.BucketOf(q.Start), q.Granularity.BucketOf(q.End)
	switch q.Granularity {
	case ByWeek:
		return first.DaysUntil(last)/7 + 1
	case ByMonth:
		return (last.Year()-first.Year())*12 + int(last.Month()-first.Month()) + 1
	}
	return first.DaysUntil(last) + 1
}

// Buckets lists the period's buckets, zeroed: each with its calendar start
// and the days of the period it covers (the first and last are clipped to
// the period, and the first is dated by the period's start).
func (q StatsQuery) Buckets() []*StatsBucket {
	var out []*StatsBucket
	for b := q.Granularity.BucketOf(q.Start); !b.After(q.End); b = q.Granularity.next(b) {
		from, to := b, q.Granularity.next(b).AddDays(-1)
		if from.Before(q.Start) {
			from = q.Start
		}
		if to.After(q.End) {
			to = q.End
		}
		out = append(out, &StatsBucket{Key: b, Date: from, From: from, To: to})
	}
	return out
}

// UserSpans splits the period for counting distinct users exactly: the
// whole calendar months inside it (read from the monthly user sets) and
// the remaining days at its edges (read from the daily ones).
func (q StatsQuery) UserSpans() (months, days []Date) {
	for m := q.Start.MonthStart(); !m.After(q.End); m = NewDate(m.Year(), m.Month()+1, 1) {
		last := NewDate(m.Year(), m.Month()+1, 0)
		if !m.Before(q.Start) && !last.After(q.End) {
			months = append(months, m)
			continue
		}
		for d := m; !d.After(last); d = d.AddDays(1) {
			if !d.Before(q.Start) && !d.After(q.End) {
				days = append(days, d)
			}
		}
	}
	return months, days
}

// Stats are a tenant's interaction statistics over a period, from the
// daily roll-ups.
type Stats struct {
	TenantID string
	Query    StatsQuery
	Summary  *StatsSummary
	Trends   []*StatsBucket
}

// StatsPeriod is the instants a stats period spans.
type StatsPeriod struct {
	Start time.Time // 00:00:00Z of the first day
	End   time.Time // 23:59:59Z of the last day
}

// Period is the instants the statistics cover, as the reference shows them.
func (s *Stats) Period() *StatsPeriod {
	return &StatsPeriod{Start: s.Query.Start.Time(), End: s.Query.End.Time().Add(24*time.Hour - time.Second)}
}

// Granularity is the size of the trends' buckets.
func (s *Stats) Granularity() Granularity { return s.Query.Granularity }

// StatsSummary totals a period.
type StatsSummary struct {
	TotalInteractions int
	Blocked           int
	Coached           int
	Logged            int
	UniqueUsers       int
	UniquePlatforms   int
	HighRisk          int
}

// StatsBucket is one bucket of the trends.
type StatsBucket struct {
	// Key is the bucket's calendar start (the day, the Monday, the 1st):
	// what the roll-ups are grouped by.
	Key Date
	// Date is the bucket's first day in the period: Key, or the period's
	// start for a first bucket that Key would start before it.
	Date         Date
	From, To     Date // the days of the period it covers
	Interactions int
	Blocked      int
	Coached      int
	Logged       int
	HighRisk     int
}

// Add counts a day's roll-up into the bucket.
func (b *StatsBucket) Add(d DayCounts) {
	b.Interactions += d.Interactions
	b.Blocked += d.Blocked
	b.Coached += d.Coached
	b.Logged += d.Logged
	b.HighRisk += d.HighRisk
}

// ---- Usage report ----

// TokenMetrics are the tokens of one type (tokenization reference).
type TokenMetrics struct {
	Type          string     `db:"token_type"`
	Count         int        `db:"count"`
	LastCreatedAt *time.Time `db:"last_created_at"`
}

// TokenReport is the token part of the usage report.
type TokenReport struct {
	// MetricsByType lists each token type ever recorded, by type name.
	MetricsByType []*TokenMetrics
	// IncludedMonthlyActiveTokens is what the plan includes.
	IncludedMonthlyActiveTokens int
	// MonthlyActiveTokens counts this calendar month's (UTC) distinct
	// named tokens (tokenId), plus each event with a token type but no
	// token id (a token of its own).
	MonthlyActiveTokens int
}

// OverageMonthlyActiveTokens is what the month's active tokens exceed the
// plan's included amount by: accepted, and billable as overage (the
// reference reports 987 active tokens against 50 included).
func (r *TokenReport) OverageMonthlyActiveTokens() int {
	return max(0, r.MonthlyActiveTokens-r.IncludedMonthlyActiveTokens)
}

// UsageReport is the tokenization reference's tenant usage report.
type UsageReport struct {
	TenantID    string
	TokenReport *TokenReport
}
