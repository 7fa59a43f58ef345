// Package httpapitest runs the real API for the tests of packages outside
// httpapi (the generated client's, the partner example's): the production
// handler, httpapi.New, over a real store on a fresh migrated PostgreSQL
// database (db/dbtest), with the demo tenant seeded as `make run` seeds it.
// httpapi's own tests build theirs in harness_test.go, with more knobs.
package httpapitest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"tenantapi/db"
	"tenantapi/db/dbtest"
	"tenantapi/egress"
	"tenantapi/httpapi"
	"tenantapi/keyring"
)

// AdminSecret is the ADMIN_SECRET of every server Start starts.
const AdminSecret = "httpapitest-admin-secret-0123456789abcdef"

// Server is a running API server.
type Server struct {
	// URL is the GraphQL endpoint, http://127.0.0.1:port/graphql.
	URL string
	// APIKey is the demo tenant's API key: every tenant permission.
	APIKey string
	// TenantID is the demo tenant's id.
	TenantID string
}

// Start starts a server for the test, stopped (and its database dropped)
// when the test ends. Its outbound client allows loopback addresses and
// trusts the certificate every httptest TLS server presents
// (TestCertificatePEM), in this process or another: a webhook receiver
// started with httptest.NewTLSServer receives its deliveries.
func Start(t testing.TB) *Server {
	t.Helper()
	store, err := db.Open(context.Background(), dbtest.NewURL(t), db.Options{MaxOpenConns: 10})
	if err != nil {
		t.Fatalf("httpapitest: open the database: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	ring, err := keyring.Parse(keyring.Generate("httpapitest"))
	if err != nil {
		t.Fatal(err)
	}
	store.Sealer = ring
	tenantID, key, err := store.SeedDemo(context.Background(), "")
	if err != nil {
		t.Fatalf("httpapitest: seed the demo tenant: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(TestCertificatePEM())
	eg := egress.New(egress.Options{AllowPrivate: true, Timeout: 5 * time.Second})
	eg.HTTP.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool}
	srv := httptest.NewServer(httpapi.New(store, httpapi.Config{
		AdminSecret: AdminSecret,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Egress:      eg,
	}))
	t.Cleanup(srv.Close)
	return &Server{URL: srv.URL + "/graphql", APIKey: key, TenantID: tenantID}
}

// TestCertificatePEM is the certificate (PEM) every httptest TLS server
// presents, for 127.0.0.1, ::1 and example.com.
func TestCertificatePEM() []byte {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}
