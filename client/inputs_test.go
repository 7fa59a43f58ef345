package client_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2"
	gqlast "github.com/vektah/gqlparser/v2/ast"

	"tenantapi/client"
)

// TestOptionalInputsOmitted: an optional input the caller leaves nil is left
// out of the request, not sent as null (null is not "absent": it overrides a
// default such as `validateOnly: Boolean = false` or `first: Int = 20`).
// genqlient has no global switch for that, so each optional field of an
// input type carries `# @genqlient(for: "Type.field", omitempty: true)` in
// the operation that uses it; this test fails when a schema change adds a
// field without one. Lists are the exception, on purpose: nil is sent as
// null (unchanged) and an empty list as [] (clear it).
func TestOptionalInputsOmitted(t *testing.T) {
	src, err := os.ReadFile("../schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	schema, gerr := gqlparser.LoadSchema(&gqlast.Source{Name: "schema.graphql", Input: string(src)})
	if gerr != nil {
		t.Fatal(gerr)
	}
	file, err := parser.ParseFile(token.NewFileSet(), "generated.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	ast.Inspect(file, func(n ast.Node) bool {
		spec, ok := n.(*ast.TypeSpec)
		if !ok {
			return true
		}
		st, ok := spec.Type.(*ast.StructType)
		if !ok {
			return false
		}
		name := spec.Name.Name
		def := schema.Types[name]
		isVars := strings.HasPrefix(name, "__") && strings.HasSuffix(name, "Input") // an operation's variables
		if !isVars && (def == nil || def.Kind != gqlast.InputObject) {
			return false
		}
		for _, f := range st.Fields.List {
			tag, _ := strconv.Unquote(f.Tag.Value)
			jsonName, opts, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
			omitted := strings.Contains(opts, "omitempty")
			optional := false
			if isVars {
				_, optional = f.Type.(*ast.StarExpr)
			} else if fd := def.Fields.ForName(jsonName); fd != nil {
				optional = !fd.Type.NonNull && fd.Type.Elem == nil
			}
			checked++
			if optional && !omitted {
				where := name + "." + jsonName
				if isVars {
					where = "the variable $" + jsonName + " of " + strings.TrimSuffix(strings.TrimPrefix(name, "__"), "Input") +
						` (add # @genqlient(omitempty: true) above the operation)`
				} else {
					where += ` (add # @genqlient(for: "` + name + "." + jsonName + `", omitempty: true) above the operation that uses ` + name + ")"
				}
				t.Errorf("optional input sent as null when nil: %s", where)
			}
		}
		return false
	})
	if checked < 20 {
		t.Fatalf("checked only %d input fields: did generated.go change shape?", checked)
	}
}

// TestInputJSON: what the generated input types send, as JSON.
func TestInputJSON(t *testing.T) {
	at := time.Date(2026, 3, 20, 9, 30, 0, 0, time.FixedZone("", -5*3600))
	for _, c := range []struct {
		name string
		in   any
		want string
	}{
		{"OmitsNilOptionals", client.RecordUsageInput{Events: []client.UsageEventInput{{Id: "e1", OccurredAt: at, UserId: "u", Platform: "chatgpt",
			Outcome: client.InteractionOutcomeLogged, RiskLevel: client.RiskLevelLow}}},
			`{"events":[{"id":"e1","occurredAt":"2026-03-20T09:30:00-05:00","userId":"u","platform":"chatgpt","outcome":"LOGGED","riskLevel":"LOW"}]}`},
		{"SendsFalse", client.RotateWebhookSecretInput{RevokePrevious: client.Ptr(false)}, `{"revokePrevious":false}`},
		{"NilListIsNull", client.UpdateNotificationChannelsInput{WebhookUrl: client.Ptr("")}, `{"emails":null,"webhookUrl":"","events":null}`},
		{"EmptyListClears", client.UpdateNotificationChannelsInput{Emails: []string{}}, `{"emails":[],"events":null}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := json.Marshal(c.in)
			if err != nil || string(got) != c.want {
				t.Errorf("got %s (%v), want %s", got, err, c.want)
			}
		})
	}
}

// TestDate: the Date scalar in JSON.
func TestDate(t *testing.T) {
	d := client.Date{Year: 2026, Month: time.March, Day: 1}
	b, err := json.Marshal(d)
	if err != nil || string(b) != `"2026-03-01"` {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	var back client.Date
	if err := json.Unmarshal(b, &back); err != nil || back != d {
		t.Fatalf("unmarshal: %v, %v", back, err)
	}
	for _, bad := range []string{`"2026-02-29"`, `"2026-03-01T00:00:00Z"`, `20260301`, `""`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	if got := client.DateOf(time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC)).Time(); !got.Equal(time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Time %v", got)
	}
}
