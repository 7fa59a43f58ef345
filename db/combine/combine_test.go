package combine_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"tenantapi/db/combine"
	"tenantapi/db/dbtest"
)

// open connects to a fresh database with the session settings opts (-c
// name=value ...).
func open(t *testing.T, opts string) *sqlx.DB {
	t.Helper()
	u, err := url.Parse(dbtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	if opts != "" {
		q := u.Query()
		q.Set("options", opts)
		u.RawQuery = q.Encode()
	}
	conn, err := sqlx.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// combined runs segs as one statement, as package db does.
func combined(ctx context.Context, conn *sqlx.DB, segs []combine.Segment) ([]error, error) {
	query, args, err := combine.Statement(segs)
	if err != nil {
		return nil, err
	}
	rows, err := conn.QueryxContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return combine.Scan(rows.Rows, conn.Mapper, segs)
}

// upper is a custom sql.Scanner: text, upper-cased.
type upper string

func (u *upper) Scan(src any) error {
	switch v := src.(type) {
	case string:
		*u = upper(strings.ToUpper(v))
	case []byte:
		*u = upper(strings.ToUpper(string(v)))
	case nil:
		*u = "<NULL>"
	default:
		return errors.New("upper: not text")
	}
	return nil
}

type audit struct {
	At *time.Time `db:"at"`
	By *string    `db:"by"`
}

type withEmbedded struct {
	ID   int64 `db:"id"`
	Name upper `db:"name"`
	Tags pq.StringArray
	audit
	*More
}

type More struct {
	Note sql.NullString `db:"note"`
}

type nullables struct {
	I  sql.NullInt64      `db:"i"`
	F  sql.NullFloat64    `db:"f"`
	B  sql.NullBool       `db:"b"`
	S  sql.NullString     `db:"s"`
	T  sql.NullTime       `db:"t"`
	G  sql.Null[int32]    `db:"g"`
	P  *int               `db:"p"`
	PS *string            `db:"ps"`
	J  []byte             `db:"j"`
	A  pq.Int64Array      `db:"a"`
	X  any                `db:"x"`
	PT *time.Time         `db:"pt"`
	NS sql.Null[[]byte]   `db:"ns"`
	Z  *sql.NullInt64     `db:"z"`
	Q  *pq.StringArray    `db:"q"`
	Y  *json.RawMessage   `db:"y"`
	W  *[]byte            `db:"w"`
	V  *float64           `db:"v"`
	U  *bool              `db:"u"`
	D  *time.Time         `db:"d"`
	C  *upper             `db:"c"`
	E  *sql.NullString    `db:"e"`
	K  *sql.Null[float32] `db:"k"`
}

// typeCase is one destination type: the rows of query (two: a value, then
// NULL where the type takes one) read into a new *[]R.
type typeCase struct {
	name  string
	query string // its rows ordered by the column k
	dest  func() any
	err   bool // the destination refuses the rows, alone as combined
}

func caseOf[R any](name, query string) typeCase {
	return typeCase{name: name, query: query, dest: func() any { return new([]R) }}
}

func failing[R any](name, query string) typeCase {
	c := caseOf[R](name, query)
	c.err = true
	return c
}

// TestScanTypes reads each column type PostgreSQL and lib/pq hand this
// API, into each kind of destination the batches use (and a few more),
// combined with a longer segment (so the statement has rows where the
// case's segment is absent, its columns NULL) and alone through sqlx, and
// requires the same rows and the same refusals.
func TestScanTypes(t *testing.T) {
	conn := open(t, "")
	ctx := context.Background()
	v := func(vals ...string) string { // rows (k, value) in order
		parts := make([]string, len(vals))
		for i, s := range vals {
			parts[i] = "(" + string(rune('1'+i)) + ", " + s + ")"
		}
		return "SELECT v FROM (VALUES " + strings.Join(parts, ", ") + ") AS t(k, v)"
	}
	cases := []typeCase{
		caseOf[int16]("int2", v("32767::int2", "(-32768)::int2")),
		caseOf[int32]("int4", v("2147483647", "-2147483648")),
		caseOf[int64]("int8", v("9223372036854775807::int8", "(-9223372036854775808)::int8")),
		caseOf[int]("int8 into int", v("42::int8", "0::int8")),
		caseOf[uint32]("int4 into uint32", v("4000000", "0")),
		caseOf[*int]("int4 into *int", v("7", "8")),
		failing[*int]("NULL into *int (a new int, as sqlx)", v("7", "NULL::int")),
		caseOf[float32]("float4", v("1.5::float4", "'-Infinity'::float4")),
		caseOf[float64]("float8", v("1e308::float8", "'Infinity'::float8")),
		caseOf[string]("numeric into string", v("12345.678900::numeric(12,6)", "'-0.5'::numeric")),
		caseOf[float64]("numeric into float64", v("12345.5::numeric", "(-1)::numeric")),
		caseOf[int64]("numeric into int64", v("12345::numeric", "0::numeric")),
		caseOf[bool]("bool", v("true", "false")),
		caseOf[*bool]("bool into *bool", v("true", "false")),
		failing[*bool]("NULL into *bool", v("true", "NULL::bool")),
		caseOf[string]("text", v("'héllo'::text", "''::text")),
		caseOf[[]byte]("text into bytes", v("'abc'::text", "NULL::text")),
		failing[*string]("NULL into *string", v("'x'", "NULL::text")),
		caseOf[string]("varchar and char", v("'ab'::varchar(5)", "'ab'::char(5)")),
		caseOf[string]("uuid", v("'7d9f1c2e-5b4a-4c3d-8e2f-1a0b9c8d7e6f'::uuid", "'00000000-0000-0000-0000-000000000000'::uuid")),
		caseOf[[]byte]("bytea", v(`'\x00ff10'::bytea`, `''::bytea`)),
		caseOf[time.Time]("timestamptz", v("'2026-11-03 10:11:12.123456+01'::timestamptz", "'epoch'::timestamptz")),
		failing[*time.Time]("NULL into *time.Time", v("'2026-11-03 10:11:12Z'::timestamptz", "NULL::timestamptz")),
		caseOf[time.Time]("timestamp", v("'2026-11-03 10:11:12.5'::timestamp", "'0001-01-01 00:00'::timestamp")),
		failing[time.Time]("infinity into time.Time", v("'2026-11-03'::timestamp", "'infinity'::timestamp")),
		caseOf[time.Time]("date", v("'2026-02-28'::date", "'0001-01-01'::date")),
		caseOf[string]("interval", v("'1 day 02:03:04'::interval", "'-1 month'::interval")),
		caseOf[string]("inet", v("'10.0.0.0/8'::inet", "'::1'::inet")),
		caseOf[json.RawMessage]("json", v(`'{"a": [1, 2]}'::json`, `'null'::json`)),
		caseOf[[]byte]("jsonb", v(`'{"b": 1, "a": "x"}'::jsonb`, `'[]'::jsonb`)),
		caseOf[string]("jsonb into string", v(`'{"a": 1}'::jsonb`, `'"s"'::jsonb`)),
		caseOf[pq.StringArray]("text[]", v(`ARRAY['a', 'b,c', '', '"q"', 'NULL']::text[]`, "NULL::text[]")),
		failing[pq.StringArray]("text[] with a NULL element", v(`ARRAY['a', NULL]`, "NULL::text[]")),
		caseOf[pq.Int64Array]("int8[]", v("ARRAY[1, -2]::int8[]", "'{}'::int8[]")),
		caseOf[pq.Float64Array]("float8[]", v("ARRAY[1.5, -2]::float8[]", "NULL::float8[]")),
		caseOf[pq.BoolArray]("bool[]", v("ARRAY[true, false]", "'{}'::bool[]")),
		caseOf[pq.ByteaArray]("bytea[]", v(`ARRAY['\x01'::bytea, '\x'::bytea]`, "NULL::bytea[]")),
		caseOf[pq.StringArray]("uuid[]", v("ARRAY['7d9f1c2e-5b4a-4c3d-8e2f-1a0b9c8d7e6f']::uuid[]", "'{}'::uuid[]")),
		caseOf[upper]("custom Scanner", v("'abc'", "NULL::text")),
		caseOf[*upper]("custom Scanner by pointer", v("'abc'", "NULL::text")),
		caseOf[sql.NullInt64]("sql.NullInt64", v("5::int8", "NULL::int8")),
		caseOf[sql.Null[string]]("sql.Null[string]", v("'s'", "NULL::text")),
		caseOf[any]("any", v("1::int8", "NULL::int8")),
		caseOf[nullables]("struct of nullables", `SELECT 1::int8 AS i, 1.5::float8 AS f, true AS b, 's' AS s, '2026-11-03 10:11:12+01'::timestamptz AS t, 3 AS g, 4 AS p, 'ps' AS ps,
			'{"j": 1}'::jsonb AS j, ARRAY[1, 2]::int8[] AS a, 'x' AS x, '2026-11-03 10:11:12.5+01'::timestamptz AS pt, '\x01'::bytea AS ns,
			7::int8 AS z, ARRAY['q'] AS q, '[1]'::json AS y, '\x02'::bytea AS w, 2.5::float8 AS v, false AS u,
			'2026-01-02'::date AS d, 'c' AS c, 'e' AS e, 1.25::float4 AS k
			UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
			NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL`),
		caseOf[withEmbedded]("embedded structs", `SELECT 1::int8 AS id, 'ann' AS name, ARRAY['x'] AS tags, '2026-11-03 10:11:12+01'::timestamptz AS at, 'me' AS by, 'n' AS note
			UNION ALL SELECT 2, 'bob', NULL, NULL, NULL, NULL`),
		caseOf[*withEmbedded]("pointers to structs", `SELECT 1::int8 AS id, 'ann' AS name, ARRAY['x'] AS tags, '2026-11-03 10:11:12+01'::timestamptz AS at, 'me' AS by, 'n' AS note`),
		caseOf[time.Time]("struct without fields (time.Time)", v("'2026-11-03 10:11:12+01'::timestamptz", "'epoch'::timestamptz")),
		failing[int]("NULL into int", v("1", "NULL::int")),
		failing[int16]("int8 out of range", v("1::int8", "40000::int8")),
		failing[bool]("text into bool", v("'maybe'", "'true'")),
		failing[time.Time]("text into time.Time", v("'2026-01-01'::text", "'x'")),
		failing[struct {
			ID int64 `db:"id"`
		}]("column without a field", `SELECT 1::int8 AS id, 2 AS extra`),
		failing[int]("several columns for a scalar", `SELECT 1 AS a, 2 AS b`),
	}
	// The companion segment: longer than every case, in its own order.
	const companion = `SELECT g FROM generate_series(1, 4) AS g`
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			order := ""
			if strings.Contains(c.query, "AS t(k, v)") {
				order = "k"
			}
			alone := c.dest()
			seg := combine.Segment{Query: c.query, Order: order, Dest: alone}
			aloneErr := sqlx.SelectContext(ctx, conn, alone, seg.Text())

			together := c.dest()
			var gs []int
			errs, err := combined(ctx, conn, []combine.Segment{
				{Query: companion, Order: "g DESC", Dest: &gs},
				{Query: c.query, Order: order, Dest: together},
			})
			if err != nil {
				t.Fatalf("combined statement: %v", err)
			}
			if !slices.Equal(gs, []int{4, 3, 2, 1}) || errs[0] != nil {
				t.Fatalf("companion segment: %v %v", gs, errs[0])
			}
			if (aloneErr != nil) != c.err || (errs[1] != nil) != c.err {
				t.Fatalf("errors: alone %v, combined %v; want an error: %v", aloneErr, errs[1], c.err)
			}
			if c.err {
				return
			}
			if !reflect.DeepEqual(alone, together) {
				t.Fatalf("combined\n%#v\nalone\n%#v", reflect.ValueOf(together).Elem(), reflect.ValueOf(alone).Elem())
			}
			if reflect.ValueOf(alone).Elem().Len() == 0 {
				t.Fatal("no rows")
			}
		})
	}
}

