package tenant

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file is the screening configuration of the screening platform's
// reference (003): keywords, industries, the web-validation risk matrix,
// the website validation defaults and the watchlist seats. Each object
// reads as its defaults (Version 0) until the tenant first changes it.

// ConfigAudit is the change record of a screening configuration object.
// Version is 0, UpdatedAt and UpdatedBy nil while the tenant has not
// configured the object and its defaults are shown; each change adds 1.
type ConfigAudit struct {
	Version   int        `db:"version"`
	UpdatedAt *time.Time `db:"updated_at"`
	UpdatedBy *string    `db:"updated_by"`
}

// ---- Web-validation checks ----

// WebCheck is one check of web validation, the screening of a business's
// website. Its value is its GraphQL enum name.
type WebCheck string

// The web-validation checks.
const (
	CheckDomainAge        WebCheck = "DOMAIN_AGE"
	CheckSSLCertificate   WebCheck = "SSL_CERTIFICATE"
	CheckWhoisPrivacy     WebCheck = "WHOIS_PRIVACY"
	CheckContentKeywords  WebCheck = "CONTENT_KEYWORDS"
	CheckBlacklist        WebCheck = "BLACKLIST"
	CheckSocialPresence   WebCheck = "SOCIAL_PRESENCE"
	CheckContactInfo      WebCheck = "CONTACT_INFO"
	CheckBusinessRegistry WebCheck = "BUSINESS_REGISTRY"
)

// WebChecks lists every check in the order the schema shows them; lists of
// checks are returned in this order.
var WebChecks = []WebCheck{
	CheckDomainAge, CheckSSLCertificate, CheckWhoisPrivacy, CheckContentKeywords,
	CheckBlacklist, CheckSocialPresence, CheckContactInfo, CheckBusinessRegistry,
}

// Valid reports whether c is a known check.
func (c WebCheck) Valid() bool { return slices.Contains(WebChecks, c) }

func (c WebCheck) rank() int { return slices.Index(WebChecks, c) }

// UnmarshalGQL decodes the GraphQL enum WebCheck.
func (c *WebCheck) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	if !WebCheck(s).Valid() {
		return Invalid("check", "%q is not a web-validation check; one of %s", s, joinChecks(WebChecks))
	}
	*c = WebCheck(s)
	return nil
}

// MarshalGQL encodes the GraphQL enum WebCheck.
func (c WebCheck) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(c))) }

func joinChecks(cs []WebCheck) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// ---- Keywords ----

// Limits on keywords.
const (
	MaxKeywords      = 500
	MaxKeywordLength = 100 // characters (Unicode code points)
)

// KeywordList is a tenant's screening keywords: terms that web validation
// looks for in a website's content (a content blacklist).
type KeywordList struct {
	TenantID string
	Items    []string
	ConfigAudit
}

// KeywordsInput replaces a tenant's keywords (list replacement: the list
// given is the whole new list).
type KeywordsInput struct {
	Keywords        []string
	ExpectedVersion *int
	ValidateOnly    bool
}

// NormalizeKeywords trims each keyword and refuses empty ones, ones longer
// than MaxKeywordLength characters and ones holding control characters; it
// removes case-insensitive duplicates, keeping the first spelling, and
// refuses more than MaxKeywords distinct keywords. Errors name the index in
// the input (keywords[3]).
func NormalizeKeywords(field string, in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	seen := make(map[string]int, len(in))
	for i, k := range in {
		at := fmt.Sprintf("%s[%d]", field, i)
		k = strings.TrimSpace(k)
		n := utf8.RuneCountInString(k)
		switch {
		case n == 0:
			return nil, Invalid(at, "%s is empty; each keyword is 1 to %d characters after trimming spaces", at, MaxKeywordLength)
		case n > MaxKeywordLength:
			return nil, Invalid(at, "%s is %d characters long; each keyword is 1 to %d characters", at, n, MaxKeywordLength)
		case !utf8.ValidString(k) || strings.ContainsFunc(k, unicode.IsControl):
			return nil, Invalid(at, "%s must not contain control characters (tabs, line breaks), got %q", at, k)
		}
		key := foldKey(k)
		if _, dup := seen[key]; dup {
			continue
		}
		seen[key] = i
		out = append(out, k)
	}
	if len(out) > MaxKeywords {
		return nil, Invalid(field, "%s holds at most %d distinct keywords, got %d", field, MaxKeywords, len(out))
	}
	return out, nil
}

