package db

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// Hooks for the external tests of package db_test (which may import
// db/dbtest, unlike this package's own tests).

// InTxForTest is inTx, with the row triggers silent when rowAuditOff.
func (s *Store) InTxForTest(ctx context.Context, rowAuditOff bool, fn func(tx sqlx.ExtContext) error) error {
	if rowAuditOff {
		ctx = withRowAuditOff(ctx)
	}
	return s.inTx(ctx, func(tx sqlx.ExtContext, _ time.Time) error { return fn(tx) })
}

// AuditEventForTest is auditEvent.
var AuditEventForTest = auditEvent

// QForTest is q: the pool, counted and prepared.
func (s *Store) QForTest() sqlx.ExtContext { return s.q() }
