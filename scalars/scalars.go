// Package scalars holds the strict input coercion of GraphQL's built-in
// scalars (Int, Float, String, Boolean, ID), bound in gqlgen.yml in place of
// gqlgen's own, which accept "5" for an Int and 5 or true for a String.
//
// Coercion follows the GraphQL specification (section 3.5): an Int is an
// integral number within 32 bits, a Float any number, a String only a
// string, a Boolean only true or false, an ID a string or an integral number.
// Strings are also checked as text: no U+FFFD (it only arises when the JSON
// decoder replaced an invalid UTF-8 byte or a lone surrogate escape such as
// \ud800), no NUL anywhere, and no control characters at all except in the
// few multi-line fields (MultiLine), which keep tab and line breaks.
//
// Errors are tenant.Error EINVALID without a field and with a message that
// starts with "must": the error presenter names the argument or input field
// from the input path ("amount must be an Int ..."). No message repeats the
// value sent, which may be a secret.
//
// Output is marshalled as gqlgen does; only input is stricter.
package scalars

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"

	"tenantapi/tenant"
)

func invalid(format string, args ...any) error {
	return &tenant.Error{Code: tenant.EINVALID, Message: fmt.Sprintf(format, args...)}
}

// got describes a refused value by its JSON kind, without its content
// (a string may be a secret); a number is shown cut to a short prefix.
func got(v any) string {
	switch v := v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "the number " + short(string(v))
	case int64:
		return "the number " + strconv.FormatInt(v, 10)
	case int:
		return "the number " + strconv.Itoa(v)
	case float64:
		return "the number " + short(strconv.FormatFloat(v, 'g', -1, 64))
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("a %T", v)
	}
}

func short(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}

// integral returns v as an integer when it is an integral number (a JSON
// number such as 5 or 5.0, or an integer literal), and ok false otherwise.
func integral(v any) (n int64, ok bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case int:
		return int64(v), true
	case json.Number:
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return n, true
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return 0, false
		}
		return integral(f)
	case float64:
		// JSON has one number type: 5.0 is the integer 5 (as in graphql-js).
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int64(v), true
		}
	}
	return 0, false
}

// unmarshalInt reads an Int: an integral number from -2^31 to 2^31-1.
func unmarshalInt(v any) (int64, error) {
	n, ok := integral(v)
	if !ok {
		return 0, invalid("must be an Int (a whole number from %d to %d, not in quotes), got %s", math.MinInt32, math.MaxInt32, got(v))
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, invalid("must be an Int from %d to %d, got %s", math.MinInt32, math.MaxInt32, got(v))
	}
	return n, nil
}

// MarshalInt writes an Int as gqlgen does.
func MarshalInt(i int) graphql.Marshaler { return graphql.MarshalInt(i) }

// UnmarshalInt reads an Int strictly: see unmarshalInt. A null (an explicit
// null for an optional argument with a default) reads as 0, as in gqlgen.
func UnmarshalInt(v any) (int, error) {
	if v == nil {
		return 0, nil
	}
	n, err := unmarshalInt(v)
	return int(n), err
}

// MarshalInt64 writes an Int held in an int64 as gqlgen does.
func MarshalInt64(i int64) graphql.Marshaler { return graphql.MarshalInt64(i) }

// UnmarshalInt64 reads an Int into an int64, with an Int's 32-bit range.
func UnmarshalInt64(v any) (int64, error) {
	if v == nil {
		return 0, nil
	}
	return unmarshalInt(v)
}

// MarshalFloat writes a Float as gqlgen does (an infinity or NaN is an
// error on the field).
func MarshalFloat(f float64) graphql.ContextMarshaler { return graphql.MarshalFloatContext(f) }

// UnmarshalFloat reads a Float: any finite number, integral or not; never a
// string or a boolean.
func UnmarshalFloat(_ context.Context, v any) (float64, error) {
	switch v := v.(type) {
	case nil:
		return 0, nil
	case float64:
		return v, nil
	case int64:
		return float64(v), nil
	case int:
		return float64(v), nil
	case json.Number:
		if f, err := strconv.ParseFloat(string(v), 64); err == nil {
			return f, nil
		}
		return 0, invalid("must be a finite Float, got %s", got(v))
	}
	return 0, invalid("must be a Float (a number, not in quotes), got %s", got(v))
}