// foldKey is the case-insensitive identity of a keyword ("Casino",
// "CASINO" and "casino" are one keyword).
func foldKey(s string) string { return strings.ToLower(strings.ToUpper(s)) }

// ---- Industries ----

// The industry codes are those of NAICS 2022 (naics.go).

// IndustryConfig is which industries a tenant accepts: an industry in
// Blocked is refused; when Allowed is not empty, only those are accepted.
type IndustryConfig struct {
	TenantID string
	Allowed  []*Industry
	Blocked  []*Industry
	ConfigAudit
}

// IndustriesInput replaces both lists of a tenant's industries.
type IndustriesInput struct {
	Allowed         []IndustryCode
	Blocked         []IndustryCode
	ExpectedVersion *int
	ValidateOnly    bool
}

// Normalize refuses unknown codes and a code in both lists, and removes
// duplicates within a list, keeping the first.
func (in *IndustriesInput) Normalize() error {
	var err error
	if in.Allowed, err = normalizeIndustries("allowed", in.Allowed); err != nil {
		return err
	}
	if in.Blocked, err = normalizeIndustries("blocked", in.Blocked); err != nil {
		return err
	}
	for _, c := range in.Blocked {
		if slices.Contains(in.Allowed, c) {
			at := fmt.Sprintf("blocked[%d]", slices.Index(in.Blocked, c))
			i := industryByCode[c]
			return Invalid(at, "%s (%s) is in both allowed and blocked; a code can be in one list only", i.Code, i.Name)
		}
	}
	return nil
}

