package tenant

import (
	"io"
	"strings"
)

// Permission is a scope an API key can hold, in its string form
// ("tenant:read"). The GraphQL enum Permission maps onto these values.
type Permission string

// The permissions of the API. The first group comes from the reference
// documents; the second from capabilities the API adds (SSO, API keys,
// audit log, usage ingestion, members).
const (
	PermTenantManage               Permission = "tenant:manage"
	PermTenantRead                 Permission = "tenant:read"
	PermTenantUpdate               Permission = "tenant:update"
	PermTenantDelete               Permission = "tenant:delete"
	PermNotificationChannelsRead   Permission = "notification-channels:read"
	PermNotificationChannelsUpdate Permission = "notification-channels:update"
	PermKeywordsRead               Permission = "keywords:read"
	PermKeywordsUpdate             Permission = "keywords:update"
	PermIndustriesRead             Permission = "industries:read"
	PermIndustriesUpdate           Permission = "industries:update"
	PermRiskMatrixRead             Permission = "risk-matrix:read"
	PermRiskMatrixUpdate           Permission = "risk-matrix:update"
	PermWebsiteConfigRead          Permission = "website-config:read"
	PermWebsiteConfigUpdate        Permission = "website-config:update"
	PermBillingRead                Permission = "billing:read"
	PermBillingUpdate              Permission = "billing:update"
	PermReportRead                 Permission = "report:read"

	PermSSORead      Permission = "sso:read"
	PermSSOUpdate    Permission = "sso:update"
	PermAPIKeysRead  Permission = "api-keys:read"
	PermAPIKeysWrite Permission = "api-keys:write"
	PermAuditRead    Permission = "audit:read"
	PermEventsRead   Permission = "events:read"
	PermUsageWrite   Permission = "usage:write"
	PermMembersRead  Permission = "members:read"
	PermMembersWrite Permission = "members:write"
)

// AllPermissions lists every permission, in the order the schema shows them.
var AllPermissions = []Permission{
	PermTenantManage, PermTenantRead, PermTenantUpdate, PermTenantDelete,
	PermNotificationChannelsRead, PermNotificationChannelsUpdate,
	PermKeywordsRead, PermKeywordsUpdate,
	PermIndustriesRead, PermIndustriesUpdate,
	PermRiskMatrixRead, PermRiskMatrixUpdate,
	PermWebsiteConfigRead, PermWebsiteConfigUpdate,
	PermBillingRead, PermBillingUpdate,
	PermReportRead,
	PermSSORead, PermSSOUpdate,
	PermAPIKeysRead, PermAPIKeysWrite,
	PermAuditRead, PermEventsRead, PermUsageWrite,
	PermMembersRead, PermMembersWrite,
}

// TenantPermissions is every permission except tenant:manage: what a
// tenant's own administrator holds (the demo key has these).
func TenantPermissions() []Permission {
	out := make([]Permission, 0, len(AllPermissions)-1)
	for _, p := range AllPermissions {
		if p != PermTenantManage {
			out = append(out, p)
		}
	}
	return out
}

var permissionSet = func() map[Permission]bool {
	m := make(map[Permission]bool, len(AllPermissions))
	for _, p := range AllPermissions {
		m[p] = true
	}
	return m
}()

// Valid reports whether p is a known permission.
func (p Permission) Valid() bool { return permissionSet[p] }

// EnumName is the GraphQL enum value of p: "risk-matrix:read" -> "RISK_MATRIX_READ".
func (p Permission) EnumName() string {
	if name, ok := permissionToEnum[p]; ok {
		return name
	}
	return strings.ToUpper(enumReplacer.Replace(string(p)))
}

var enumReplacer = strings.NewReplacer(":", "_", "-", "_")

var permissionToEnum = func() map[Permission]string {
	m := make(map[Permission]string, len(AllPermissions))
	for _, p := range AllPermissions {
		m[p] = strings.ToUpper(enumReplacer.Replace(string(p)))
	}
	return m
}()

// PermissionFromEnum is the inverse of EnumName.
func PermissionFromEnum(name string) (Permission, bool) {
	p, ok := enumToPermission[name]
	return p, ok
}

var enumToPermission = func() map[string]Permission {
	m := make(map[string]Permission, len(AllPermissions))
	for _, p := range AllPermissions {
		m[p.EnumName()] = p
	}
	return m
}()

// UnmarshalGQL lets gqlgen decode the GraphQL enum value (TENANT_READ).
func (p *Permission) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return Invalid("permissions", "permission must be an enum value such as TENANT_READ")
	}
	perm, ok := PermissionFromEnum(s)
	if !ok {
		return Invalid("permissions", "%q is not a permission", s)
	}
	*p = perm
	return nil
}

// MarshalGQL writes p as its GraphQL enum value.
func (p Permission) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, `"`+p.EnumName()+`"`)
}
