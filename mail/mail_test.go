package mail_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"tenantapi/mail"
)

const from = "Tenant API <noreply@tenantapi.test>"

func notice(name string) *mail.Notice {
	return &mail.Notice{TenantID: "11111111-1111-1111-1111-111111111111", TenantName: name,
		EventID: "0190a0b0-0000-7000-8000-000000000001", EventType: "invoice.issued", OccurredAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
		Payload: json.RawMessage(`{"id": "inv_1", "number": "INV-0001", "total": 4900, "lines": [1, 2]}`), BaseURL: "https://api.example.com"}
}

// TestFileSink: with no SMTP server, each message is written as
// <event id>-<n>.eml in the directory, a readable message with both parts,
// and the result says where.
func TestFileSink(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	s, err := mail.New("", from, dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Where() != "files in "+dir {
		t.Errorf("Where = %q", s.Where())
	}
	n := notice("Acme")
	for i, to := range []string{"a@acme.test", "b@acme.test"} {
		res, err := s.Send(context.Background(), to, n)
		if err != nil || !res.Delivered {
			t.Fatalf("Send = %+v, %v", res, err)
		}
		want := filepath.Join(dir, n.EventID+"-"+string(rune('1'+i))+".eml")
		if res.Path != want || res.Reply != "written to "+want {
			t.Errorf("result = %+v, want the path %s", res, want)
		}
		b, err := os.ReadFile(want)
		if err != nil {
			t.Fatal(err)
		}
		m, err := netmail.ReadMessage(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get("To") != to || m.Header.Get("Subject") != "[Acme] Invoice issued" || m.Header.Get("X-Event-Id") != n.EventID {
			t.Errorf("headers = %v", m.Header)
		}
		body, _ := io.ReadAll(m.Body)
		for _, want := range []string{"text/plain; charset=utf-8", "text/html; charset=utf-8", "number: INV-0001", "https://api.example.com/invoices/inv_1.pdf"} {
			if !bytes.Contains(body, []byte(want)) {
				t.Errorf("the message lacks %q:\n%s", want, b)
			}
		}
	}
}

// TestHeaderInjection: a tenant name with line breaks stays inside an
// encoded Subject; no header is added.
func TestHeaderInjection(t *testing.T) {
	msg, err := mail.Compose(&netmail.Address{Address: "noreply@x.test"}, "a@x.test", notice("Evil\r\nBcc: victim@x.test"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	m, err := netmail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Bcc") != "" || !strings.HasPrefix(m.Header.Get("Subject"), "=?utf-8?q?") {
		t.Errorf("headers = %v", m.Header)
	}
}

// TestParseServer: SMTP_URL's schemes, and errors that never show the
// password.
func TestParseServer(t *testing.T) {
	for _, ok := range []string{"smtp://u:p@mail.example.com:587", "smtps://mail.example.com", "smtp+insecure://127.0.0.1:1025"} {
		if _, err := mail.ParseServer(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://u:hunter2@mail.example.com", "smtp://u:hunter2@", "smtp+insecure://u:hunter2@127.0.0.1", "smtp://u:hunter2@host/path?x=1"} {
		_, err := mail.ParseServer(bad)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// plainServer records what the SMTP server started by serve accepts.
type plainServer struct {
	mu  sync.Mutex
	got [][]byte
}

type sess struct{ s *plainServer }

func (c *sess) Mail(string, *smtp.MailOptions) error { return nil }
func (c *sess) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (c *sess) Reset()                               {}
func (c *sess) Logout() error                        { return nil }
func (c *sess) Data(r io.Reader) error {
	b, _ := io.ReadAll(r)
	c.s.mu.Lock()
	c.s.got = append(c.s.got, b)
	c.s.mu.Unlock()
	return nil
}

// serve starts an SMTP server on loopback with httptest's certificate:
// offering STARTTLS, or TLS from the first byte (implicit), or neither.
func serve(t *testing.T, starttls, implicit bool) (*plainServer, string, *x509.CertPool) {
	t.Helper()
	cert := httptest.NewUnstartedServer(http.NotFoundHandler())
	cert.StartTLS()
	cert.Close()
	pool := x509.NewCertPool()
	pool.AddCert(cert.Certificate())
	ps := &plainServer{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sess{ps}, nil }))
	srv.Domain = "127.0.0.1"
	if starttls {
		srv.TLSConfig = &tls.Config{Certificates: cert.TLS.Certificates}
	}
	var ln net.Listener
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if implicit {
		ln = tls.NewListener(ln, &tls.Config{Certificates: cert.TLS.Certificates})
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ps, ln.Addr().String(), pool
}

// TestSTARTTLSRequired: smtp:// to a server without STARTTLS sends
// nothing, not even the password, and says why.
func TestSTARTTLSRequired(t *testing.T) {
	ps, addr, _ := serve(t, false, false)
	s, err := mail.New("smtp://user:hunter2@"+addr, from, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Send(context.Background(), "a@x.test", notice("Acme"))
	if err != nil || res.Delivered || !strings.Contains(res.Error, "STARTTLS") || strings.Contains(res.Error, "hunter2") {
		t.Fatalf("Send = %+v, %v", res, err)
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if len(ps.got) != 0 {
		t.Error("a message was sent in clear")
	}
}

// TestImplicitTLS: smtps:// speaks TLS from the first byte; an untrusted
// certificate fails the attempt with a readable error.
func TestImplicitTLS(t *testing.T) {
	ps, addr, pool := serve(t, false, true)
	s, err := mail.New("smtps://"+addr, from, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := s.Send(ctx, "a@x.test", notice("Acme"))
	if err != nil || res.Delivered || !strings.Contains(res.Error, "certificate") {
		t.Fatalf("untrusted: Send = %+v, %v", res, err)
	}
	s.TLS = &tls.Config{RootCAs: pool}
	res, err = s.Send(ctx, "a@x.test", notice("Acme"))
	if err != nil || !res.Delivered || !strings.HasPrefix(res.Reply, "250") {
		t.Fatalf("trusted: Send = %+v, %v", res, err)
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if len(ps.got) != 1 || !bytes.Contains(ps.got[0], []byte("Subject: [Acme] Invoice issued")) {
		t.Errorf("the server got %d messages", len(ps.got))
	}
}
