package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"tenantapi/tenant"
)

// isConnection reports whether a field returns a Relay connection.
func isConnection(t *ast.Type) bool { return t != nil && strings.HasSuffix(t.Name(), "Connection") }

// pageSize returns the page size a connection field asks for: last when
// sent, else first, defaults applied. ok is false for other fields; given is false when
// the field has a page argument but none was given.
func pageSize(def *ast.FieldDefinition, args map[string]any) (n int64, arg string, given, ok bool) {
	if def == nil || !isConnection(def.Type) {
		return 0, "", false, false
	}
	// last first: a sent last pages backwards, and first may still hold
	// its schema default (the resolver refuses a sent first with it).
	for _, name := range []string{"last", "first"} {
		if def.Arguments.ForName(name) == nil {
			continue
		}
		arg = name
		if v, isInt := toInt(args[name]); isInt {
			return v, name, true, true
		}
	}
	return 0, arg, false, arg != ""
}

func toInt(v any) (int64, bool) {
	switch v := v.(type) {
	case int:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	case float64:
		return int64(v), v == math.Trunc(v)
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	}
	return 0, false
}

// pageSizes refuses, before anything runs, a connection field whose first
// (or last) is missing or outside 1..MaxPageSize: its cost could not be
// known, and a nested connection would otherwise fail only after the outer
// page was loaded. The error is the resolvers' own: BAD_USER_INPUT on
// "first". passed remembers the operations (costKey) that passed, so a
// dashboard's repeated query is walked once (nil: no memory).
type pageSizes struct{ passed graphql.Cache[struct{}] }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = pageSizes{}

func (pageSizes) ExtensionName() string                   { return "PageSizes" }
func (pageSizes) Validate(graphql.ExecutableSchema) error { return nil }
func (p pageSizes) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	key, remember := costKey(opCtx)
	remember = remember && p.passed != nil
	if remember {
		if _, ok := p.passed.Get(ctx, key); ok {
			return nil
		}
	}
	if err := checkPageSizes(opCtx); err != nil {
		return err
	}
	if remember {
		p.passed.Add(ctx, key, struct{}{})
	}
	return nil
}

func checkPageSizes(opCtx *graphql.OperationContext) *gqlerror.Error {
	var err *gqlerror.Error
	var walk func(set ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			if err != nil {
				return
			}
			switch s := sel.(type) {
			case *ast.Field:
				if s.Definition != nil && s.ObjectDefinition != nil {
					n, arg, given, ok := pageSize(s.Definition, s.ArgumentMap(opCtx.Variables))
					where := s.ObjectDefinition.Name + "." + s.Name
					switch {
					case ok && !given:
						err = pageError(s.Position, arg, fmt.Sprintf("%s must be given on %s (a page size from 1 to %d)", arg, where, MaxPageSize))
					case ok && (n < 1 || n > MaxPageSize):
						err = pageError(s.Position, arg, fmt.Sprintf("%s must be between 1 and %d (the page size of %s), got %d", arg, MaxPageSize, where, n))
					}
				}
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if s.Definition != nil {
					walk(s.Definition.SelectionSet)
				}
			}
		}
	}
	if opCtx.Operation != nil {
		walk(opCtx.Operation.SelectionSet)
	}
	return err
}

func pageError(pos *ast.Position, field, msg string) *gqlerror.Error {
	err := refusal(codeBadUserInput, pos, "%s", msg)
	err.Extensions["field"] = field
	return err
}

// costExtension is the name costLimit's stats are kept under.
const costExtension = "ComplexityLimit"

// reportCost puts the operation's cost in the response's extensions.cost:
// what it was priced at (costSchema) and QUERY_MAX_COST, as GitHub reports
// rateLimit { cost }, so a client sees how close it is before it is refused.
func reportCost(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || !graphql.HasOperationContext(ctx) {
		return resp
	}
	if s, ok := graphql.GetOperationContext(ctx).Stats.GetExtension(costExtension).(*extension.ComplexityStats); ok && s != nil {
		if resp.Extensions == nil {
			resp.Extensions = map[string]any{}
		}
		resp.Extensions["cost"] = map[string]any{"requested": s.Complexity, "limit": s.ComplexityLimit}
	}
	return resp
}

// costLimit is gqlgen's ComplexityLimit over costSchema, with its refusal
// worded for clients and coded QUERY_TOO_COMPLEX. costs remembers the cost
// of each document, operation and variables priced, so a dashboard's
// repeated query is priced once, not on every request (5% of its CPU under load
// before: docs/benchmarks.md); nil: no memory.
type costLimit struct {
	*extension.ComplexityLimit
	costs graphql.Cache[int]
}

func (c costLimit) Validate(es graphql.ExecutableSchema) error {
	return c.ComplexityLimit.Validate(costSchema{es})
}

func (c costLimit) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	key, remember := costKey(opCtx)
	remember = remember && c.costs != nil
	if remember {
		if cost, ok := c.costs.Get(ctx, key); ok {
			limit := c.Func(ctx, opCtx)
			opCtx.Stats.SetExtension(c.ExtensionName(), &extension.ComplexityStats{Complexity: cost, ComplexityLimit: limit})
			if cost > limit {
				return tooComplex(cost, limit)
			}
			return nil
		}
	}
	err := c.ComplexityLimit.MutateOperationContext(ctx, opCtx)
	s, _ := opCtx.Stats.GetExtension(c.ExtensionName()).(*extension.ComplexityStats)
	if remember && s != nil {
		c.costs.Add(ctx, key, s.Complexity)
	}
	if err == nil {
		return nil
	}
	if s == nil {
		return refusal(codeTooComplex, nil, "the query costs more than the limit")
	}
	return tooComplex(s.Complexity, s.ComplexityLimit)
}

