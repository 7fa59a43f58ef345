package tenant

import (
	"context"
	"crypto/sha256"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what a member may do in their tenant: a fixed set of
// permissions, the same values API keys hold, so @hasPermission enforces
// both alike (docs/members.md has the table).
type Role string

// The roles, from the most to the least powerful.
const (
	RoleOwner     Role = "OWNER"
	RoleAdmin     Role = "ADMIN"
	RoleBilling   Role = "BILLING"
	RoleDeveloper Role = "DEVELOPER"
	RoleViewer    Role = "VIEWER"
)

// Roles lists every role in the order the schema shows them.
var Roles = []Role{RoleOwner, RoleAdmin, RoleBilling, RoleDeveloper, RoleViewer}

// viewerPerms is what every member may read: the tenant's profile and
// configuration, but not its money (billing), its credentials (API keys),
// nor its logs (audit, events), which say who did what.
var viewerPerms = []Permission{
	PermTenantRead, PermNotificationChannelsRead, PermKeywordsRead, PermIndustriesRead,
	PermRiskMatrixRead, PermWebsiteConfigRead, PermReportRead, PermSSORead, PermMembersRead,
}

// rolePermissions is the one table of what each role holds. OWNER is ADMIN
// plus deleting the tenant; ADMIN holds every tenant permission but that;
// BILLING and DEVELOPER are VIEWER plus their own area. tenant:manage
// (every tenant) is the operator's, never a member's.
var rolePermissions = map[Role][]Permission{
	RoleOwner: without(TenantPermissions(), nil),
	RoleAdmin: without(TenantPermissions(), []Permission{PermTenantDelete}),
	RoleBilling: append(slices.Clone(viewerPerms),
		PermBillingRead, PermBillingUpdate),
	RoleDeveloper: append(slices.Clone(viewerPerms),
		PermAPIKeysRead, PermAPIKeysWrite, PermEventsRead, PermAuditRead, PermUsageWrite, PermNotificationChannelsUpdate),
	RoleViewer: slices.Clone(viewerPerms),
}

func without(all, drop []Permission) []Permission {
	out := make([]Permission, 0, len(all))
	for _, p := range all {
		if !slices.Contains(drop, p) {
			out = append(out, p)
		}
	}
	return out
}

// Permissions returns the role's permissions in schema order (a copy).
func (r Role) Permissions() []Permission {
	ps := rolePermissions[r]
	out := make([]Permission, 0, len(ps))
	for _, p := range AllPermissions {
		if slices.Contains(ps, p) {
			out = append(out, p)
		}
	}
	return out
}

// Valid reports whether r is a role.
func (r Role) Valid() bool { _, ok := rolePermissions[r]; return ok }

// CanGrant refuses a role the actor could not hold itself: a member, a key
// or the operator grants (or takes away) a role only when it holds every
// permission of that role, as a key never creates a key with more than it
// has. OWNER is never granted: it moves by transferOwnership. field names
// the input in errors.
func CanGrant(a *Actor, r Role, field string) error {
	if !r.Valid() {
		return Invalid(field, "%q is not a role", string(r))
	}
	if r == RoleOwner {
		return Invalid(field, "OWNER is not granted: the tenant has exactly one owner, who hands the role over with transferOwnership")
	}
	for _, p := range r.Permissions() {
		if !a.Has(p) {
			return Errorf(EFORBIDDEN, "the %s role holds %s (%s), which you do not hold: nobody grants or changes a role above their own", r, p.EnumName(), p)
		}
	}
	return nil
}

// MarshalGQL encodes the GraphQL enum Role.
func (r Role) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(r))) }

// UnmarshalGQL decodes the GraphQL enum Role.
func (r *Role) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	*r = Role(s)
	if !r.Valid() {
		return Invalid("role", "%q is not a role", s)
	}
	return nil
}

// MemberStatus is a member's state.
type MemberStatus string

// Member states.
const (
	MemberInvited     MemberStatus = "INVITED"     // invited, has not accepted yet: cannot sign in
	MemberActive      MemberStatus = "ACTIVE"      // may sign in
	MemberDeactivated MemberStatus = "DEACTIVATED" // may not sign in; their sessions ended
)

// MarshalGQL encodes the GraphQL enum MemberStatus.
func (s MemberStatus) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL decodes the GraphQL enum MemberStatus.
func (s *MemberStatus) UnmarshalGQL(v any) error {
	str, _ := v.(string)
	*s = MemberStatus(str)
	return nil
}

