package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"tenantapi/httpapi/httpapitest"
)

// TestPartner builds the example and runs it, as its README says, against a
// real server: it records one event twice and sees it counted once, reads
// the quota the second recording left, and verifies the test webhook.
func TestPartner(t *testing.T) {
	srv := httpapitest.Start(t)
	bin := filepath.Join(t.TempDir(), "partner")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "TENANTAPI_URL="+strings.TrimSuffix(srv.URL, "/graphql"), "TENANTAPI_API_KEY="+srv.APIKey)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("partner: %v\n%s", err, out)
	}
	t.Logf("partner:\n%s", out)
	re := regexp.MustCompile(`^tenant ACME Corporation \(acme\.fr\), plan professional
recorded event (partner-example-\d+): accepted 1, duplicates 0; (\d+) interactions used this month
sent again event (partner-example-\d+): accepted 0, duplicates 1; (\d+) interactions used this month
quota for \d{4}-\d\d-01: (\d+) of \d+ interactions used, \d+ left, \d+ credits; usage accepted now: true
webhook: test delivery msg_[0-9a-f]{32} verified with the Standard Webhooks library \(answered HTTP 204\)
$`)
	m := re.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("output does not match %s", re)
	}
	if m[1] != m[3] || m[2] != m[4] || m[4] != m[5] {
		t.Errorf("the same event (%s, %s) must count once: used %s, then %s, quota %s", m[1], m[3], m[2], m[4], m[5])
	}

	t.Run("CertOut", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "sub", "partner.pem")
		if out, err := exec.Command(bin, "-cert-out", file).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		b, err := os.ReadFile(file)
		if err != nil || string(b) != string(httpapitest.TestCertificatePEM()) {
			t.Errorf("-cert-out wrote %q (%v), want the certificate the test server trusts", b, err)
		}
	})
	t.Run("ErrNoKey", func(t *testing.T) {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "TENANTAPI_URL="+strings.TrimSuffix(srv.URL, "/graphql"), "TENANTAPI_API_KEY=")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "TENANTAPI_API_KEY: set it to a tenant's API key") {
			t.Errorf("without a key: %v: %s", err, out)
		}
	})
}
