package httpapi

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// maxIntrospectionDepth bounds the nesting under __schema and __type,
// ofType included. QUERY_MAX_DEPTH counts introspection like any field
// except ofType: GraphiQL's introspection query nests 15 levels, nine of
// them ofType (a chain as long as a type's wrappers, [T!]! needing three,
// whose cost introspectionLimits counts), and 6 without them.
const maxIntrospectionDepth = 20

// documentLimits checks a document before gqlgen validates it: some of
// gqlparser's rules (overlapping fields) take time quadratic in the copies
// of a field, so a 4 KB document of 1,000 copies costs half a second of
// CPU to validate. It parses the document itself, under the token limit,
// and walks it as execution would merge it: fragments expanded (each
// fragment spread at most once on a path, so cycles end), fields of the
// same response name merged.
type documentLimits struct {
	lim           Limits
	introspection bool
	// passed remembers documents that passed, so a dashboard's repeated
	// query is walked once, not on every request (nil: no memory).
	passed graphql.Cache[struct{}]
}

// maxRememberedQuery bounds what the document caches keep, so 1,000
// entries cannot grow without bound.
const maxRememberedQuery = 32 << 10

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = documentLimits{}

func (documentLimits) ExtensionName() string                   { return "DocumentLimits" }
func (documentLimits) Validate(graphql.ExecutableSchema) error { return nil }
func (d documentLimits) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if p.Query == "" {
		return nil // a persisted-query hash: its document was checked when it was stored
	}
	if d.passed != nil {
		if _, ok := d.passed.Get(ctx, p.Query); ok {
			return nil
		}
	}
	if err := d.check(p.Query); err != nil {
		return err
	}
	if d.passed != nil && len(p.Query) <= maxRememberedQuery {
		d.passed.Add(ctx, p.Query, struct{}{})
	}
	return nil
}

// check refuses query with the first limit it exceeds, or returns nil; a
// document that does not parse is left to gqlgen, which reports it.
func (d documentLimits) check(query string) *gqlerror.Error {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, d.lim.MaxTokens)
	if err != nil {
		if g, ok := err.(*gqlerror.Error); ok && strings.HasPrefix(g.Message, "exceeded token limit") {
			return refusal(codeTooManyTokens, nil, "the document has more than %d tokens; at most %d are allowed", d.lim.MaxTokens, d.lim.MaxTokens)
		}
		return nil
	}
	w := &docWalker{limits: d, doc: doc, expanding: map[string]bool{}}
	for _, op := range doc.Operations {
		w.aliases = 0
		w.directives(op.Directives, op.Position)
		w.walk([]ast.SelectionSet{op.SelectionSet}, 0, 0, false)
	}
	// Fragments are validated on their own too, used or not.
	for _, f := range doc.Fragments {
		w.aliases = 0
		w.directives(f.Directives, f.Position)
		w.walk([]ast.SelectionSet{f.SelectionSet}, 0, 0, strings.HasPrefix(f.TypeCondition, "__"))
	}
	return w.err
}

type docWalker struct {
	limits    documentLimits
	doc       *ast.QueryDocument
	expanding map[string]bool // fragments being expanded into the current selection set
	aliases   int             // aliased fields of the current operation or fragment
	fields    int             // fields visited in the whole document, fragments expanded
	err       *gqlerror.Error
}

func (w *docWalker) fail(err *gqlerror.Error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *docWalker) directives(list ast.DirectiveList, pos *ast.Position) {
	if n := len(list); n > w.limits.lim.MaxDirectives {
		w.fail(refusal(codeTooManyDirs, pos, "a field carries %d directives; at most %d are allowed per field", n, w.limits.lim.MaxDirectives))
	}
}

// walk checks the selection sets that execution merges into one (the
// selections of every copy of a field), then their fields' selections;
// nest is the nesting of the fields walked, depth the same without
// introspection's ofType (see maxIntrospectionDepth).
func (w *docWalker) walk(sets []ast.SelectionSet, depth, nest int, introspection bool) {
	type group struct {
		fields []*ast.Field
	}
	var order []string
	groups := map[string]*group{}
	var collect func(set ast.SelectionSet)
	collect = func(set ast.SelectionSet) {
		for _, sel := range set {
			if w.err != nil {
				return
			}
			switch s := sel.(type) {
			case *ast.Field:
				w.directives(s.Directives, s.Position)
				if w.fields++; w.fields > w.limits.lim.MaxCost {
					w.fail(refusal(codeTooComplex, s.Position, "the document selects more than %d fields once its fragments are expanded; the cost limit is %d", w.limits.lim.MaxCost, w.limits.lim.MaxCost))
					return
				}
				if s.Alias != s.Name {
					if w.aliases++; w.aliases > w.limits.lim.MaxAliases {
						w.fail(refusal(codeTooManyAliases, s.Position, "the operation uses more than %d aliases; at most %d are allowed", w.limits.lim.MaxAliases, w.limits.lim.MaxAliases))
						return
					}
				}
				if !w.limits.introspection && (s.Name == "__schema" || s.Name == "__type") {
					w.fail(refusal(codeIntrospection, s.Position, "introspection is disabled on this server; __typename is still available"))
					return
				}
				g := groups[s.Alias]
				if g == nil {
					g = &group{}
					groups[s.Alias] = g
					order = append(order, s.Alias)
				}
				if g.fields = append(g.fields, s); len(g.fields) > w.limits.lim.MaxFieldCopies {
					w.fail(refusal(codeTooManyCopies, s.Position, "%q is selected more than %d times in one selection set (fragments included); at most %d are allowed", s.Alias, w.limits.lim.MaxFieldCopies, w.limits.lim.MaxFieldCopies))
					return
				}
			case *ast.InlineFragment:
				w.directives(s.Directives, s.Position)
				collect(s.SelectionSet)
			case *ast.FragmentSpread:
				w.directives(s.Directives, s.Position)
				def := w.doc.Fragments.ForName(s.Name)
				if def == nil || w.expanding[s.Name] {
					continue // unknown or cyclic: validation reports it
				}
				w.expanding[s.Name] = true
				collect(def.SelectionSet)
				delete(w.expanding, s.Name)
			}
		}
	}
	for _, set := range sets {
		collect(set)
	}
	for _, key := range order {
		if w.err != nil {
			return
		}
		g := groups[key]
		first := g.fields[0]
		intro := introspection || first.Name == "__schema" || first.Name == "__type"
		d := depth + 1
		if intro && first.Name == "ofType" {
			d = depth
		}
		switch {
		case d > w.limits.lim.MaxDepth:
			w.fail(refusal(codeTooDeep, first.Position, "the query nests fields more than %d levels deep; at most %d are allowed", w.limits.lim.MaxDepth, w.limits.lim.MaxDepth))
			return
		case intro && nest+1 > maxIntrospectionDepth:
			w.fail(refusal(codeTooDeep, first.Position, "the introspection query nests fields more than %d levels deep; at most %d are allowed", maxIntrospectionDepth, maxIntrospectionDepth))
			return
		}
		var subs []ast.SelectionSet
		for _, f := range g.fields {
			if len(f.SelectionSet) > 0 {
				subs = append(subs, f.SelectionSet)
			}
		}
		if len(subs) > 0 {
			w.walk(subs, d, nest+1, intro)
		}
	}
}
