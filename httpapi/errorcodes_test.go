package httpapi_test

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"sync"
	"testing"

	"tenantapi/graph"
)

// answered collects every extensions.code the server answered the tests
// with (through env.do, which every GraphQL request of the harness takes),
// and which test first saw each.
var answered = &codeSet{seen: map[string]string{}}

type codeSet struct {
	mu   sync.Mutex
	seen map[string]string // code → first test
}

func (c *codeSet) note(test string, errs []gqlError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range errs {
		if code, ok := e.Extensions["code"].(string); ok {
			if _, dup := c.seen[code]; !dup {
				c.seen[code] = test
			}
		}
	}
}

// TestMain runs the package's tests, then fails the run when the server
// answered a code the schema's ErrorCode enum (schema/errors.graphqls, the
// reference clients switch on) does not list.
func TestMain(m *testing.M) {
	code := m.Run()
	var unknown []string
	for c, test := range answered.seen {
		if !slices.Contains(graph.AllErrorCode, graph.ErrorCode(c)) {
			unknown = append(unknown, fmt.Sprintf("%s (first in %s)", c, test))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		fmt.Fprintf(os.Stderr, "FAIL: the server answered codes the ErrorCode enum lacks (add them to schema/errors.graphqls and docs/errors.md): %v\n", unknown)
		code = 1
	}
	os.Exit(code)
}