// TestScanSpotChecks pins a few values, not only their equality to
// sqlx's: the scan must not agree with sqlx by both being wrong.
func TestScanSpotChecks(t *testing.T) {
	conn := open(t, "")
	var ints []int64
	var texts []sql.NullString
	var when []time.Time
	var arrs []pq.StringArray
	errs, err := combined(context.Background(), conn, []combine.Segment{
		{Query: `SELECT 9223372036854775807::int8 AS v`, Dest: &ints},
		{Query: `SELECT v FROM (VALUES (1, 'a'), (2, NULL)) t(k, v)`, Order: "k", Dest: &texts},
		{Query: `SELECT '2026-11-03 10:11:12.123456+01'::timestamptz AS v`, Dest: &when},
		{Query: `SELECT ARRAY['a', '', 'b,c'] AS v`, Dest: &arrs},
	})
	if err != nil || errors.Join(errs...) != nil {
		t.Fatal(err, errs)
	}
	if len(ints) != 1 || ints[0] != math.MaxInt64 {
		t.Errorf("int8: %v", ints)
	}
	if len(texts) != 2 || texts[0] != (sql.NullString{String: "a", Valid: true}) || texts[1].Valid {
		t.Errorf("text or NULL: %v", texts)
	}
	if want := time.Date(2026, 11, 3, 9, 11, 12, 123456000, time.UTC); len(when) != 1 || !when[0].Equal(want) {
		t.Errorf("timestamptz: %v, want %v", when, want)
	}
	if len(arrs) != 1 || !slices.Equal(arrs[0], pq.StringArray{"a", "", "b,c"}) {
		t.Errorf("text[]: %#v", arrs)
	}
}
