package db_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"testing"

	"tenantapi/db"
	"tenantapi/db/dbtest"
	"tenantapi/keyring"
)

// TestIdempotencyClaims walks a key through the states the HTTP layer
// relies on: claimed, in progress, abandoned and taken over, applied with
// its response lost, released, done and replayed, reused.
func TestIdempotencyClaims(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	store, err := db.Open(context.Background(), url, dbtest.Options(db.Options{MaxOpenConns: 2}))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ring, _ := keyring.Parse(keyring.Generate("t"))
	store.Sealer = ring
	raw, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ctx := context.Background()
	h := func(s string) []byte { b := sha256.Sum256([]byte(s)); return b[:] }
	claim := func(key, req string) *db.IdempotencyRecord {
		t.Helper()
		rec, err := store.ClaimIdempotencyKey(ctx, "admin", key, h(req))
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	const stale = `UPDATE idempotency_keys SET claimed_at = claimed_at - interval '2 minutes' WHERE key = $1`

	first := claim("k1", "req")
	if first.Outcome != db.IdempotencyClaimed {
		t.Fatalf("a new key: outcome %d, want claimed", first.Outcome)
	}
	if got := claim("k1", "req").Outcome; got != db.IdempotencyInProgress {
		t.Errorf("a duplicate while it runs: outcome %d, want in progress", got)
	}
	if got := claim("k1", "other").Outcome; got != db.IdempotencyReused {
		t.Errorf("another request: outcome %d, want reused", got)
	}
	exec(stale, "k1")
	second := claim("k1", "req")
	if second.Outcome != db.IdempotencyClaimed || second.Claim.Claim == first.Claim.Claim {
		t.Fatalf("an abandoned claim that applied nothing: outcome %d, want taken over with a new claim", second.Outcome)
	}
	// The takeover's work commits (its transaction records the claim), but
	// the response is lost: never run again.
	exec(`INSERT INTO idempotency_applied (claim) VALUES ($1)`, second.Claim.Claim)
	if released, err := store.ReleaseIdempotencyKey(ctx, second.Claim); err != nil || released {
		t.Errorf("release of an applied claim = %v, %v; want false", released, err)
	}
	if got := claim("k1", "req").Outcome; got != db.IdempotencyInProgress {
		t.Errorf("applied, within the lease: outcome %d, want in progress", got)
	}
	exec(stale, "k1")
	if got := claim("k1", "req").Outcome; got != db.IdempotencyLost {
		t.Errorf("applied, response never stored: outcome %d, want lost", got)
	}

	// A claim released after a transient failure runs again.
	c := claim("k2", "req")
	if released, err := store.ReleaseIdempotencyKey(ctx, c.Claim); err != nil || !released {
		t.Fatalf("release = %v, %v; want true", released, err)
	}
	c = claim("k2", "req")
	if c.Outcome != db.IdempotencyClaimed {
		t.Fatalf("after a release: outcome %d, want claimed", c.Outcome)
	}
	if err := store.CompleteIdempotencyKey(ctx, c.Claim, 200, "application/json", []byte(`{"data":{}}`)); err != nil {
		t.Fatal(err)
	}
	rep := claim("k2", "req")
	if rep.Outcome != db.IdempotencyReplay || rep.Status != 200 || rep.ContentType != "application/json" || string(rep.Body) != `{"data":{}}` {
		t.Errorf("done: %+v, want the stored response", rep)
	}
	// Another credential's same key is its own.
	if rec, err := store.ClaimIdempotencyKey(ctx, "key:00000000-0000-4000-8000-000000000009", "k2", h("req")); err != nil || rec.Outcome != db.IdempotencyClaimed {
		t.Errorf("another credential: %+v, %v; want claimed", rec, err)
	}
}
