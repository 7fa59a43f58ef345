// Package keyring encrypts tenant secrets at rest (SSO client secrets,
// webhook signing secrets) with AES-256-GCM. Each ciphertext names the key
// that sealed it, so keys can be rotated: new secrets are sealed with the
// primary key, and older keys stay in the ring to open what they sealed.
// The tenant id is bound as additional data, so a ciphertext copied to
// another tenant's row does not open.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Keyring holds the encryption keys by id; the first is the primary.
type Keyring struct {
	primary    string
	aeads      map[string]cipher.AEAD
	primaryRaw []byte // the primary key, for DeriveKey
}

var kidPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// Parse reads a keyring from its ENCRYPTION_KEY form: a comma-separated list
// of id:key pairs, each key 32 bytes in standard base64, primary first
// ("k2:BASE64,k1:BASE64"). A lone key without an id gets the id "k1".
func Parse(spec string) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		id, b64, ok := strings.Cut(part, ":")
		if !ok {
			id, b64 = "k1", part
		}
		if !kidPattern.MatchString(id) {
			return nil, fmt.Errorf("ENCRYPTION_KEY entry %d: key id %q must be 1-32 letters, digits, _ or -", i+1, id)
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("ENCRYPTION_KEY entry %d (%s): the key must be 32 bytes in base64 (generate one with `openssl rand -base64 32`)", i+1, id)
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("ENCRYPTION_KEY: key id %q appears twice", id)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k.aeads[id] = aead
		if i == 0 {
			k.primary, k.primaryRaw = id, raw
		}
	}
	return k, nil
}

// Generate returns a new random keyring spec with one key of id kid.
func Generate(kid string) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return kid + ":" + base64.StdEncoding.EncodeToString(b[:])
}

// Seal encrypts plaintext for tenantID with the primary key. The result is
// "<key id>:<base64(nonce || ciphertext || tag)>".
func (k *Keyring) Seal(tenantID string, plaintext []byte) string {
	aead := k.aeads[k.primary]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	out := aead.Seal(nonce, nonce, plaintext, []byte(tenantID))
	return k.primary + ":" + base64.RawStdEncoding.EncodeToString(out)
}

// ErrOpen is returned for a ciphertext that does not open: unknown key id,
// tampered, or sealed for another tenant.
var ErrOpen = errors.New("keyring: ciphertext does not open")

// Open decrypts a value sealed by Seal for tenantID.
func (k *Keyring) Open(tenantID, sealed string) ([]byte, error) {
	id, b64, ok := strings.Cut(sealed, ":")
	aead, known := k.aeads[id]
	if !ok || !known {
		return nil, ErrOpen
	}
	raw, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrOpen
	}
	pt, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(tenantID))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// DeriveKey returns a 32-byte key for purpose (such as "invoice-links"),
// HMAC-SHA256 of the purpose under the primary key: distinct purposes get
// independent keys, and none reveals the encryption key. Rotating the
// primary key changes every derived key.
func (k *Keyring) DeriveKey(purpose string) []byte {
	m := hmac.New(sha256.New, k.primaryRaw)
	m.Write([]byte("tenantapi derived key v1\x00" + purpose))
	return m.Sum(nil)
}

// Primary is the id of the key new secrets are sealed with.
func (k *Keyring) Primary() string { return k.primary }

// NeedsRotation reports whether sealed was made with a key other than the
// primary (a rotation job re-seals such values).
func (k *Keyring) NeedsRotation(sealed string) bool {
	id, _, _ := strings.Cut(sealed, ":")
	return id != k.primary
}
