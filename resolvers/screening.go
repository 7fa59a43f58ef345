package resolvers

import (
	"tenantapi/graph"
	"tenantapi/tenant"
)

// validateOnly reads an optional validateOnly argument (default false).
func validateOnly(b *bool) bool { return b != nil && *b }

// riskWeightInputs turns the GraphQL weights into the domain's.
func riskWeightInputs(ws []*graph.RiskWeightInput) []tenant.RiskWeightInput {
	out := make([]tenant.RiskWeightInput, len(ws))
	for i, w := range ws {
		out[i] = tenant.RiskWeightInput{Check: w.Check, Weight: w.Weight}
	}
	return out
}