// LoginMethod is how a session was opened.
type LoginMethod string

// Login methods.
const (
	LoginPassword LoginMethod = "PASSWORD"
	LoginSSO      LoginMethod = "SSO"
)

// MarshalGQL encodes the GraphQL enum LoginMethod.
func (m LoginMethod) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(m))) }

// UnmarshalGQL decodes the GraphQL enum LoginMethod.
func (m *LoginMethod) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	*m = LoginMethod(s)
	return nil
}

// Member is a person of a tenant.
type Member struct {
	ID              string       `db:"id"`
	TenantID        string       `db:"tenant_id"`
	Email           string       `db:"email"`
	Name            string       `db:"name"`
	Role            Role         `db:"role"`
	Status          MemberStatus `db:"status"`
	HasPassword     bool         `db:"has_password"`
	LastLoginMethod *LoginMethod `db:"last_login_method"`
	LastLoginAt     *time.Time   `db:"last_login_at"`
	CreatedAt       time.Time    `db:"created_at"`
	InvitedBy       *string      `db:"invited_by"`
	// InvitationExpiresAt is when the member's pending invitation stops
	// working (INVITED only).
	InvitationExpiresAt *time.Time `db:"invitation_expires_at"`
}

// MemberPage is one page of a tenant's members, by email.
type MemberPage struct {
	TenantID string
	Members  []*Member
	PageEnds
	TotalCount int
}

// MemberFilter narrows Tenant.members.
type MemberFilter struct {
	Roles    []Role
	Statuses []MemberStatus
	// EmailPrefix keeps members whose address starts with it
	// (case-insensitive).
	EmailPrefix string
}

// Members per tenant: MEMBERS_MAX, within these bounds. INVITED and
// DEACTIVATED members count too: each is a row the tenant keeps and a
// person who may come back.
const (
	DefaultMaxMembers = 500
	MinMaxMembers     = 1
	MaxMaxMembers     = 100_000
)

// MembersExceeded is the refusal of a member past the tenant's cap.
func MembersExceeded(limit int) error {
	return Errorf(ECONFLICT, "the tenant already has %d members, the most allowed (MEMBERS_MAX); revoke a pending invitation with revokeInvitation first", limit)
}

// Name and password bounds.
const (
	MaxMemberName     = 200
	MinPasswordLength = 12  // characters; NIST SP 800-63B asks at least 8, OWASP ASVS 12
	MaxPasswordLength = 128 // characters; bounds the hashing work a request can ask for
)

// NormalizeMemberEmail checks a member's address and lower-cases it: an
// address is one person, whatever its spelling.
func NormalizeMemberEmail(field, raw string) (string, error) {
	addr, ok := parseEmail(raw)
	if !ok {
		return "", Invalid(field, "%s must be a plain email address such as ana@acme.fr (at most %d characters), got %q", field, MaxEmailLength, raw)
	}
	return strings.ToLower(addr), nil
}

// CheckPassword refuses a password too short or too long to accept.
func CheckPassword(field, pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLength || n > MaxPasswordLength {
		return Invalid(field, "%s must be %d to %d characters long, got %d", field, MinPasswordLength, MaxPasswordLength, n)
	}
	return nil
}

// CheckMemberName trims a member's display name and checks its length.
func CheckMemberName(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n < 1 || n > MaxMemberName {
		return "", Invalid(field, "%s must be 1 to %d characters, got %d", field, MaxMemberName, n)
	}
	return name, nil
}

// Tokens of people. They have the shape of API keys (a 4-character prefix,
// 40 random base62 characters, a checksum) so a leaked one is recognised
// by its prefix and a mistyped one is refused before any lookup; only
// their SHA-256 is stored.
const (
	SessionPrefix    = "tss_" // a session: Authorization: Bearer, or the session cookie
	InvitationPrefix = "tin_" // an invitation, single-use: acceptInvitation
	ResetPrefix      = "trs_" // a password reset, single-use: resetPassword
)

// NewSessionToken returns a new session token.
func NewSessionToken() string { return newToken(SessionPrefix) }

// NewInvitationToken returns a new invitation token.
func NewInvitationToken() string { return newToken(InvitationPrefix) }

// NewResetToken returns a new password-reset token.
func NewResetToken() string { return newToken(ResetPrefix) }

