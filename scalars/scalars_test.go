package scalars

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/codegen/config"

	"tenantapi/tenant"
)

// wantInvalid checks err is an EINVALID tenant.Error without a field (the
// presenter names it) whose message starts with "must" and contains msg.
func wantInvalid(t *testing.T, err error, msg string) {
	t.Helper()
	te, ok := errors.AsType[*tenant.Error](err)
	if !ok || te.Code != tenant.EINVALID || te.Field != "" || !strings.HasPrefix(te.Message, "must ") || !strings.Contains(te.Message, msg) {
		t.Fatalf("error %v, want EINVALID \"must …%s…\"", err, msg)
	}
}

// The values as they reach an unmarshaler: json.Number from variables
// (decoded with UseNumber), int64/float64/string/bool from literals.
func TestUnmarshalInt(t *testing.T) {
	for _, c := range []struct {
		name string
		in   any
		want int
		err  string
	}{
		{"OKNumber", json.Number("5"), 5, ""},
		{"OKLiteral", int64(-7), -7, ""},
		{"OKWholeFloat", json.Number("5.0"), 5, ""},
		{"OKMax", json.Number("2147483647"), math.MaxInt32, ""},
		{"OKMin", int64(math.MinInt32), math.MinInt32, ""},
		{"OKNull", nil, 0, ""},
		{"ErrString", "5", 0, "must be an Int (a whole number from -2147483648 to 2147483647, not in quotes), got a string"},
		{"ErrBoolean", true, 0, "got a boolean"},
		{"ErrFraction", json.Number("5.5"), 0, "got the number 5.5"},
		{"ErrFloatLiteral", 5.5, 0, "got the number 5.5"},
		{"ErrAboveInt32", json.Number("2147483648"), 0, "must be an Int from -2147483648 to 2147483647, got the number 2147483648"},
		{"ErrBelowInt32", int64(math.MinInt32 - 1), 0, "got the number -2147483649"},
		{"ErrHuge", json.Number("1e400"), 0, "got the number 1e400"},
		{"ErrLongNumber", json.Number(strings.Repeat("9", 100)), 0, "got the number " + strings.Repeat("9", 24) + "…"},
		{"ErrList", []any{json.Number("1")}, 0, "got a list"},
		{"ErrObject", map[string]any{}, 0, "got an object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := UnmarshalInt(c.in)
			if c.err != "" {
				wantInvalid(t, err, c.err)
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %d, %v; want %d", got, err, c.want)
			}
			got64, err := UnmarshalInt64(c.in)
			if err != nil || got64 != int64(c.want) {
				t.Fatalf("Int64: got %d, %v; want %d", got64, err, c.want)
			}
		})
	}
}

