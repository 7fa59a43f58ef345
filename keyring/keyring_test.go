package keyring

import (
	"bytes"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	old := Generate("k1")
	k, err := Parse(old)
	if err != nil {
		t.Fatal(err)
	}
	sealed := k.Seal("tenant-a", []byte("s3cret"))
	if strings.Contains(sealed, "s3cret") || !strings.HasPrefix(sealed, "k1:") {
		t.Fatalf("sealed = %q", sealed)
	}
	if pt, err := k.Open("tenant-a", sealed); err != nil || !bytes.Equal(pt, []byte("s3cret")) {
		t.Fatalf("open = %q, %v", pt, err)
	}
	if _, err := k.Open("tenant-b", sealed); err != ErrOpen {
		t.Fatalf("another tenant's id opened it: %v", err)
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if _, err := k.Open("tenant-a", tampered); err != ErrOpen {
		t.Fatalf("tampered ciphertext opened: %v", err)
	}
	// Rotation: a new primary seals, the old key still opens.
	rotated, err := Parse(Generate("k2") + "," + old)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := rotated.Open("tenant-a", sealed); err != nil || string(pt) != "s3cret" {
		t.Fatalf("old ciphertext after rotation: %q, %v", pt, err)
	}
	if !rotated.NeedsRotation(sealed) || !strings.HasPrefix(rotated.Seal("tenant-a", []byte("x")), "k2:") {
		t.Fatal("rotation: new values must be sealed with k2")
	}
	if a, b := k.Seal("t", []byte("same")), k.Seal("t", []byte("same")); a == b {
		t.Fatal("two seals of the same value are equal: nonce reused")
	}
}

func TestParseErrors(t *testing.T) {
	for _, spec := range []string{"", "k1:short", "bad id!:" + strings.Repeat("A", 44), Generate("k1") + "," + Generate("k1")} {
		if _, err := Parse(spec); err == nil {
			t.Errorf("Parse(%q) accepted", spec)
		}
	}
}