func tooComplex(cost, limit int) *gqlerror.Error {
	return refusal(codeTooComplex, nil, "the query costs %d, over the limit of %d: each field costs 1 and a connection costs first × what each of its items selects; ask for smaller pages or fewer fields", cost, limit)
}

// costKey is what an operation's cost depends on: its document, the
// operation chosen and the variables as coerced (encoding/json writes a
// map's keys in order, so equal variables give equal keys). remember is
// false without a cache or for a document too large to keep.
func costKey(opCtx *graphql.OperationContext) (key string, remember bool) {
	if len(opCtx.RawQuery) > maxRememberedQuery {
		return "", false
	}
	vars, err := json.Marshal(opCtx.Variables)
	if err != nil {
		return "", false
	}
	return opCtx.OperationName + "\x00" + string(vars) + "\x00" + opCtx.RawQuery, true
}

// costSchema is the executable schema with the cost model of the API: a
// field costs 1 plus what it selects, except a connection field (one that
// returns a *Connection), which costs its page size (first or last) times
// what it selects, at least 1, and a list field, which costs the most items
// it can hold (listBounds; nodes: as many as its ids) times what each
// selects, at least 1.
type costSchema struct{ graphql.ExecutableSchema }

func (s costSchema) Complexity(ctx context.Context, typeName, field string, childComplexity int, args map[string]any) (int, bool) {
	if t := s.Schema().Types[typeName]; t != nil {
		if n, _, given, ok := pageSize(t.Fields.ForName(field), args); ok {
			if !given || n < 1 {
				n = MaxPageSize // pageSizes refuses these first; never cheaper than the largest page
			}
			return mulSaturating(int(min(n, math.MaxInt32)), max(childComplexity, 1)), true
		}
	}
	if typeName == "Query" && field == "nodes" {
		// As many items as ids sent (at most tenant.MaxNodeIDs: more are refused).
		if ids, ok := args["ids"].([]any); ok && len(ids) <= tenant.MaxNodeIDs {
			return mulSaturating(max(len(ids), 1), max(childComplexity, 1)), true
		}
	}
	if n, ok := listBounds[typeName+"."+field]; ok {
		return mulSaturating(n, max(childComplexity, 1)), true
	}
	return s.ExecutableSchema.Complexity(ctx, typeName, field, childComplexity, args)
}

// listBounds is the most items each list field of the schema can return
// (connections aside: `first` bounds their pages), by "Type.field". Each is
// the constant its write path enforces (tenant's validators), or the size of
// the enum or catalog its items are distinct members of, so the cost of a
// query is its real upper bound. TestEveryListFieldBounded fails on a list
// field missing here: a list that grows with tenant data must have a
// maximum enforced on write, or be a connection.
var listBounds = map[string]int{
	"TenantSettings.ipAllowlist":  tenant.MaxAllowlistEntries, // NormalizeAllowlist
	"Member.permissions":          len(tenant.AllPermissions),
	"Viewer.sessions":             tenant.MaxSessionsPerMember,  // CreateSession ends the least recently used past it
	"NotificationChannels.emails": tenant.MaxNotificationEmails, // NormalizeEmails
	"NotificationChannels.events": len(tenant.AllNotificationEvents),
	"KeywordList.items":           tenant.MaxKeywords, // NormalizeKeywords
	"IndustryConfig.allowed":      tenant.MaxIndustryCodes,
	"IndustryConfig.blocked":      tenant.MaxIndustryCodes,
	"Query.industryCatalog":       max(len(tenant.IndustryCatalog), tenant.MaxIndustryChildren),
	"RiskMatrix.weights":          len(tenant.WebChecks), // each check at most once
	"WebsiteConfig.enabledChecks": len(tenant.WebChecks),
	"ApiKey.permissions":          len(tenant.AllPermissions), // de-duplicated on creation
	"Viewer.permissions":          len(tenant.AllPermissions),
	"Query.plans":                 tenant.MaxPlans,
	"Query.nodes":                 tenant.MaxNodeIDs, // as many as ids sent (costSchema)
	"AuditEntry.changes":          tenant.MaxAuditChanges,
	"Stats.trends":                tenant.MaxStatsBuckets,
	"Credits.grants":              tenant.MaxCreditGrants,
	"TokenReport.metricsByType":   tenant.MaxTokenTypes,
	"WebhookDelivery.attempts":    tenant.MaxDeliveryAttemptsShown, // the first 20, oldest first
	"Billing.billingAddress":      tenant.MaxAddressLines,          // BillingPatch.Normalize
	"InvoiceParty.address":        tenant.MaxAddressLines,          // billing address, or SELLER_ADDRESS (at most 6 lines too)
	"Invoice.lines":               tenant.MaxInvoiceLines,
	"InvoicePreview.lines":        tenant.MaxInvoiceLines,
}

func mulSaturating(a, b int) int {
	if a > 0 && b > math.MaxInt/a {
		return math.MaxInt
	}
	return a * b
}
