package httpapi_test

import (
	"testing"
)

// TestDoneWhen walks the acceptance path: the operator creates a
// tenant and a key, and that key's `me` is the new tenant.
func TestDoneWhen(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("Initech", "initech.com")
	key := e.createKey(id, "TENANT_READ", "API_KEYS_READ")
	var out struct {
		Me struct {
			ID     string
			Name   string
			Plan   struct{ Name string }
			Limits struct {
				Users                *int
				APIRequestsPerMinute int `json:"apiRequestsPerMinute"`
			}
			Usage struct{ ActiveUsers int }
		}
	}
	e.mustGQL(key, `{ me { id name plan { name } limits { users apiRequestsPerMinute } usage { activeUsers } } }`, nil, &out)
	if out.Me.ID != id || out.Me.Name != "Initech" || out.Me.Plan.Name != "Professional" ||
		out.Me.Limits.Users == nil || *out.Me.Limits.Users != 50 || out.Me.Limits.APIRequestsPerMinute != 1000 || out.Me.Usage.ActiveUsers != 0 {
		t.Fatalf("me = %+v", out.Me)
	}
}