// WellFormedSession reports whether s has the shape of a session token.
func WellFormedSession(s string) bool { return wellFormedToken(SessionPrefix, s) }

// WellFormedInvitation reports whether s has the shape of an invitation token.
func WellFormedInvitation(s string) bool { return wellFormedToken(InvitationPrefix, s) }

// WellFormedReset reports whether s has the shape of a reset token.
func WellFormedReset(s string) bool { return wellFormedToken(ResetPrefix, s) }

// HashToken is what the database stores of a person's token.
func HashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// How long the emailed single-use tokens work.
const (
	InvitationTTL = 7 * 24 * time.Hour
	ResetTTL      = time.Hour
)

// SessionPolicy is how long sessions last: SESSION_IDLE_TIMEOUT and
// SESSION_MAX_AGE. Zero fields take the defaults.
type SessionPolicy struct {
	// Idle ends a session that made no request for this long.
	Idle time.Duration
	// MaxAge ends a session this long after its login, however busy.
	MaxAge time.Duration
}

// Session lifetimes, after OWASP's Session Management Cheat Sheet (idle
// 15-30 minutes for high-value applications, absolute 4-8 hours for a
// working day).
const (
	DefaultSessionIdle   = 30 * time.Minute
	DefaultSessionMaxAge = 12 * time.Hour
	// MaxSessionsPerMember bounds a member's open sessions: a new login
	// past it ends their least recently used one.
	MaxSessionsPerMember = 20
)

// WithDefaults fills zero fields.
func (p SessionPolicy) WithDefaults() SessionPolicy {
	if p.Idle <= 0 {
		p.Idle = DefaultSessionIdle
	}
	if p.MaxAge <= 0 {
		p.MaxAge = DefaultSessionMaxAge
	}
	return p
}

// Session is a member's signed-in session.
type Session struct {
	ID         string      `db:"id"`
	TenantID   string      `db:"tenant_id"`
	MemberID   string      `db:"member_id"`
	Method     LoginMethod `db:"method"`
	CreatedAt  time.Time   `db:"created_at"`
	LastSeenAt time.Time   `db:"last_seen_at"`
	ExpiresAt  time.Time   `db:"expires_at"`
	RevokedAt  *time.Time  `db:"revoked_at"`
	IPAddress  *string     `db:"ip_address"`
	UserAgent  *string     `db:"user_agent"`
	// IdleExpiresAt is when the session ends unless used before, as of
	// reading (LastSeenAt + the idle timeout, capped by ExpiresAt).
	IdleExpiresAt time.Time `db:"-"`
}

// LoginInput is a password login.
type LoginInput struct {
	Email    string
	Password string
	// Tenant is the tenant's domain or id; "" is the tenant whose domain
	// is the address's domain.
	Tenant string
	// Environment picks, among the tenants of a domain (one per
	// environment), the one signed in to: DefaultEnvironment when nil.
	// With Tenant an id, the tenant must be of Environment when set.
	Environment *Environment
}

// Mail is one email to send.
type Mail struct {
	To      string
	Subject string
	Text    string
	HTML    string // optional
}

// Mailer sends email. The server's implementation is the mail package
// (SMTP_URL, or .eml files under .data/mail in development); tests record.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

type sessionCookieKey struct{}

// SessionCookie is how a resolver hands a new session (or its end) to the
// HTTP layer, which sets or clears the session cookie on the response.
type SessionCookie interface {
	SetSession(token string, expires time.Time)
	ClearSession()
}

// WithSessionCookie returns ctx carrying the request's cookie setter.
func WithSessionCookie(ctx context.Context, c SessionCookie) context.Context {
	return context.WithValue(ctx, sessionCookieKey{}, c)
}

// SessionCookieFrom returns the request's cookie setter, or nil when the
// transport cannot set cookies (a websocket).
func SessionCookieFrom(ctx context.Context) SessionCookie {
	c, _ := ctx.Value(sessionCookieKey{}).(SessionCookie)
	return c
}

// LoginGuard throttles password logins and reset requests (httpapi
// implements it over the rate limiter). Attempt charges one attempt on
// account (a normalised address and tenant) from the request's client
// address, and refuses it with ERATELIMITED before any password is
// checked when that pair, or the address across all accounts, has spent
// its budget. The budget is per address, so guessing an account from one
// place never locks out its owner signing in from another.
type LoginGuard interface {
	Attempt(ctx context.Context, account string) error
}
