package tenant

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Environment is the kind of deployment a tenant serves. An organization
// may run one tenant per environment (reference 004: development, QA,
// production) under one domain: (domain, environment) is unique. Chosen at
// creation and fixed afterwards, like the data residency: a development
// tenant's data never becomes production data by a flip; create a tenant
// in the other environment instead.
type Environment string

// Environments, in the order lists show them (Environments).
const (
	EnvDevelopment Environment = "DEVELOPMENT"
	EnvQA          Environment = "QA"
	EnvProduction  Environment = "PRODUCTION"
)

// DefaultEnvironment is a tenant's environment when createTenant gives
// none, that of the tenants created before environments existed, and the
// one a sign-in by domain means when it names none.
const DefaultEnvironment = EnvProduction

// Environments is every environment, in the schema's order.
var Environments = []Environment{EnvDevelopment, EnvQA, EnvProduction}

// Valid reports whether e is one of Environments.
func (e Environment) Valid() bool {
	switch e {
	case EnvDevelopment, EnvQA, EnvProduction:
		return true
	}
	return false
}

// ParseEnvironment reads an environment given as text (a query parameter),
// case-insensitively; "" is DefaultEnvironment.
// Codes: EINVALID (naming field).
func ParseEnvironment(field, s string) (Environment, error) {
	if s = strings.TrimSpace(s); s == "" {
		return DefaultEnvironment, nil
	}
	if e := Environment(strings.ToUpper(s)); e.Valid() {
		return e, nil
	}
	return "", invalidEnvironment(field, s)
}

func invalidEnvironment(field string, got any) error {
	return Invalid(field, "%s must be DEVELOPMENT, QA or PRODUCTION, got %q", field, clip(fmt.Sprint(got)))
}

// UnmarshalGQL decodes the GraphQL enum TenantEnvironment.
func (e *Environment) UnmarshalGQL(v any) error {
	str, _ := v.(string)
	if Environment(str).Valid() {
		*e = Environment(str)
		return nil
	}
	return invalidEnvironment("environment", str)
}

// MarshalGQL encodes the GraphQL enum TenantEnvironment.
func (e Environment) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(e))) }