func normalizeIndustries(field string, in []IndustryCode) ([]IndustryCode, error) {
	if len(in) > MaxIndustryCodes {
		return nil, Invalid(field, "%s takes at most %d codes, got %d: block or allow a broader code (a sector, 71, covers all of its industries)", field, MaxIndustryCodes, len(in))
	}
	out := make([]IndustryCode, 0, len(in))
	for i, c := range in {
		if industryByCode[c] == nil {
			return nil, Invalid(fmt.Sprintf("%s[%d]", field, i), "%s[%d]: %s", field, i, unknownIndustry(c))
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Industries returns the catalog entries of codes, skipping unknown ones.
func Industries(codes []IndustryCode) []*Industry {
	out := make([]*Industry, 0, len(codes))
	for _, c := range codes {
		if i := industryByCode[c]; i != nil {
			out = append(out, i)
		}
	}
	return out
}

// ---- Risk matrix ----

// WeightScale is the precision of risk weights: they are stored exactly, in
// ten-thousandths (0.0001 steps), as numeric(5,4).
const WeightScale = 10000

// RiskWeight is the weight of one check in a website's reliability score.
type RiskWeight struct {
	Check WebCheck
	Units int // the weight in ten-thousandths: 2500 is 0.25
}

// Weight is the weight as a number in (0, 1].
func (w *RiskWeight) Weight() float64 { return float64(w.Units) / WeightScale }

// RiskMatrix is how a tenant weighs the web-validation checks into a
// website's reliability score. The weights sum to 1.
type RiskMatrix struct {
	TenantID string
	Weights  []*RiskWeight
	ConfigAudit
}

// DefaultRiskWeights is the risk matrix of a tenant that has not set one.
func DefaultRiskWeights() []*RiskWeight {
	return []*RiskWeight{
		{CheckDomainAge, 1500}, {CheckSSLCertificate, 1000}, {CheckWhoisPrivacy, 500},
		{CheckContentKeywords, 2000}, {CheckBlacklist, 2500}, {CheckSocialPresence, 500},
		{CheckContactInfo, 1000}, {CheckBusinessRegistry, 1000},
	}
}

// RiskWeightInput is one weight as given.
type RiskWeightInput struct {
	Check  WebCheck
	Weight float64
}

// RiskMatrixInput replaces a tenant's risk matrix.
type RiskMatrixInput struct {
	Weights         []RiskWeightInput
	ExpectedVersion *int
	ValidateOnly    bool
}

// sumTolerance is how far from 1 the sum of the weights may be, in units:
// 1 unit is 0.0001 (three checks at 0.3333 sum to 0.9999).
const sumTolerance = 1

// Normalize checks the weights and returns them exactly, in the order of
// WebChecks: each check at most once, each weight in (0, 1] with at most 4
// decimal places (a zero weight is refused: leave out the checks you do not
// use), summing to 1.0 within 0.0001.
func (in *RiskMatrixInput) Normalize() ([]*RiskWeight, error) {
	if len(in.Weights) == 0 {
		return nil, Invalid("weights", "weights must list at least one check, with weights summing to 1.0")
	}
	out := make([]*RiskWeight, 0, len(in.Weights))
	first := map[WebCheck]int{}
	sum := 0
	for i, w := range in.Weights {
		at := fmt.Sprintf("weights[%d]", i)
		if !w.Check.Valid() {
			return nil, Invalid(at+".check", "%s.check: %q is not a web-validation check; one of %s", at, w.Check, joinChecks(WebChecks))
		}
		if j, dup := first[w.Check]; dup {
			return nil, Invalid(at+".check", "%s is listed twice (weights[%d] and %s); give each check at most once", w.Check, j, at)
		}
		first[w.Check] = i
		if math.IsNaN(w.Weight) || w.Weight < 0 || w.Weight > 1 {
			return nil, Invalid(at+".weight", "%s.weight (%s) must be between 0 and 1, got %v", at, w.Check, w.Weight)
		}
		units := math.Round(w.Weight * WeightScale)
		if math.Abs(w.Weight*WeightScale-units) > 1e-6 {
			return nil, Invalid(at+".weight", "%s.weight (%s) has at most 4 decimal places (steps of 0.0001), got %v", at, w.Check, w.Weight)
		}
		if units == 0 {
			return nil, Invalid(at+".weight", "%s.weight (%s) is 0; leave out the checks you do not use instead of weighting them 0", at, w.Check)
		}
		sum += int(units)
		out = append(out, &RiskWeight{Check: w.Check, Units: int(units)})
	}
	if sum < WeightScale-sumTolerance || sum > WeightScale+sumTolerance {
		return nil, Invalid("weights", "weights must sum to 1.0 (within 0.0001), got %s", FormatUnits(sum))
	}
	slices.SortFunc(out, func(a, b *RiskWeight) int { return a.Check.rank() - b.Check.rank() })
	return out, nil
}

// FormatUnits writes ten-thousandths as a decimal with 4 places: 9500 is
// "0.9500".
func FormatUnits(u int) string {
	sign := ""
	if u < 0 {
		sign, u = "-", -u
	}
	return fmt.Sprintf("%s%d.%04d", sign, u/WeightScale, u%WeightScale)
}

// ---- Website validation defaults ----

// Limits and defaults of the website validation configuration.
const (
	MinTimeoutSeconds      = 1
	MaxTimeoutSeconds      = 60
	DefaultTimeoutSeconds  = 10
	MaxScore               = 100
	DefaultPassThreshold   = 70
	DefaultReviewThreshold = 40
	MaxRedirectsLimit      = 10
	DefaultMaxRedirects    = 5
)

// WebsiteConfig is the default parameters of a tenant's web validations.
// A screening request's own parameters override them.
type WebsiteConfig struct {
	TenantID        string
	EnabledChecks   []WebCheck
	TimeoutSeconds  int
	PassThreshold   int
	ReviewThreshold int
	FollowRedirects bool
	MaxRedirects    int
	ConfigAudit
}

// DefaultWebsiteConfig is the website configuration of a tenant that has
// not set one: every check, 10 s, pass at 70, review from 40, follow up to
// 5 redirects.
func DefaultWebsiteConfig(tenantID string) *WebsiteConfig {
	return &WebsiteConfig{
		TenantID: tenantID, EnabledChecks: slices.Clone(WebChecks), TimeoutSeconds: DefaultTimeoutSeconds,
		PassThreshold: DefaultPassThreshold, ReviewThreshold: DefaultReviewThreshold,
		FollowRedirects: true, MaxRedirects: DefaultMaxRedirects,
	}
}

// WebsiteConfigPatch changes a tenant's website configuration; nil fields
// are left as they are (or as their defaults).
type WebsiteConfigPatch struct {
	EnabledChecks   []WebCheck
	TimeoutSeconds  *int
	PassThreshold   *int
	ReviewThreshold *int
	FollowRedirects *bool
	MaxRedirects    *int
	ExpectedVersion *int
	ValidateOnly    bool
}

// Apply returns cur changed by p, validated as a whole: the cross-field
// rule (reviewThreshold at most passThreshold) holds for the result, so a
// patch can move one threshold past the other only by giving both.
func (p *WebsiteConfigPatch) Apply(cur *WebsiteConfig) (*WebsiteConfig, error) {
	c := *cur
	if p.EnabledChecks != nil {
		if len(p.EnabledChecks) == 0 {
			return nil, Invalid("enabledChecks", "enabledChecks must list at least one check; one of %s", joinChecks(WebChecks))
		}
		var set []WebCheck
		for i, ch := range p.EnabledChecks {
			if !ch.Valid() {
				return nil, Invalid(fmt.Sprintf("enabledChecks[%d]", i), "enabledChecks[%d]: %q is not a web-validation check; one of %s", i, ch, joinChecks(WebChecks))
			}
			if !slices.Contains(set, ch) {
				set = append(set, ch)
			}
		}
		slices.SortFunc(set, func(a, b WebCheck) int { return a.rank() - b.rank() })
		c.EnabledChecks = set
	}
	if v := p.TimeoutSeconds; v != nil {
		if *v < MinTimeoutSeconds || *v > MaxTimeoutSeconds {
			return nil, Invalid("timeoutSeconds", "timeoutSeconds must be between %d and %d seconds, got %d", MinTimeoutSeconds, MaxTimeoutSeconds, *v)
		}
		c.TimeoutSeconds = *v
	}
	if v := p.PassThreshold; v != nil {
		if *v < 0 || *v > MaxScore {
			return nil, Invalid("passThreshold", "passThreshold must be a score between 0 and %d, got %d", MaxScore, *v)
		}
		c.PassThreshold = *v
	}
	if v := p.ReviewThreshold; v != nil {
		if *v < 0 || *v > MaxScore {
			return nil, Invalid("reviewThreshold", "reviewThreshold must be a score between 0 and %d, got %d", MaxScore, *v)
		}
		c.ReviewThreshold = *v
	}
	if v := p.FollowRedirects; v != nil {
		c.FollowRedirects = *v
	}
	if v := p.MaxRedirects; v != nil {
		if *v < 0 || *v > MaxRedirectsLimit {
			return nil, Invalid("maxRedirects", "maxRedirects must be between 0 and %d, got %d", MaxRedirectsLimit, *v)
		}
		c.MaxRedirects = *v
	}
	if c.ReviewThreshold > c.PassThreshold {
		field := "reviewThreshold"
		if p.ReviewThreshold == nil {
			field = "passThreshold" // the value the caller changed
		}
		return nil, Invalid(field, "reviewThreshold (%d) must be at most passThreshold (%d): scores from reviewThreshold up to below passThreshold go to manual review", c.ReviewThreshold, c.PassThreshold)
	}
	return &c, nil
}

// ---- Watchlist seats ----

// MaxWatchlistSeats bounds the seats an operator can grant a tenant.
const MaxWatchlistSeats = 1_000_000

// WatchlistSeats is a tenant's watchlist monitoring capacity. The operator
// sets AvailableSeats; the screening service reports ActiveSubjects.
type WatchlistSeats struct {
	TenantID       string `db:"tenant_id"`
	AvailableSeats int    `db:"available_seats"`
	ActiveSubjects int    `db:"active_subjects"`
	ConfigAudit
}

// RemainingSeats is how many more subjects can be enrolled; never negative.
func (w *WatchlistSeats) RemainingSeats() int { return max(0, w.AvailableSeats-w.ActiveSubjects) }

// WatchlistSeatsInput sets a tenant's available seats.
type WatchlistSeatsInput struct {
	AvailableSeats  int
	ExpectedVersion *int
	ValidateOnly    bool
}

// Check validates the seats against the range and the subjects monitored.
func (in *WatchlistSeatsInput) Check(activeSubjects int) error {
	if in.AvailableSeats < 0 || in.AvailableSeats > MaxWatchlistSeats {
		return Invalid("availableSeats", "availableSeats must be between 0 and %d, got %d", MaxWatchlistSeats, in.AvailableSeats)
	}
	if in.AvailableSeats < activeSubjects {
		return Invalid("availableSeats", "availableSeats cannot be %d: the tenant monitors %d active subjects; remove subjects from the watchlist first", in.AvailableSeats, activeSubjects)
	}
	return nil
}
