package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Idempotency keys (the Idempotency-Key header of mutations) are recorded
// per credential in idempotency_keys. The HTTP layer claims a key before
// running the request, and stores the response after; the transaction of
// the mutation itself records the claim in idempotency_applied
// (txContext), so whether the work committed is known exactly even when
// the connection, and with it the response, was lost.

// IdempotencyTTL is how long a key is remembered: a reuse after it starts
// afresh, and PurgeIdempotencyKeys deletes older records.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyLease is how long a claim protects a request that has not
// finished: after it, a retry may take over a claim whose work never
// committed (its request died with the database or the process). It is
// longer than any request may run.
const IdempotencyLease = time.Minute

// IdempotencyClaim is a request's hold on an idempotency key.
type IdempotencyClaim struct {
	Scope string // the credential: "admin" or "key:<id>"
	Key   string
	Claim string // random id of the request holding it
}

type idempotencyClaimKey struct{}

// WithIdempotencyClaim returns ctx whose transactions mark c applied.
func WithIdempotencyClaim(ctx context.Context, c *IdempotencyClaim) context.Context {
	return context.WithValue(ctx, idempotencyClaimKey{}, c)
}

func idempotencyClaimFrom(ctx context.Context) *IdempotencyClaim {
	c, _ := ctx.Value(idempotencyClaimKey{}).(*IdempotencyClaim)
	return c
}

// IdempotencyOutcome is what a claim found.
type IdempotencyOutcome int

// The outcomes of ClaimIdempotencyKey.
const (
	IdempotencyClaimed    IdempotencyOutcome = iota // new (or abandoned, or expired): run the request
	IdempotencyReplay                               // done: answer the stored response
	IdempotencyReused                               // the key was used for a different request
	IdempotencyInProgress                           // another request with the key is running
	IdempotencyLost                                 // the work was applied but its response was lost
)

// IdempotencyRecord is the result of a claim: the claim to run with, or the
// stored response to replay.
type IdempotencyRecord struct {
	Outcome     IdempotencyOutcome
	Claim       *IdempotencyClaim
	Status      int
	ContentType string
	Body        []byte
	CreatedAt   time.Time
}

// ClaimIdempotencyKey claims key for scope and a request hashed to hash, in
// one statement: a new key, an expired one (older than IdempotencyTTL) or
// one abandoned before its work committed (claimed more than
// IdempotencyLease ago) is claimed; otherwise the record says what the key
// holds. Codes: EUNAVAILABLE.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, scope, key string, hash []byte) (*IdempotencyRecord, error) {
	if s.Sealer == nil {
		return nil, errors.New("idempotency keys need a Sealer: responses are stored sealed")
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	claim := h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	now := s.Now().UTC()
	var row struct {
		Claimed     bool      `db:"claimed"`
		Claim       string    `db:"claim"`
		Hash        []byte    `db:"request_hash"`
		State       string    `db:"state"`
		Applied     bool      `db:"applied"`
		Status      *int      `db:"status"`
		ContentType *string   `db:"content_type"`
		Sealed      *string   `db:"response_sealed"`
		CreatedAt   time.Time `db:"created_at"`
		ClaimedAt   time.Time `db:"claimed_at"`
	}
	// A retried statement (lib/pq #939: database/sql may resend one whose
	// connection broke) finds its own claim and keeps it.
	err := sqlx.GetContext(ctx, s.q(), &row, `WITH c AS (
			INSERT INTO idempotency_keys AS k (scope, key, request_hash, state, claim, created_at, claimed_at)
			VALUES ($1, $2, $3, 'RUNNING', $4, $5, $5)
			ON CONFLICT (scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, state = 'RUNNING',
				claim = EXCLUDED.claim, status = NULL, content_type = NULL, response_sealed = NULL,
				created_at = EXCLUDED.created_at, claimed_at = EXCLUDED.claimed_at
			WHERE k.created_at < $6
			   OR (k.state = 'RUNNING' AND k.claimed_at < $7 AND k.request_hash = EXCLUDED.request_hash
			       AND NOT EXISTS (SELECT 1 FROM idempotency_applied a WHERE a.claim = k.claim))
			RETURNING true AS claimed, claim, request_hash, state, false AS applied, status, content_type, response_sealed, created_at, claimed_at)
		SELECT * FROM c
		UNION ALL
		SELECT k.claim = $4, claim, request_hash, state, EXISTS (SELECT 1 FROM idempotency_applied a WHERE a.claim = k.claim),
			status, content_type, response_sealed, created_at, claimed_at
		FROM idempotency_keys k WHERE k.scope = $1 AND k.key = $2 AND NOT EXISTS (SELECT 1 FROM c)`,
		scope, key, hash, claim, now, now.Add(-IdempotencyTTL), now.Add(-IdempotencyLease))
	if err != nil {
		// No row: the key vanished between the insert and the read (a
		// concurrent release); the client may simply retry.
		if errors.Is(err, sql.ErrNoRows) {
			return &IdempotencyRecord{Outcome: IdempotencyInProgress}, nil
		}
		return nil, translate(err)
	}
	rec := &IdempotencyRecord{CreatedAt: row.CreatedAt}
	switch {
	case row.Claimed:
		rec.Outcome = IdempotencyClaimed
		rec.Claim = &IdempotencyClaim{Scope: scope, Key: key, Claim: row.Claim}
	case string(row.Hash) != string(hash):
		rec.Outcome = IdempotencyReused
	case row.State == "DONE":
		body, err := s.Sealer.Open(idempotencyBinding(scope, key), valueOr(row.Sealed))
		if err != nil {
			return nil, fmt.Errorf("idempotency key response does not open: %w", err)
		}
		rec.Outcome, rec.Status, rec.ContentType, rec.Body = IdempotencyReplay, valueOr(row.Status), valueOr(row.ContentType), body
	case row.Applied && now.Sub(row.ClaimedAt) > IdempotencyLease:
		rec.Outcome = IdempotencyLost
	default:
		rec.Outcome = IdempotencyInProgress
	}
	return rec, nil
}

