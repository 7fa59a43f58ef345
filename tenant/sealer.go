package tenant

// Sealer encrypts tenant secrets at rest, binding each to its tenant. The
// keyring package implements it; the db package stores only its output.
type Sealer interface {
	// Seal encrypts plaintext for tenantID.
	Seal(tenantID string, plaintext []byte) string
	// Open decrypts what Seal returned for the same tenantID.
	Open(tenantID, sealed string) ([]byte, error)
}
