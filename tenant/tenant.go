package tenant

import (
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Status is a tenant's lifecycle state.
type Status string

// Tenant states. A DELETED tenant is restorable for RestoreWindow.
const (
	StatusActive    Status = "ACTIVE"
	StatusSuspended Status = "SUSPENDED"
	StatusDeleted   Status = "DELETED"
)

// RestoreWindow is how long a soft-deleted tenant can be restored.
const RestoreWindow = 30 * 24 * time.Hour

// Tenant is a customer organization.
type Tenant struct {
	ID     string `db:"id"`
	Name   string `db:"name"`
	Domain string `db:"domain"`
	// Environment is fixed at creation; (Domain, Environment) is unique.
	Environment Environment `db:"environment"`
	PlanID      string      `db:"plan_id"`
	Status      Status      `db:"status"`
	OwnerID     *string     `db:"owner_id"`
	OwnerEmail  *string     `db:"owner_email"`
	CreatedAt   time.Time   `db:"created_at"`
	CreatedBy   string      `db:"created_by"`
	ModifiedAt  time.Time   `db:"modified_at"`
	ModifiedBy  string      `db:"modified_by"`
	DeletedAt   *time.Time  `db:"deleted_at"`
	Version     int         `db:"version"`

	// DataVersion is the tenant's data version and SharedVersion that of
	// what every tenant shares (plans), read in the same statement as the
	// tenant by the reads that start a request (a key, a session, the
	// admin's tenant and list); 0 when not read. The association cache
	// (db/assoccache.go) keeps a read under them. Never shown to clients.
	DataVersion   int64 `db:"data_version"`
	SharedVersion int64 `db:"shared_version"`
}

// Owner is the tenant's owner, or nil when none is recorded.
func (t *Tenant) Owner() *Owner {
	if t.OwnerID == nil && t.OwnerEmail == nil {
		return nil
	}
	return &Owner{ID: t.OwnerID, Email: t.OwnerEmail}
}

// Owner is the user who owns a tenant, as the tokenization reference's owner_id.
type Owner struct {
	ID    *string
	Email *string
}

// Residency is where a tenant's data is stored; fixed after creation.
type Residency string

// Data residencies.
const (
	ResidencyEU Residency = "EU"
	ResidencyUS Residency = "US"
)

// Settings are a tenant's organization-wide settings.
type Settings struct {
	TenantID              string    `db:"tenant_id"`
	DataResidency         Residency `db:"data_residency"`
	EncryptionEnabled     bool      `db:"encryption_enabled"`
	AuditLogRetentionDays int       `db:"audit_log_retention_days"`
	SSOEnabled            bool      `db:"sso_enabled"`
	IPAllowlist           []string  `db:"-"`
	DeduplicateTokens     bool      `db:"deduplicate_tokens"`
	Version               int       `db:"version"`
	UpdatedAt             time.Time `db:"updated_at"`
	UpdatedBy             string    `db:"updated_by"`
}

// MaxPlans bounds the plans catalog (Query.plans): starter, professional
// and enterprise, written by the migrations; no mutation adds a plan.
const MaxPlans = 3

// Plan is an entry of the plans catalog. A nil limit means unlimited.
type Plan struct {
	ID                   string `db:"id"`
	Name                 string `db:"name"`
	Description          string `db:"description"`
	Users                *int   `db:"users"`
	Policies             *int   `db:"policies"`
	InteractionsPerMonth *int   `db:"interactions_per_month"`
	APIRequestsPerMinute int    `db:"api_requests_per_minute"`
	MonthlyPriceCents    int64  `db:"monthly_price_cents"`
	Currency             string `db:"currency"`
	Rank                 int    `db:"rank"`
}

// Limits are what a tenant may use under its plan. A nil limit is unlimited.
type Limits struct {
	Users                *int
	Policies             *int
	InteractionsPerMonth *int
	APIRequestsPerMinute int
}

// Limits returns the plan's limits.
func (p *Plan) Limits() *Limits {
	return &Limits{Users: p.Users, Policies: p.Policies, InteractionsPerMonth: p.InteractionsPerMonth, APIRequestsPerMinute: p.APIRequestsPerMinute}
}

// Usage is what a tenant has used in the current calendar month (UTC).
type Usage struct {
	TenantID              string `db:"tenant_id"`
	ActiveUsers           int    `db:"active_users"`
	Policies              int    `db:"policies"`
	InteractionsThisMonth int    `db:"interactions_this_month"`
}

// Limits on tenant fields.
const (
	MaxNameLength        = 200
	MinRetentionDays     = 90
	MaxRetentionDays     = 2555
	DefaultRetentionDays = 365
	MaxAllowlistEntries  = 100
)

// ValidateName trims name and checks it is 1–200 characters.
func ValidateName(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	if n == 0 || n > MaxNameLength {
		return "", Invalid(field, "%s must be 1 to %d characters, got %d", field, MaxNameLength, n)
	}
	return name, nil
}

// ValidateDomain lower-cases domain and checks it is a valid DNS hostname
// with at least two labels (acme.fr).
func ValidateDomain(field, domain string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	bad := func() error {
		return Invalid(field, "%s must be a hostname such as acme.fr (letters, digits and hyphens, labels of 1 to 63 characters, 253 at most in all), got %q", field, domain)
	}
	if len(d) == 0 || len(d) > 253 {
		return "", bad()
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "", bad()
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", bad()
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", bad()
			}
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", bad() // a top-level label is never all digits: that is an IP address
	}
	return d, nil
}

// ValidateRetention checks the audit-log retention is within 90–2555 days.
func ValidateRetention(field string, days int) error {
	if days < MinRetentionDays || days > MaxRetentionDays {
		return Invalid(field, "%s must be between %d and %d days, got %d", field, MinRetentionDays, MaxRetentionDays, days)
	}
	return nil
}

// UnmarshalGQL decodes the GraphQL enum TenantStatus.
func (s *Status) UnmarshalGQL(v any) error {
	str, _ := v.(string)
	switch Status(str) {
	case StatusActive, StatusSuspended, StatusDeleted:
		*s = Status(str)
		return nil
	}
	return Invalid("status", "status must be ACTIVE, SUSPENDED or DELETED, got %q", str)
}

// MarshalGQL encodes the GraphQL enum TenantStatus.
func (s Status) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL decodes the GraphQL enum DataResidency.
func (r *Residency) UnmarshalGQL(v any) error {
	str, _ := v.(string)
	switch Residency(str) {
	case ResidencyEU, ResidencyUS:
		*r = Residency(str)
		return nil
	}
	return Invalid("dataResidency", "dataResidency must be EU or US, got %q", str)
}

// MarshalGQL encodes the GraphQL enum DataResidency.
func (r Residency) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(r))) }

// TenantFilter narrows the admin list of tenants. Deleted tenants are
// listed only when Statuses asks for them.
type TenantFilter struct {
	Statuses []Status
	PlanIDs  []string
	// Environments, when not empty, keeps these environments only.
	Environments []Environment
	Search       string // case-insensitive substring of name or domain
}

// TenantPage is one page of the admin list.
type TenantPage struct {
	Tenants []*Tenant
	PageEnds
	Filter TenantFilter
}
