package db_test

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/db/dbtest"
)

// uniqueKeyExceptions are the unique keys of tenant tables that may not
// lead with the tenant's column, each for a reason. Everything else that
// holds tenant data is keyed within its tenant, the condition for
// distributing it by tenant (docs/scaling.md, Outgrowing one PostgreSQL).
// Each entry is "table.index".
var uniqueKeyExceptions = map[string]string{
	// A domain belongs to one tenant per environment across the platform
	// (createTenant and updateTenant answer CONFLICT for a taken one): the
	// rule itself is global. Under Citus it moves into a reference table
	// (scaling.md).
	"tenants.tenants_domain_environment_key": "a domain is unique per environment across tenants",
	// A session token arrives with each request before its tenant is
	// known: its hash is the lookup key. 32 random bytes; the index is
	// unique so an impossible collision could never authenticate two
	// sessions. Under Citus the token carries its tenant (scaling.md).
	"sessions.sessions_token_hash": "a session token is looked up before its tenant is known",
	// Invitation and password-reset links are opened by someone not signed
	// in: the token's hash finds the member and so the tenant.
	"member_tokens.member_tokens_hash": "an invitation or reset token is looked up before its tenant is known",
	// The state of an SSO login comes back from the identity provider to
	// one callback URL for every tenant; it is what names the tenant.
	"sso_login_states.sso_login_states_pkey": "an SSO login's state is looked up before its tenant is known",
}

// distributionColumn is the column a tenant table would be distributed by:
// tenant_id, except for the tenants table itself.
func distributionColumn(table string) string {
	if table == "tenants" {
		return "id"
	}
	return "tenant_id"
}

// placementRow is a row of docs/scaling.md's table of placements:
// | `table` | distributed | … |
var placementRow = regexp.MustCompile("(?m)^\\| `([a-z_0-9]+)` \\| (distributed|reference|local) \\|")

// TestTenantKeysLeadWithTenantID reads the migrated schema's catalog: every
// table is placed in docs/scaling.md (distributed by tenant, reference or
// local), a table with a tenant_id column is distributed, every primary
// and unique key of a distributed table leads with its distribution column
// (uniqueKeyExceptions excepted), foreign keys between distributed tables
// include it on both sides, and no reference or local table points at a
// distributed one. These are the keys Citus can enforce when each tenant's
// rows live on one node.
func TestTenantKeysLeadWithTenantID(t *testing.T) {
	conn, err := sqlx.Open("postgres", dbtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	doc, err := os.ReadFile("../docs/scaling.md")
	if err != nil {
		t.Fatal(err)
	}
	placement := map[string]string{}
	for _, m := range placementRow.FindAllStringSubmatch(string(doc), -1) {
		if _, dup := placement[m[1]]; dup {
			t.Errorf("docs/scaling.md places %s twice", m[1])
		}
		placement[m[1]] = m[2]
	}

	var tables []struct {
		Name      string `db:"name"`
		HasTenant bool   `db:"has_tenant"`
	}
	if err := conn.Select(&tables, `SELECT c.relname AS name,
		EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS has_tenant
		FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	inSchema := map[string]bool{}
	for _, tb := range tables {
		inSchema[tb.Name] = true
		switch p, ok := placement[tb.Name]; {
		case !ok:
			t.Errorf("table %s is not placed in docs/scaling.md's table (distributed, reference or local)", tb.Name)
		case tb.HasTenant && p != "distributed":
			t.Errorf("table %s holds tenant data (tenant_id) but docs/scaling.md places it %s, not distributed", tb.Name, p)
		case !tb.HasTenant && p == "distributed" && tb.Name != "tenants":
			t.Errorf("table %s has no tenant_id to be distributed by, but docs/scaling.md places it distributed", tb.Name)
		}
	}
	for name := range placement {
		if !inSchema[name] {
			t.Errorf("docs/scaling.md places %s, which the schema does not have", name)
		}
	}

	// Every unique index (primary keys and unique constraints included),
	// with its key columns in order.
	var keys []struct {
		Table   string         `db:"tbl"`
		Index   string         `db:"idx"`
		Columns pq.StringArray `db:"cols"`
	}
	if err := conn.Select(&keys, `SELECT c.relname AS tbl, i.relname AS idx,
		ARRAY(SELECT COALESCE(a.attname, '(expression)') FROM unnest(x.indkey[0:x.indnkeyatts - 1]) WITH ORDINALITY k(attnum, n)
			LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum ORDER BY k.n) AS cols
		FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
		WHERE c.relnamespace = 'public'::regnamespace AND x.indisunique ORDER BY 1, 2`); err != nil {
		t.Fatal(err)
	}
	excepted := map[string]bool{}
	for _, k := range keys {
		if placement[k.Table] != "distributed" {
			continue
		}
		name := k.Table + "." + k.Index
		if _, ok := uniqueKeyExceptions[name]; ok {
			excepted[name] = true
			continue
		}
		if col := distributionColumn(k.Table); len(k.Columns) == 0 || k.Columns[0] != col {
			t.Errorf("unique key %s (%v) does not lead with %s: add %s first, or justify it in uniqueKeyExceptions", name, []string(k.Columns), col, col)
		}
	}
	for name := range uniqueKeyExceptions {
		if !excepted[name] {
			t.Errorf("uniqueKeyExceptions lists %s, which is not a unique key of a distributed table any more: remove it", name)
		}
	}

	var fks []struct {
		Name    string         `db:"name"`
		From    string         `db:"from_tbl"`
		To      string         `db:"to_tbl"`
		FromCol pq.StringArray `db:"from_cols"`
		ToCol   pq.StringArray `db:"to_cols"`
	}
	if err := conn.Select(&fks, `SELECT con.conname AS name, f.relname AS from_tbl, r.relname AS to_tbl,
		ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, n)
			JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.n) AS from_cols,
		ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(attnum, n)
			JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.n) AS to_cols
		FROM pg_constraint con JOIN pg_class f ON f.oid = con.conrelid JOIN pg_class r ON r.oid = con.confrelid
		WHERE con.contype = 'f' AND con.connamespace = 'public'::regnamespace ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	for _, fk := range fks {
		from, to := placement[fk.From], placement[fk.To]
		switch {
		case to != "distributed":
			// Pointing at a reference table works from anywhere.
		case from != "distributed":
			t.Errorf("foreign key %s: %s (%s) references the distributed table %s", fk.Name, fk.From, from, fk.To)
		default:
			i := slices.Index(fk.FromCol, distributionColumn(fk.From))
			if i < 0 || fk.ToCol[i] != distributionColumn(fk.To) {
				t.Errorf("foreign key %s from %s%v to %s%v does not pair %s with %s: rows of one tenant could reference another's",
					fk.Name, fk.From, []string(fk.FromCol), fk.To, []string(fk.ToCol), distributionColumn(fk.From), distributionColumn(fk.To))
			}
		}
	}
}