// MarshalBoolean writes a Boolean as gqlgen does.
func MarshalBoolean(b bool) graphql.Marshaler { return graphql.MarshalBoolean(b) }

// UnmarshalBoolean reads a Boolean: true or false, never "true" or 1.
func UnmarshalBoolean(v any) (bool, error) {
	switch v := v.(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	}
	return false, invalid("must be a Boolean (true or false, not in quotes), got %s", got(v))
}

// MarshalID writes an ID as gqlgen does (a string).
func MarshalID(s string) graphql.Marshaler { return graphql.MarshalID(s) }

// UnmarshalID reads an ID: a string, or an integral number taken as its
// decimal form. Its text is one line (CheckText).
func UnmarshalID(v any) (string, error) {
	switch s := v.(type) {
	case nil:
		return "", nil
	case string:
		return s, CheckText(s, false)
	}
	if n, ok := integral(v); ok {
		return strconv.FormatInt(n, 10), nil
	}
	return "", invalid("must be an ID (a string, or a whole number), got %s", got(v))
}

// MarshalString writes a String as gqlgen does.
func MarshalString(s string) graphql.Marshaler { return graphql.MarshalString(s) }

// UnmarshalString reads a String: only a string, never a number or a
// boolean, and one line of text (CheckText).
func UnmarshalString(v any) (string, error) {
	switch s := v.(type) {
	case nil:
		return "", nil
	case string:
		return s, CheckText(s, false)
	}
	return "", invalid("must be a String (text in quotes), got %s", got(v))
}

// MultiLine is a String input whose text may span lines: it keeps tab, line
// feed and carriage return, and refuses the rest of what UnmarshalString
// refuses. gqlgen.yml gives it to the few such input fields (a PEM
// certificate, an XML document); their schema descriptions say "Multi-line".
type MultiLine string

// MarshalGQL writes the text as a String.
func (m MultiLine) MarshalGQL(w io.Writer) { graphql.MarshalString(string(m)).MarshalGQL(w) }

// UnmarshalGQL reads a multi-line String (CheckText).
func (m *MultiLine) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return invalid("must be a String (text in quotes), got %s", got(v))
	}
	if err := CheckText(s, true); err != nil {
		return err
	}
	*m = MultiLine(s)
	return nil
}

// CheckText refuses text that cannot be stored as sent: U+FFFD (what JSON
// decoding leaves of invalid UTF-8 and of lone surrogates, so it is refused
// even when sent on purpose), invalid UTF-8 (from a document literal), NUL,
// and control characters. multiLine text keeps tab, line feed and carriage
// return; one-line text has none, nor the Unicode line and paragraph
// separators U+2028 and U+2029. Positions are counted in characters from 1.
func CheckText(s string, multiLine bool) error {
	pos := 0
	for _, r := range s {
		pos++
		switch {
		case r == utf8.RuneError:
			return invalid("must be valid UTF-8 text: character %d is U+FFFD, which stands for an invalid byte or a lone surrogate escape (such as \\ud800) in the request, and is refused", pos)
		case r == 0:
			return invalid("must not contain control characters: NUL (U+0000) found at character %d", pos)
		case multiLine && (r == '\t' || r == '\n' || r == '\r'):
		case unicode.IsControl(r):
			if multiLine {
				return invalid("must not contain control characters other than tab and line breaks (U+0000–U+001F, U+007F–U+009F), found U+%04X at character %d", r, pos)
			}
			return invalid("must not contain control characters: one line of text without tabs or line breaks (U+0000–U+001F, U+007F–U+009F), found U+%04X at character %d", r, pos)
		case !multiLine && (r == '\u2028' || r == '\u2029'):
			return invalid("must not contain control characters: one line of text without line or paragraph separators, found U+%04X at character %d", r, pos)
		}
	}
	return nil
}

// MarshalJSON answers a JSON value (RFC 8259) as itself, an object, array,
// string, number, boolean or null in the response, not inside a string.
// raw is valid JSON (a jsonb column's text); nil answers null.
func MarshalJSON(raw json.RawMessage) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		if len(raw) == 0 {
			raw = json.RawMessage("null")
		}
		_, _ = w.Write(raw)
	})
}

// UnmarshalJSON accepts any JSON value as input and keeps its encoding.
func UnmarshalJSON(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, invalid("must be a JSON value")
	}
	return b, nil
}