func TestUnmarshalFloat(t *testing.T) {
	for _, c := range []struct {
		name string
		in   any
		want float64
		err  string
	}{
		{"OKNumber", json.Number("2.5"), 2.5, ""},
		{"OKInteger", json.Number("3"), 3, ""},
		{"OKIntLiteral", int64(4), 4, ""},
		{"OKFloatLiteral", 0.25, 0.25, ""},
		{"ErrString", "2.5", 0, "must be a Float (a number, not in quotes), got a string"},
		{"ErrBoolean", false, 0, "got a boolean"},
		{"ErrInfinite", json.Number("1e400"), 0, "must be a finite Float"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := UnmarshalFloat(context.Background(), c.in)
			if c.err != "" {
				wantInvalid(t, err, c.err)
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestUnmarshalBoolean(t *testing.T) {
	if b, err := UnmarshalBoolean(true); !b || err != nil {
		t.Fatalf("true: %v %v", b, err)
	}
	if b, err := UnmarshalBoolean(nil); b || err != nil {
		t.Fatalf("null: %v %v", b, err)
	}
	for _, v := range []any{"true", json.Number("1"), int64(0)} {
		_, err := UnmarshalBoolean(v)
		wantInvalid(t, err, "must be a Boolean (true or false, not in quotes)")
	}
}

func TestUnmarshalID(t *testing.T) {
	for _, c := range []struct {
		name string
		in   any
		want string
		err  string
	}{
		{"OKString", "6f1c2c7e-0000-4000-8000-000000000001", "6f1c2c7e-0000-4000-8000-000000000001", ""},
		{"OKInteger", json.Number("42"), "42", ""},
		{"OKIntLiteral", int64(42), "42", ""},
		{"ErrFraction", json.Number("4.2"), "", "must be an ID (a string, or a whole number), got the number 4.2"},
		{"ErrBoolean", true, "", "got a boolean"},
		{"ErrNUL", "ab\x00", "", "NUL (U+0000) found at character 3"},
		{"ErrLineBreak", "ab\n", "", "U+000A at character 3"},
		{"ErrReplacement", "ab\uFFFD", "", "character 3 is U+FFFD"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := UnmarshalID(c.in)
			if c.err != "" {
				wantInvalid(t, err, c.err)
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

// TestUnmarshalString: a String is only a string, one line of valid text;
// MultiLine also keeps tab and line breaks, never NUL.
func TestUnmarshalString(t *testing.T) {
	for _, c := range []struct {
		name      string
		in        any
		oneLine   string // the error of UnmarshalString, "" for none
		multiLine string // the error of MultiLine.UnmarshalGQL, "" for none
	}{
		{"OKText", "Acme Corp", "", ""},
		{"OKUnicode", "Acéme 東京 🚀 \u00a0 \u200d", "", ""},
		{"OKEmpty", "", "", ""},
		{"ErrNumber", json.Number("5"), "must be a String (text in quotes), got the number 5", "got the number 5"},
		{"ErrIntLiteral", int64(5), "got the number 5", "got the number 5"},
		{"ErrBoolean", true, "got a boolean", "got a boolean"},
		{"ErrNUL", "a\x00b", "must not contain control characters: NUL (U+0000) found at character 2", "NUL (U+0000) found at character 2"},
		{"ErrReplacement", "ab\uFFFD", "must be valid UTF-8 text: character 3 is U+FFFD", "character 3 is U+FFFD"},
		{"ErrInvalidUTF8", "ab\xffc", "character 3 is U+FFFD", "character 3 is U+FFFD"},
		{"ErrSurrogateBytes", "ab\xed\xa0\x80", "character 3 is U+FFFD", "character 3 is U+FFFD"},
		{"LF", "a\nb", "one line of text without tabs or line breaks (U+0000–U+001F, U+007F–U+009F), found U+000A at character 2", ""},
		{"CRLF", "a\r\nb", "found U+000D at character 2", ""},
		{"Tab", "a\tb", "found U+0009 at character 2", ""},
		{"ErrBEL", "a\ab", "found U+0007 at character 2", "other than tab and line breaks (U+0000–U+001F, U+007F–U+009F), found U+0007 at character 2"},
		{"ErrESC", "a\x1b[31m", "found U+001B at character 2", "found U+001B at character 2"},
		{"ErrDEL", "a\x7f", "found U+007F at character 2", "found U+007F at character 2"},
		{"ErrC1", "a\u0085", "found U+0085 at character 2", "found U+0085 at character 2"},
		{"LineSeparator", "a\u2028b", "one line of text without line or paragraph separators, found U+2028 at character 2", ""},
		{"ParagraphSeparator", "a\u2029b", "found U+2029 at character 2", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := UnmarshalString(c.in)
			if c.oneLine != "" {
				wantInvalid(t, err, c.oneLine)
			} else if err != nil || s != c.in {
				t.Fatalf("String: got %q, %v", s, err)
			}
			var m MultiLine
			err = m.UnmarshalGQL(c.in)
			if c.multiLine != "" {
				wantInvalid(t, err, c.multiLine)
			} else if err != nil || string(m) != c.in {
				t.Fatalf("MultiLine: got %q, %v", m, err)
			}
		})
	}
}

// TestNoValueInMessages: a refused value is never repeated (it may be a
// secret), only described.
func TestNoValueInMessages(t *testing.T) {
	const secret = "s3cr3t-value"
	for _, v := range []string{secret + "\x00", secret + "\n", secret + "\uFFFD"} {
		_, err := UnmarshalString(v)
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Fatalf("%q: %v", v, err)
		}
	}
}

// TestMultiLineFieldsMatchSchema: the input fields gqlgen.yml binds to
// MultiLine are exactly those whose schema description says "Multi-line",
// and they are Strings.
func TestMultiLineFieldsMatchSchema(t *testing.T) {
	t.Chdir("..")
	cfg, err := config.LoadConfig("gqlgen.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.LoadSchema(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, def := range cfg.Schema.Types {
		for _, f := range def.Fields {
			bound := strings.TrimPrefix(cfg.Models[def.Name].Fields[f.Name].Type, "*") == "tenantapi/scalars.MultiLine"
			said := strings.Contains(f.Description, "Multi-line")
			if bound != said {
				t.Errorf("%s.%s: bound to MultiLine %v, description says Multi-line %v", def.Name, f.Name, bound, said)
			}
			if bound {
				n++
				if f.Type.Name() != "String" {
					t.Errorf("%s.%s is a %s, not a String", def.Name, f.Name, f.Type.Name())
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no MultiLine field found: the test reads the wrong configuration")
	}
}

// JSON values go out as themselves, nil as null; input keeps its encoding.
func TestJSON(t *testing.T) {
	for _, c := range []struct {
		name string
		raw  json.RawMessage
		want string
	}{
		{"Number", json.RawMessage(`365`), `365`},
		{"String", json.RawMessage(`"EU"`), `"EU"`},
		{"Object", json.RawMessage(`{"check":"DNS","weight":0.5}`), `{"check":"DNS","weight":0.5}`},
		{"Nil", nil, `null`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b strings.Builder
			MarshalJSON(c.raw).MarshalGQL(&b)
			if b.String() != c.want {
				t.Errorf("marshalled %s, want %s", b.String(), c.want)
			}
		})
	}
	got, err := UnmarshalJSON(map[string]any{"a": []any{json.Number("1"), true}})
	if err != nil || string(got) != `{"a":[1,true]}` {
		t.Errorf("UnmarshalJSON = %s, %v", got, err)
	}
}