// CompleteIdempotencyKey stores the response of the request holding c,
// sealed, for replays. Codes: EUNAVAILABLE.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, c *IdempotencyClaim, status int, contentType string, body []byte) error {
	_, err := s.q().ExecContext(ctx, `UPDATE idempotency_keys SET state = 'DONE', status = $4, content_type = $5, response_sealed = $6
		WHERE scope = $1 AND key = $2 AND claim = $3`,
		c.Scope, c.Key, c.Claim, status, contentType, s.Sealer.Seal(idempotencyBinding(c.Scope, c.Key), body))
	return translate(err)
}

// ReleaseIdempotencyKey forgets the claim c when its work never committed,
// so that a retry with the key runs the request (after a failure such as
// SERVICE_UNAVAILABLE). It reports false when the work was applied: then the
// response must be stored instead. Codes: EUNAVAILABLE.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, c *IdempotencyClaim) (bool, error) {
	res, err := s.q().ExecContext(ctx, `DELETE FROM idempotency_keys k WHERE scope = $1 AND key = $2 AND claim = $3
		AND NOT EXISTS (SELECT 1 FROM idempotency_applied a WHERE a.claim = k.claim)`,
		c.Scope, c.Key, c.Claim)
	if err != nil {
		return false, translate(err)
	}
	n, err := res.RowsAffected()
	return n == 1, translate(err)
}

// PurgeIdempotencyKeys deletes records older than IdempotencyTTL and
// returns how many. A periodic job calls it (server.go). Codes: EUNAVAILABLE.
func (s *Store) PurgeIdempotencyKeys(ctx context.Context) (int, error) {
	cutoff := s.Now().UTC().Add(-IdempotencyTTL)
	res, err := s.q().ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, cutoff)
	if err != nil {
		return 0, translate(err)
	}
	// A claim is applied within its request, which began after the key's
	// created_at: a day's margin keeps every mark a live key may need.
	if _, err := s.q().ExecContext(ctx, `DELETE FROM idempotency_applied WHERE created_at < $1`, cutoff.Add(-IdempotencyTTL)); err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return int(n), translate(err)
}

// idempotencyBinding is what a stored response is sealed for: it opens only
// for the same credential and key.
func idempotencyBinding(scope, key string) string { return "idempotency\x00" + scope + "\x00" + key }

func valueOr[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
