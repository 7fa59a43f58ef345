package tenant

import "testing"

// Key verification runs on every request with an API key before the
// database lookup: the shape and checksum (WellFormedKey), then the hash the
// lookup uses (HashKey). Compare runs with benchstat.

func BenchmarkWellFormedKey(b *testing.B) {
	key := NewAPIKey()
	b.ReportAllocs()
	for b.Loop() {
		if !WellFormedKey(key) {
			b.Fatal("a new key is not well formed")
		}
	}
}

// BenchmarkWellFormedKeyMistyped is the refusal path: a checksum mismatch.
func BenchmarkWellFormedKeyMistyped(b *testing.B) {
	key := []byte(NewAPIKey())
	key[10] ^= 1 // still base62, wrong checksum
	s := string(key)
	b.ReportAllocs()
	for b.Loop() {
		if WellFormedKey(s) {
			b.Fatal("a mistyped key passed")
		}
	}
}

func BenchmarkHashKey(b *testing.B) {
	key := NewAPIKey()
	b.ReportAllocs()
	for b.Loop() {
		if len(HashKey(key)) != 32 {
			b.Fatal("not a SHA-256")
		}
	}
}

// BenchmarkVerifyKey is what authentication does before its one statement.
func BenchmarkVerifyKey(b *testing.B) {
	key := NewAPIKey()
	b.ReportAllocs()
	for b.Loop() {
		if !WellFormedKey(key) || len(HashKey(key)) != 32 {
			b.Fatal("verification failed")
		}
	}
}
