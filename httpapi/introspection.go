package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"tenantapi/tenant"
)

// Introspection (docs/limits.md) is neither free nor
// open to everyone by default. Who may introspect is IntrospectionMode;
// what it costs is counted by introspectionLimits in the same budget as the
// rest of the operation (QUERY_MAX_COST). gqlgen's cost walker skips
// __schema and counts __type as if its lists had one element, so one 19 KB
// document of 30 aliased __schema selections answered 5.8 MB for free.
// The schema is fixed while the server runs, so the honest cost of an
// introspection field is known exactly before anything runs: one per field
// of its answer, every element of its lists counted (all types, all fields
// of each type, all arguments of each field...). Counting stops as soon as
// the budget is spent, so pricing a hostile document costs at most
// QUERY_MAX_COST steps.

// IntrospectionMode says who may query __schema and __type.
type IntrospectionMode string

// The introspection modes (INTROSPECTION). The zero value is
// IntrospectionAll.
const (
	IntrospectionAll           IntrospectionMode = "all"           // every caller, anonymous ones too (development)
	IntrospectionAuthenticated IntrospectionMode = "authenticated" // callers with an API key or the admin secret (production)
	IntrospectionOff           IntrospectionMode = "off"           // nobody; GraphiQL is off too
)

// ParseIntrospectionMode reads INTROSPECTION: all, authenticated or off.
func ParseIntrospectionMode(s string) (IntrospectionMode, error) {
	switch m := IntrospectionMode(strings.ToLower(strings.TrimSpace(s))); m {
	case IntrospectionAll, IntrospectionAuthenticated, IntrospectionOff:
		return m, nil
	}
	return "", fmt.Errorf("must be all, authenticated or off, got %q", s)
}

func (m IntrospectionMode) orDefault() IntrospectionMode {
	if m == "" {
		return IntrospectionAll
	}
	return m
}

// introspectionLimits admits the introspection of an operation that
// passed the other limits: it refuses __schema and __type to callers the
// mode excludes, adds their exact cost to the operation's (costLimit
// counted the rest, without them) and refuses the operation when the sum
// is over the limit. It runs after costLimit, whose stats it completes.
type introspectionLimits struct {
	mode   IntrospectionMode
	limit  int
	schema *ast.Schema
	// graphiQL is the cost of GraphiQL's schema query, for refusals.
	graphiQL int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*introspectionLimits)(nil)

// ignoredByCostLimit is what costLimit leaves to introspectionLimits
// (gqlgen's walker already skips every field returning __Schema).
var ignoredByCostLimit = map[string]struct{}{"Query.__type": {}}

func (*introspectionLimits) ExtensionName() string { return "IntrospectionLimits" }

func (x *introspectionLimits) Validate(es graphql.ExecutableSchema) error {
	x.schema = es.Schema()
	doc, err := gqlparser.LoadQueryWithRules(x.schema, GraphiQLIntrospectionQuery, nil) // nil: the default rules
	if err != nil {
		return fmt.Errorf("GraphiQL's introspection query: %w", err)
	}
	x.graphiQL, _ = introspectionCost(x.schema, introspectionRoots(doc.Operations[0].SelectionSet, nil), nil, int(^uint(0)>>1))
	return nil
}

func (x *introspectionLimits) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil {
		return nil
	}
	roots := introspectionRoots(opCtx.Operation.SelectionSet, nil)
	if len(roots) == 0 {
		return nil
	}
	switch x.mode.orDefault() {
	case IntrospectionOff:
		return refusal(codeIntrospection, roots[0].Position, "introspection is disabled on this server; __typename is still available")
	case IntrospectionAuthenticated:
		if tenant.ActorFrom(ctx).Kind == tenant.Anonymous {
			return refusal(codeIntrospection, roots[0].Position, "introspection needs credentials on this server: send an API key (Authorization: Bearer <key>; in GraphiQL, in the Headers pane, then re-fetch the schema); __typename is still available")
		}
	}
	statsName := extension.ComplexityLimit{}.ExtensionName()
	stats, _ := opCtx.Stats.GetExtension(statsName).(*extension.ComplexityStats)
	if stats == nil {
		stats = &extension.ComplexityStats{ComplexityLimit: x.limit}
		opCtx.Stats.SetExtension(statsName, stats)
	}
	cost, within := introspectionCost(x.schema, roots, opCtx.Variables, stats.ComplexityLimit-stats.Complexity)
	stats.Complexity = addSaturating(stats.Complexity, cost)
	if !within {
		return refusal(codeTooComplex, roots[0].Position, "the query costs over the limit of %d: introspection costs one per field of its answer, every type, field and argument of the schema counted (GraphiQL's schema query costs %d); select less of __schema, or fewer copies of it",
			stats.ComplexityLimit, x.graphiQL)
	}
	opCtx.DisableIntrospection = false
	return nil
}

