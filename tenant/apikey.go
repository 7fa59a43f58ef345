package tenant

import (
	"crypto/rand"
	"crypto/sha256"
	"hash/crc32"
	"io"
	"strconv"
	"time"
)

// API keys look like "tnt_" + 40 random base62 characters + a 6-character
// base62 CRC-32 of those 40. The prefix makes a leaked key easy to find in
// code and logs; the checksum lets the server refuse a mistyped or made-up
// key before any database lookup. Only the SHA-256 of the key is stored.
const (
	KeyPrefix       = "tnt_"
	keyRandomLen    = 40
	keyChecksumLen  = 6
	KeyLength       = len(KeyPrefix) + keyRandomLen + keyChecksumLen
	KeyDisplayChars = len(KeyPrefix) + 8 // what apiKeys shows as prefix
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// APIKeyRecord is a stored API key: metadata and the hash, never the secret.
type APIKeyRecord struct {
	ID          string       `db:"id"`
	TenantID    string       `db:"tenant_id"`
	Name        string       `db:"name"`
	Prefix      string       `db:"prefix"`
	Permissions []Permission `db:"-"`
	CreatedAt   time.Time    `db:"created_at"`
	CreatedBy   string       `db:"created_by"`
	ExpiresAt   *time.Time   `db:"expires_at"`
	LastUsedAt  *time.Time   `db:"last_used_at"`
	RevokedAt   *time.Time   `db:"revoked_at"`
}

// KeyStatus is an API key's state as the API reports it.
type KeyStatus string

// Key states.
const (
	KeyActive  KeyStatus = "ACTIVE"
	KeyExpired KeyStatus = "EXPIRED"
	KeyRevoked KeyStatus = "REVOKED"
)

// Status reports the key's state at now.
func (k *APIKeyRecord) Status(now time.Time) KeyStatus {
	switch {
	case k.RevokedAt != nil:
		return KeyRevoked
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return KeyExpired
	}
	return KeyActive
}

// MarshalGQL encodes the GraphQL enum ApiKeyStatus.
func (s KeyStatus) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL decodes the GraphQL enum ApiKeyStatus.
func (s *KeyStatus) UnmarshalGQL(v any) error {
	str, _ := v.(string)
	*s = KeyStatus(str)
	return nil
}

// NewAPIKey returns a new random key in its full form (about 238 bits of
// entropy: 40 characters drawn uniformly from 62).
func NewAPIKey() string { return newToken(KeyPrefix) }

// newToken returns prefix (4 characters) + 40 random base62 characters +
// their 6-character checksum: the shape of API keys, sessions, invitation
// and password-reset tokens, told apart by their prefix.
func newToken(prefix string) string {
	b := make([]byte, 0, KeyLength)
	b = append(b, prefix...)
	var buf [64]byte
	for len(b) < len(prefix)+keyRandomLen {
		if _, err := rand.Read(buf[:]); err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		for _, c := range buf {
			// Reject bytes >= 248 (4*62) so every character is equally likely.
			if c < 248 && len(b) < len(prefix)+keyRandomLen {
				b = append(b, base62[c%62])
			}
		}
	}
	return string(append(b, keyChecksum(b[len(prefix):])...))
}

func keyChecksum(random []byte) []byte {
	c := crc32.ChecksumIEEE(random)
	out := make([]byte, keyChecksumLen)
	for i := keyChecksumLen - 1; i >= 0; i-- {
		out[i] = base62[c%62]
		c /= 62
	}
	return out
}

// WellFormedKey reports whether s has the shape and checksum of an API key.
func WellFormedKey(s string) bool { return wellFormedToken(KeyPrefix, s) }

// wellFormedToken reports whether s has the shape and checksum of a token
// made by newToken(prefix).
func wellFormedToken(prefix, s string) bool {
	if len(s) != KeyLength || s[:len(prefix)] != prefix {
		return false
	}
	body := s[len(prefix):]
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	want := keyChecksum([]byte(body[:keyRandomLen]))
	return string(want) == body[keyRandomLen:]
}

// HashKey is what the database stores and looks keys up by.
func HashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// KeyDisplayPrefix is the part of a key that is safe to show: "tnt_Ab3dE5fG".
func KeyDisplayPrefix(key string) string { return key[:KeyDisplayChars] }

// Active keys per tenant: API_KEYS_MAX_ACTIVE, within these bounds. Each
// key is a credential to audit and rotate; a tenant that needs more than
// a few dozen is usually leaking them (one created per deployment, never
// revoked), and an unbounded count made Tenant.apiKeys a list of
// megabytes.
const (
	DefaultMaxActiveAPIKeys = 50
	MinMaxActiveAPIKeys     = 1
	MaxMaxActiveAPIKeys     = 10000
)

// ActiveKeysExceeded is the refusal of a key past the tenant's cap.
func ActiveKeysExceeded(limit int) error {
	return Errorf(ECONFLICT, "the tenant already has %d active API keys, the most allowed (API_KEYS_MAX_ACTIVE); revoke one with revokeApiKey, or wait for one to expire, then create the new key", limit)
}

// CheckOutlives refuses a new key that would outlive the key creating it:
// creator is the creating key's expiry (nil: it never expires, or the
// creator is not a key), expires the new key's (nil: never). A credential
// that expires in an hour must not be able to mint one that lasts forever.
func CheckOutlives(creator, expires *time.Time) error {
	if creator == nil {
		return nil
	}
	limit := creator.UTC().Format(time.RFC3339)
	if expires == nil {
		return Invalid("expiresAt", "expiresAt is required: the API key creating this key expires at %s, and a key cannot outlive its creator; give an expiresAt at or before %s", limit, limit)
	}
	if expires.After(*creator) {
		return Invalid("expiresAt", "expiresAt must be at or before %s, when the API key creating this key expires (a key cannot outlive its creator), got %s", limit, expires.UTC().Format(time.RFC3339))
	}
	return nil
}

// APIKeyPage is one page of a tenant's API keys, newest first.
type APIKeyPage struct {
	TenantID string
	Keys     []*APIKeyRecord
	PageEnds
}
