package tenant

import (
	"context"
	"net/mail"
	"net/netip"
	"regexp"
	"strings"
	"time"
)

// CreateTenant is the input of a new tenant.
type CreateTenant struct {
	Name          string
	Domain        string
	PlanID        string
	OwnerID       *string
	OwnerEmail    *string
	DataResidency Residency
	Settings      SettingsPatch
	// ValidateOnly runs every check and creates nothing.
	ValidateOnly bool
}

// Normalize trims and validates the input in place.
func (c *CreateTenant) Normalize() error {
	var err error
	if c.Name, err = ValidateName("name", c.Name); err != nil {
		return err
	}
	if c.Domain, err = ValidateDomain("domain", c.Domain); err != nil {
		return err
	}
	if c.PlanID == "" {
		c.PlanID = "starter"
	}
	if c.OwnerID != nil && !ValidID(*c.OwnerID) {
		return Invalid("ownerId", "ownerId must be a UUID, got %q", *c.OwnerID)
	}
	if c.OwnerEmail != nil {
		a, err := mail.ParseAddress(*c.OwnerEmail)
		if err != nil || a.Name != "" || len(a.Address) > 254 {
			return Invalid("ownerEmail", "ownerEmail must be a plain email address such as ops@acme.fr, got %q", *c.OwnerEmail)
		}
		c.OwnerEmail = &a.Address
	}
	if c.DataResidency == "" {
		c.DataResidency = ResidencyEU
	}
	if c.Settings.DataResidency != nil {
		return Invalid("settings.dataResidency", "set dataResidency at the top level of the input")
	}
	return c.Settings.normalize("settings.")
}

// TenantPatch changes a tenant's profile; nil fields are left alone.
type TenantPatch struct {
	Name   *string
	Domain *string
	Status *Status
	// Settings, when set, changes the settings in the same transaction and
	// under the same expected version (reference 000's PUT /me/settings);
	// errors name its fields under "settings.".
	Settings *SettingsPatch
	// ExpectedVersion, when set, must equal the tenant's version.
	ExpectedVersion *int
	ValidateOnly    bool
}

// Normalize trims and validates the patch in place.
func (p *TenantPatch) Normalize() error {
	if p.Name != nil {
		n, err := ValidateName("name", *p.Name)
		if err != nil {
			return err
		}
		p.Name = &n
	}
	if p.Domain != nil {
		d, err := ValidateDomain("domain", *p.Domain)
		if err != nil {
			return err
		}
		p.Domain = &d
	}
	if p.Status != nil && *p.Status == StatusDeleted {
		return Invalid("status", "status cannot be set to DELETED here: use deleteTenant, which can be undone with restoreTenant")
	}
	if p.Settings != nil {
		return p.Settings.normalize("settings.")
	}
	return nil
}

// Empty reports whether the patch changes nothing.
func (p *SettingsPatch) Empty() bool {
	return p.EncryptionEnabled == nil && p.AuditLogRetentionDays == nil && p.IPAllowlist == nil && p.DeduplicateTokens == nil
}

// SettingsPatch changes a tenant's settings; nil fields are left alone and
// an empty (non-nil) IPAllowlist clears the list.
type SettingsPatch struct {
	DataResidency         *Residency
	EncryptionEnabled     *bool
	AuditLogRetentionDays *int
	IPAllowlist           []string
	DeduplicateTokens     *bool
	ExpectedVersion       *int
	// ConfirmLockout lets a key save an allowlist that excludes its own
	// address (it will be refused afterwards).
	ConfirmLockout bool
	ValidateOnly   bool
}

// CheckLockout refuses an allowlist that would lock the caller's own
// tenant out of the caller's current address, unless confirmed.
func (p *SettingsPatch) CheckLockout(ctx context.Context, tenantID string) error {
	a := ActorFrom(ctx)
	ip := ClientIP(ctx)
	if len(p.IPAllowlist) == 0 || p.ConfirmLockout || a.Kind != APIKey || a.TenantID != tenantID || !ip.IsValid() {
		return nil
	}
	list := make([]netip.Prefix, 0, len(p.IPAllowlist))
	for _, s := range p.IPAllowlist {
		if pr, err := netip.ParsePrefix(s); err == nil {
			list = append(list, pr)
		}
	}
	if AllowlistPermits(list, ip) {
		return nil
	}
	return Invalid("ipAllowlist", "this ipAllowlist does not include your own address %s, so this key would be refused after saving; add it, or set confirmLockout: true", ip.Unmap())
}

// Normalize validates the patch and canonicalizes the allowlist in place.
func (p *SettingsPatch) Normalize() error { return p.normalize("") }

func (p *SettingsPatch) normalize(prefix string) error {
	if p.AuditLogRetentionDays != nil {
		if err := ValidateRetention(prefix+"auditLogRetentionDays", *p.AuditLogRetentionDays); err != nil {
			return err
		}
	}
	if p.IPAllowlist != nil {
		l, err := NormalizeAllowlist(prefix+"ipAllowlist", p.IPAllowlist)
		if err != nil {
			return err
		}
		p.IPAllowlist = l
	}
	return nil
}

// NewAPIKeyInput is the input of a new API key.
type NewAPIKeyInput struct {
	TenantID    string
	Name        string
	Permissions []Permission
	ExpiresAt   *time.Time
	// MaxActive is the tenant's cap of active keys (API_KEYS_MAX_ACTIVE),
	// set by the server, not the client; 0 = DefaultMaxActiveAPIKeys.
	MaxActive int
	// ValidateOnly runs every check and creates nothing.
	ValidateOnly bool
}

// MaxKeyNameLength bounds an API key's name.
const MaxKeyNameLength = 100

// Normalize validates the key input against the creating actor: a key never
// gets a permission its creator does not hold.
func (in *NewAPIKeyInput) Normalize(creator *Actor, now time.Time) error {
	in.Name = strings.TrimSpace(in.Name)
	if n := len([]rune(in.Name)); n == 0 || n > MaxKeyNameLength {
		return Invalid("name", "name must be 1 to %d characters, got %d", MaxKeyNameLength, n)
	}
	if len(in.Permissions) == 0 {
		return Invalid("permissions", "permissions must list at least one permission")
	}
	seen := map[Permission]bool{}
	perms := in.Permissions[:0:0]
	for _, p := range in.Permissions {
		if !p.Valid() {
			return Invalid("permissions", "%q is not a permission", p)
		}
		if !creator.Has(p) {
			return &Error{Code: EFORBIDDEN, Field: "permissions", Message: "cannot grant " + p.EnumName() + ": a key can only be given permissions its creator holds"}
		}
		if !seen[p] {
			seen[p] = true
			perms = append(perms, p)
		}
	}
	in.Permissions = perms
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		return Invalid("expiresAt", "expiresAt must be in the future, got %s", in.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ValidID reports whether s is a UUID, the form of every id of this API.
func ValidID(s string) bool { return uuidRE.MatchString(s) }
