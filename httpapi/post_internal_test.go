package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestWriteResponseMatchesEncodingJSON: writeResponse's body means what
// encoding/json's (gqlgen's transports) does, members in the same order,
// with the data copied byte for byte.
func TestWriteResponseMatchesEncodingJSON(t *testing.T) {
	yes := true
	tests := map[string]*graphql.Response{
		"Data":              {Data: json.RawMessage(`{"me":{"name":"Acme <&> \"Ltd\"","plan":null,"n":[1,2.5,-3e2]}}`)},
		"Unicode":           {Data: json.RawMessage(`{"me":{"name":"ООО Ромашка 株式会社 \u2028"}}`)},
		"NullData":          {},
		"ErrorsAndData":     {Errors: gqlerror.List{{Message: "this needs the <x> permission", Extensions: map[string]any{"code": "FORBIDDEN"}}}, Data: json.RawMessage(`{"me":{"billing":null}}`)},
		"ErrorsWithoutData": {Errors: gqlerror.List{{Message: "Cannot query field \"x\"", Locations: []gqlerror.Location{{Line: 1, Column: 3}}}}},
		"Extensions":        {Data: json.RawMessage(`{"a":1}`), Extensions: map[string]any{"rateLimit": map[string]any{"limit": 600, "remaining": 599}}},
		"Incremental":       {Data: json.RawMessage(`{"a":1}`), Label: "l", HasNext: &yes},
	}
	for name, resp := range tests {
		t.Run(name, func(t *testing.T) {
			var got bytes.Buffer
			writeResponse(&got, resp)
			want, err := json.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(got.Bytes()) {
				t.Fatalf("not JSON: %s", got.Bytes())
			}
			var g, w any
			_ = json.Unmarshal(got.Bytes(), &g)
			_ = json.Unmarshal(want, &w)
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("writeResponse = %s\nencoding/json = %s", got.Bytes(), want)
			}
			if keys, wantKeys := topKeys(t, got.Bytes()), topKeys(t, want); !reflect.DeepEqual(keys, wantKeys) {
				t.Errorf("members %v, encoding/json's %v", keys, wantKeys)
			}
			if len(resp.Data) > 0 && resp.Label == "" && !bytes.Contains(got.Bytes(), resp.Data) {
				t.Errorf("the data is not copied as it is: %s", got.Bytes())
			}
		})
	}
}

func topKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	var keys []string
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// listData is the data of workload 2 of docs/benchmarks.md (a page of 100
// tenants with plan, settings, limits, usage, billing and 3 invoices), as
// gqlgen encodes it: about 90 KB.
func listData() json.RawMessage {
	var b strings.Builder
	b.WriteString(`{"tenants":{"totalCount":10000,"pageInfo":{"hasNextPage":true,"endCursor":"Y3Vyc29y"},"nodes":[`)
	for i := range 100 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"00000000-0000-4000-8000-%012d","name":"Tenant %d GmbH","domain":"tenant-%d.example.com","status":"ACTIVE",`+
			`"plan":{"id":"professional","name":"Professional"},"settings":{"dataResidency":"EU","auditLogRetentionDays":365,"ssoEnabled":true},`+
			`"limits":{"users":100,"policies":50,"interactionsPerMonth":100000,"apiRequestsPerMinute":600},"usage":{"activeUsers":42,"policies":7,"interactionsThisMonth":12345},`+
			`"billing":{"status":"ACTIVE","billingPeriod":"MONTHLY","nextBillingDate":"2026-12-15","amount":{"amountCents":29900,"currency":"EUR"}},"invoices":{"nodes":[`, i, i, i)
		for j := range 3 {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":"6f1c1e7e-3c2a-4a57-9a39-%012d","number":"INV-2026-%03d","status":"PAID","date":"2026-11-15","amount":{"amountCents":29900,"currency":"EUR"}}`, i*3+j, j+1)
		}
		b.WriteString(`]}}`)
	}
	b.WriteString(`]}}`)
	return json.RawMessage(b.String())
}

// BenchmarkWriteResponse compares writing workload 2's response the way
// gqlgen's POST transport does (encoding/json over the whole response)
// with writeResponse.
func BenchmarkWriteResponse(b *testing.B) {
	resp := &graphql.Response{Data: listData(), Extensions: map[string]any{"rateLimit": map[string]any{"limit": 600, "remaining": 599, "resetAt": "2026-12-02T18:00:00Z"}}}
	var sink bytes.Buffer
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(resp.Data)))
		for b.Loop() {
			sink.Reset()
			out, err := json.Marshal(resp)
			if err != nil {
				b.Fatal(err)
			}
			sink.Write(out)
		}
	})
	b.Run("writeResponse", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(resp.Data)))
		for b.Loop() {
			sink.Reset()
			writeResponse(&sink, resp)
		}
	})
}