func addSaturating(a, b int) int {
	if b > 0 && a > int(^uint(0)>>1)-b {
		return int(^uint(0) >> 1)
	}
	return a + b
}

// GraphiQLIntrospectionQuery is GraphiQL 4's schema query with every option
// of graphql-js's getIntrospectionQuery on (descriptions, specifiedByURL,
// repeatable directives, the schema's description, deprecated input
// values; nine levels of ofType): a superset of what the embedded GraphiQL
// 4.1.2 sends (it turns on descriptions and deprecated input values) and of
// what typed-client generators send. It must pass the default limits
// (TestRealisticQueriesPass, TestIntrospectionIsPaid).
const GraphiQLIntrospectionQuery = `query IntrospectionQuery {
  __schema {
    description
    queryType { name kind }
    mutationType { name kind }
    subscriptionType { name kind }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL
  fields(includeDeprecated: true) { name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue isDeprecated deprecationReason }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } } }`

// introspectionRoots returns the __schema and __type fields of a root
// selection set, fragments expanded (validation refuses them deeper).
func introspectionRoots(set ast.SelectionSet, out []*ast.Field) []*ast.Field {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				out = append(out, s)
			}
		case *ast.InlineFragment:
			out = introspectionRoots(s.SelectionSet, out)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				out = introspectionRoots(s.Definition.SelectionSet, out)
			}
		}
	}
	return out
}

// introspectionCost is the cost of the introspection fields roots: the
// number of fields of their answer. within is false when it is over budget;
// the count then stops, and cost is what was counted so far.
func introspectionCost(schema *ast.Schema, roots []*ast.Field, vars map[string]any, budget int) (cost int, within bool) {
	c := &introspectionCounter{schema: schema, vars: vars, left: budget}
	for _, f := range roots {
		if !c.field() {
			break
		}
		switch f.Name {
		case "__schema":
			c.set(f.SelectionSet, ival{kind: kindSchema})
		case "__type":
			name, _ := f.ArgumentMap(vars)["name"].(string)
			if def := schema.Types[name]; def != nil {
				c.set(f.SelectionSet, ival{kind: kindType, def: def})
			}
		}
	}
	return budget - c.left, c.left >= 0
}

// ival is a value of the introspection schema: __Schema, __Type, __Field,
// __InputValue, __EnumValue or __Directive.
type ival struct {
	kind ikind
	def  *ast.Definition // __Type: a named type; nil for a wrapper
	typ  *ast.Type       // __Type: a wrapper (NON_NULL when nonNull, else LIST); __Field, __InputValue: their type
	// nonNull: the wrapper is t's non-null; otherwise its list.
	nonNull bool
	field   *ast.FieldDefinition     // __Field
	dir     *ast.DirectiveDefinition // __Directive
}

type ikind int

const (
	kindSchema ikind = iota
	kindType
	kindField
	kindInputValue
	kindEnumValue
	kindDirective
)

// typeOf is the __Type of t: NON_NULL and LIST wrap their ofType, as
// gqlgen's introspection shows them; a named type is its definition.
func typeOf(s *ast.Schema, t *ast.Type, nonNull bool) *ival {
	switch {
	case t == nil:
		return nil
	case nonNull && t.NonNull:
		return &ival{kind: kindType, typ: t, nonNull: true}
	case t.Elem != nil:
		return &ival{kind: kindType, typ: t}
	}
	if def := s.Types[t.NamedType]; def != nil {
		return &ival{kind: kindType, def: def}
	}
	return nil
}

