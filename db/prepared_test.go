package db_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jmoiron/sqlx"

	"tenantapi/db/dbtest"
)

// TestPreparedStatementSurvivesMigration: a column added under a running
// server (a rolling deploy's migration) makes PostgreSQL refuse the
// prepared `SELECT *` ("cached plan must not change result type"); the
// store forgets that statement, answers unprepared, and prepares again.
func TestPreparedStatementSurvivesMigration(t *testing.T) {
	store := dbtest.New(t)
	ctx := context.Background()
	q := store.QForTest()
	if _, err := q.ExecContext(ctx, `CREATE TABLE prepared_probe (id int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO prepared_probe VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	const sel = `SELECT * FROM prepared_probe WHERE id = $1`
	read := func() map[string]any {
		t.Helper()
		row := map[string]any{}
		if err := q.QueryRowxContext(ctx, sel, 1).MapScan(row); err != nil {
			t.Fatalf("read: %v", err)
		}
		return row
	}
	for range 3 { // prepared, and used on the pool's connections
		read()
	}
	if _, err := q.ExecContext(ctx, `ALTER TABLE prepared_probe ADD COLUMN note text DEFAULT 'added'`); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if row := read(); fmt.Sprint(row["note"]) != "added" {
			t.Fatalf("read %d after the migration: %v", i, row)
		}
	}
	var rows []struct {
		ID   int    `db:"id"`
		Note string `db:"note"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, sel, 1); err != nil || len(rows) != 1 || rows[0].Note != "added" {
		t.Fatalf("select after the migration: %v %v", rows, err)
	}
}