// introspectionCounter counts the fields of an introspection answer
// without building it, until left goes below zero.
type introspectionCounter struct {
	schema *ast.Schema
	vars   map[string]any
	left   int
}

// field counts one field and reports whether the budget still holds.
func (c *introspectionCounter) field() bool {
	c.left--
	return c.left >= 0
}

// set counts the fields selected by set on v, and what they select.
func (c *introspectionCounter) set(set ast.SelectionSet, v ival) {
	for _, sel := range set {
		if c.left < 0 {
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			if !c.field() {
				return
			}
			if len(s.SelectionSet) > 0 {
				c.children(s, v)
			}
		case *ast.InlineFragment:
			c.set(s.SelectionSet, v)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				c.set(s.Definition.SelectionSet, v)
			}
		}
	}
}

// children counts f's selection on each value f answers on v: every
// element of a list, the object of an object field, nothing for null.
func (c *introspectionCounter) children(f *ast.Field, v ival) {
	s := c.schema
	each := func(x *ival) {
		if x != nil && c.left >= 0 {
			c.set(f.SelectionSet, *x)
		}
	}
	named := func(def *ast.Definition) {
		if def != nil {
			each(&ival{kind: kindType, def: def})
		}
	}
	switch v.kind {
	case kindSchema:
		switch f.Name {
		case "types":
			for _, def := range s.Types {
				named(def)
			}
		case "queryType":
			named(s.Query)
		case "mutationType":
			named(s.Mutation)
		case "subscriptionType":
			named(s.Subscription)
		case "directives":
			for _, d := range s.Directives {
				each(&ival{kind: kindDirective, dir: d})
			}
		}
	case kindType:
		def := v.def
		switch f.Name {
		case "ofType":
			switch {
			case def != nil: // a named type wraps nothing: null
			case v.nonNull:
				each(typeOf(s, v.typ, false))
			default:
				each(typeOf(s, v.typ.Elem, true))
			}
		case "fields":
			if def != nil && (def.Kind == ast.Object || def.Kind == ast.Interface) {
				for _, fd := range def.Fields {
					if !strings.HasPrefix(fd.Name, "__") {
						each(&ival{kind: kindField, field: fd, typ: fd.Type})
					}
				}
			}
		case "inputFields":
			if def != nil && def.Kind == ast.InputObject {
				for _, fd := range def.Fields {
					each(&ival{kind: kindInputValue, typ: fd.Type})
				}
			}
		case "interfaces":
			if def != nil && (def.Kind == ast.Object || def.Kind == ast.Interface) {
				for _, name := range def.Interfaces {
					named(s.Types[name])
				}
			}
		case "possibleTypes":
			if def != nil && (def.Kind == ast.Interface || def.Kind == ast.Union) {
				for _, p := range s.GetPossibleTypes(def) {
					named(p)
				}
			}
		case "enumValues":
			if def != nil && def.Kind == ast.Enum {
				for range def.EnumValues {
					each(&ival{kind: kindEnumValue})
				}
			}
		}
	case kindField:
		switch f.Name {
		case "args":
			for _, a := range v.field.Arguments {
				each(&ival{kind: kindInputValue, typ: a.Type})
			}
		case "type":
			each(typeOf(s, v.typ, true))
		}
	case kindInputValue:
		if f.Name == "type" {
			each(typeOf(s, v.typ, true))
		}
	case kindDirective:
		if f.Name == "args" {
			for _, a := range v.dir.Arguments {
				each(&ival{kind: kindInputValue, typ: a.Type})
			}
		}
	}
}

// graphiQLOff answers every page of GraphiQL when introspection is off: it
// could not show the schema.
func graphiQLOff() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("GraphiQL is off because introspection is disabled on this server (INTROSPECTION=off); POST GraphQL to /graphql\n"))
	})
}
