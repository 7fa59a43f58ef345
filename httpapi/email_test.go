package httpapi_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"tenantapi/db"
	"tenantapi/delivery"
	"tenantapi/egress"
	"tenantapi/mail"
)

// This file checks email delivery end to end: events written by real
// mutations, fanned out to the channels' addresses by the delivery worker,
// sent over SMTP with STARTTLS and a password to a real SMTP server started
// here (emersion/go-smtp), and the delivery log; then the disabling of a
// failing webhook endpoint, with the store's clock moved instead of waiting.

const (
	smtpUser = "mailer"
	smtpPass = "s3cret-smtp-password"
	mailFrom = "Tenant API <noreply@tenantapi.test>"
)

// received is one message the SMTP server accepted.
type received struct {
	From string
	To   []string
	Data []byte
}

// smtpServer is an SMTP server on loopback that requires STARTTLS before
// AUTH PLAIN (smtpUser/smtpPass) and records what it accepts; answer(n)
// says how to answer the n-th DATA (from 0): nil accepts.
type smtpServer struct {
	addr   string
	pool   *x509.CertPool
	answer func(n int) error
	mu     sync.Mutex
	got    []received
	datas  int
	authed atomic.Int32
}

func newSMTPServer(t *testing.T, answer func(n int) error) *smtpServer {
	t.Helper()
	// httptest's certificate, valid for 127.0.0.1, serves as the test
	// certificate: the client trusts it through Sender.TLS.
	cert := httptest.NewUnstartedServer(http.NotFoundHandler())
	cert.StartTLS()
	cert.Close()
	s := &smtpServer{answer: answer, pool: x509.NewCertPool()}
	s.pool.AddCert(cert.Certificate())
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &smtpSession{srv: s}, nil }))
	srv.Domain = "127.0.0.1"
	srv.TLSConfig = &tls.Config{Certificates: cert.TLS.Certificates}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

func (s *smtpServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

// sender returns a mail.Sender through s with STARTTLS and the password,
// trusting s's certificate.
func (s *smtpServer) sender(t *testing.T) *mail.Sender {
	t.Helper()
	m, err := mail.New("smtp://"+smtpUser+":"+smtpPass+"@"+s.addr, mailFrom, "")
	if err != nil {
		t.Fatal(err)
	}
	m.TLS = &tls.Config{RootCAs: s.pool}
	return m
}

type smtpSession struct {
	srv  *smtpServer
	auth bool
	msg  received
}

func (c *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (c *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != smtpUser || pass != smtpPass {
			return errors.New("invalid credentials")
		}
		c.auth = true
		c.srv.authed.Add(1)
		return nil
	}), nil
}

func (c *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if !c.auth {
		return &smtp.SMTPError{Code: 530, Message: "authentication required"}
	}
	c.msg.From = from
	return nil
}

func (c *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	c.msg.To = append(c.msg.To, to)
	return nil
}

func (c *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	c.srv.mu.Lock()
	defer c.srv.mu.Unlock()
	n := c.srv.datas
	c.srv.datas++
	if c.srv.answer != nil {
		if err := c.srv.answer(n); err != nil {
			return err
		}
	}
	c.msg.Data = b
	c.srv.got = append(c.srv.got, c.msg)
	return nil
}

func (c *smtpSession) Reset()        { c.msg = received{} }
func (c *smtpSession) Logout() error { return nil }

// parsedMail is a received message taken apart.
type parsedMail struct {
	Header     netmail.Header
	Subject    string
	Text, HTML string
}

func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a mail message: %v\n%s", err, data)
	}
	out := parsedMail{Header: m.Header}
	if out.Subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q, want multipart/alternative", m.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		switch ct := p.Header.Get("Content-Type"); {
		case strings.HasPrefix(ct, "text/plain"):
			out.Text = string(b)
		case strings.HasPrefix(ct, "text/html"):
			out.HTML = string(b)
		}
	}
	if out.Text == "" || out.HTML == "" {
		t.Fatalf("want a text and an HTML part:\n%s", data)
	}
	return out
}

// startMailWorker runs a delivery worker over store that sends email with m.
func startMailWorker(t *testing.T, store *db.Store, m *mail.Sender, cfg delivery.Config) {
	t.Helper()
	cfg.Mail = m
	startWorker(t, store, egress.New(egress.Options{AllowPrivate: true, Timeout: 5 * time.Second}), cfg)
}

// setChannels sets tenantID's channels as the admin.
func setChannels(e *env, tenantID string, in map[string]any) {
	e.t.Helper()
	in["tenantId"] = tenantID
	e.mustGQL(testAdminSecret, qNotifUpdate, map[string]any{"in": in}, nil)
}

// mailDeliveries reads tenantID's EMAIL deliveries.
func mailDeliveries(e *env, tenantID string) []deliveryOut {
	e.t.Helper()
	var out struct {
		Tenant struct{ WebhookDeliveries struct{ Nodes []deliveryOut } }
	}
	e.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { webhookDeliveries(first: 100, filter: {channel: EMAIL}) { nodes { channel `+deliveryFields+` } } } }`,
		map[string]any{"id": tenantID}, &out)
	return out.Tenant.WebhookDeliveries.Nodes
}

// TestEmailSubscribedEvent: a changePlan of a tenant subscribed to
// SUBSCRIPTION_CHANGED sends one message to each of its addresses, and only
// to them, over STARTTLS with the password: From MAIL_FROM, Subject naming
// the tenant and the event, a text and an HTML part (the tenant's name
// escaped in HTML), the event id in X-Event-Id. The unsubscribed events of
// the same tenant (tenant.created, notification_channels.updated) send
// none; another tenant's event never reaches these addresses; the log
// lists one EMAIL delivery per address, SUCCEEDED.
func TestEmailSubscribedEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := newSMTPServer(t, nil)
	a := e.createTenant("Acme <Mail> & Co", randomDomain())
	b := e.createTenant("Other Co", randomDomain())
	setChannels(e, a, map[string]any{"emails": []string{"ops@acme.test", "billing@acme.test"}, "events": []string{"SUBSCRIPTION_CHANGED"}})
	setChannels(e, b, map[string]any{"emails": []string{"ops@other.test"}, "events": []string{"SUBSCRIPTION_CHANGED"}})
	startMailWorker(t, e.store, srv.sender(t), delivery.Config{})

	changePlanTo(e, a, "enterprise")
	waitFor(t, "two messages", func() bool { return len(srv.messages()) >= 2 })
	time.Sleep(200 * time.Millisecond) // ten polls: nothing else may arrive
	got := srv.messages()
	if len(got) != 2 {
		t.Fatalf("the SMTP server got %d messages, want 2 (one per address of the subscribed event)", len(got))
	}
	evs := eventIDs(e, a, "SUBSCRIPTION_CHANGED")
	if len(evs) != 1 {
		t.Fatalf("events = %v", evs)
	}
	rcpts := map[string]bool{}
	for _, g := range got {
		if len(g.To) != 1 || g.From != "noreply@tenantapi.test" {
			t.Fatalf("envelope from %s to %v, want one recipient from noreply@tenantapi.test", g.From, g.To)
		}
		rcpts[g.To[0]] = true
		m := parseMail(t, g.Data)
		if m.Header.Get("To") != g.To[0] || m.Header.Get("From") != `"Tenant API" <noreply@tenantapi.test>` {
			t.Errorf("To %q From %q", m.Header.Get("To"), m.Header.Get("From"))
		}
		if m.Subject != "[Acme <Mail> & Co] Subscription changed" {
			t.Errorf("Subject = %q", m.Subject)
		}
		if m.Header.Get("X-Event-Id") != evs[0] || m.Header.Get("X-Event-Type") != "subscription.changed" ||
			!strings.HasPrefix(m.Header.Get("Message-ID"), "<"+evs[0]+".") || m.Header.Get("Date") == "" {
			t.Errorf("headers = %v", m.Header)
		}
		for _, want := range []string{"Subscription changed for Acme <Mail> & Co.", "Event id:  " + evs[0], "planId: enterprise", g.To[0]} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("text part lacks %q:\n%s", want, m.Text)
			}
		}
		if !strings.Contains(m.HTML, "Acme &lt;Mail&gt; &amp; Co") || strings.Contains(m.HTML, "<Mail>") || !strings.Contains(m.HTML, "enterprise") {
			t.Errorf("HTML part does not escape the tenant's name or lacks the plan:\n%s", m.HTML)
		}
	}
	if !rcpts["ops@acme.test"] || !rcpts["billing@acme.test"] {
		t.Errorf("recipients = %v", rcpts)
	}
	if srv.authed.Load() == 0 {
		t.Error("the client never authenticated")
	}

	log := mailDeliveries(e, a)
	if len(log) != 2 {
		t.Fatalf("EMAIL deliveries = %+v, want 2", log)
	}
	for _, d := range log {
		if d.EventID != evs[0] || d.Status != "SUCCEEDED" || d.AttemptCount != 1 || !strings.HasPrefix(d.URL, "mailto:") || len(d.Attempts) != 1 {
			t.Errorf("delivery = %+v", d)
		}
		if at := d.Attempts[0]; at.HTTPStatus != nil || at.Error != nil || at.ResponseBody == nil || !strings.HasPrefix(*at.ResponseBody, "250") {
			t.Errorf("attempt = %+v", at)
		}
	}
	if web := deliveries(e, testAdminSecret, a); len(web) != 2 {
		t.Errorf("the unfiltered log has %d deliveries, want the 2 emails", len(web))
	}

	// The other tenant's event reaches its own address only.
	changePlanTo(e, b, "enterprise")
	waitFor(t, "the other tenant's message", func() bool { return len(srv.messages()) >= 3 })
	time.Sleep(200 * time.Millisecond)
	got = srv.messages()
	if len(got) != 3 || len(got[2].To) != 1 || got[2].To[0] != "ops@other.test" {
		t.Fatalf("after the other tenant's change: %d messages, the last to %v", len(got), got[len(got)-1].To)
	}
	if m := parseMail(t, got[2].Data); !strings.Contains(m.Subject, "Other Co") || strings.Contains(m.Text, "Acme") {
		t.Errorf("the other tenant's message: %q\n%s", m.Subject, m.Text)
	}
	if n := len(mailDeliveries(e, a)); n != 2 {
		t.Errorf("tenant A's log has %d EMAIL deliveries after B's event, want 2", n)
	}
}

// TestEmailRetried: an SMTP server answering 451 to the first message then
// accepting it gives one delivery with two attempts: the first failed with
// the server's answer (no HTTP status), the second SUCCEEDED.
func TestEmailRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := newSMTPServer(t, func(n int) error {
		if n == 0 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
		return nil
	})
	id := e.createTenant("Retry Co", randomDomain())
	setChannels(e, id, map[string]any{"emails": []string{"ops@retry.test"}, "events": []string{"SUBSCRIPTION_CHANGED"}})
	startMailWorker(t, e.store, srv.sender(t), delivery.Config{})
	changePlanTo(e, id, "enterprise")
	waitFor(t, "the delivery to succeed", func() bool { d := mailDeliveries(e, id); return len(d) == 1 && d[0].Status == "SUCCEEDED" })
	d := mailDeliveries(e, id)[0]
	if d.AttemptCount != 2 || len(d.Attempts) != 2 || d.URL != "mailto:ops@retry.test" {
		t.Fatalf("delivery = %+v, want two attempts", d)
	}
	first := d.Attempts[0]
	if first.HTTPStatus != nil || first.Error == nil || !strings.Contains(*first.Error, "451") || !strings.Contains(*first.Error, "try again later") {
		t.Errorf("first attempt = %+v, want the server's 451", first)
	}
	if strings.Contains(*first.Error, smtpPass) {
		t.Error("the attempt's error shows the SMTP password")
	}
	if second := d.Attempts[1]; second.Error != nil {
		t.Errorf("second attempt = %+v", second)
	}
	if n := len(srv.messages()); n != 1 {
		t.Errorf("the server accepted %d messages, want 1", n)
	}
}

// offsetClock is a store clock tests move forward instead of waiting.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) Advance(d time.Duration) { c.off.Add(int64(d)) }
func (c *offsetClock) envOptions() envOptions  { return envOptions{now: c.Now} }
func newClockEnv(t *testing.T) (*env, *offsetClock) {
	c := &offsetClock{}
	return buildEnv(t, c.envOptions()), c
}

const qEnableWebhook = `mutation($in: EnableWebhookEndpointInput!) { enableWebhookEndpoint(input: $in) { notificationChannels { webhookUrl webhookDisabledAt webhookDisabledReason version } tenant { id } } }`

type channelsState struct {
	WebhookURL            *string
	WebhookDisabledAt     *time.Time
	WebhookDisabledReason *string
	Version               int
}

func channelsOf(e *env, tenantID string) channelsState {
	e.t.Helper()
	var out struct {
		Tenant struct{ NotificationChannels channelsState }
	}
	e.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { notificationChannels { webhookUrl webhookDisabledAt webhookDisabledReason version } } }`,
		map[string]any{"id": tenantID}, &out)
	return out.Tenant.NotificationChannels
}

// webhookLog reads tenantID's WEBHOOK deliveries, newest first (the
// unfiltered log mixes in the emails, in any order within one event).
func webhookLog(e *env, tenantID string) []deliveryOut {
	e.t.Helper()
	var out struct {
		Tenant struct{ WebhookDeliveries struct{ Nodes []deliveryOut } }
	}
	e.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { webhookDeliveries(first: 100, filter: {channel: WEBHOOK}) { nodes { `+deliveryFields+` } } } }`,
		map[string]any{"id": tenantID}, &out)
	return out.Tenant.WebhookDeliveries.Nodes
}

// webhookDeliveryCount counts tenantID's WEBHOOK deliveries.
func webhookDeliveryCount(e *env, tenantID string) int {
	e.t.Helper()
	var out struct {
		Tenant struct {
			WebhookDeliveries struct{ Nodes []struct{ Channel string } }
		}
	}
	e.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { webhookDeliveries(first: 100, filter: {channel: WEBHOOK}) { nodes { channel } } } }`,
		map[string]any{"id": tenantID}, &out)
	for _, n := range out.Tenant.WebhookDeliveries.Nodes {
		if n.Channel != "WEBHOOK" {
			e.t.Fatalf("filter channel WEBHOOK returned a %s delivery", n.Channel)
		}
	}
	return len(out.Tenant.WebhookDeliveries.Nodes)
}

// TestWebhookEndpointDisabled: an endpoint that fails every attempt is not
// disabled before WEBHOOK_DISABLE_AFTER (here 1 hour of the store's clock);
// its first failure after that disables it: webhookDisabledAt and the
// reason are set, the event webhook_endpoint.disabled is written by the
// system, a message says so to the tenant's address although it subscribes
// to no such type, later events make no webhook delivery and
// redeliverEvent is refused. enableWebhookEndpoint enables it (event
// webhook_endpoint.enabled) and deliveries resume; a new webhookUrl
// enables it too.
func TestWebhookEndpointDisabled(t *testing.T) {
	t.Parallel()
	e, clk := newClockEnv(t)
	srv := newSMTPServer(t, nil)
	var healthy atomic.Bool
	rcv := newScriptedReceiver(t, func(string, int) int {
		if healthy.Load() {
			return http.StatusOK
		}
		return http.StatusServiceUnavailable
	})
	id := e.createTenant("Failing Co", randomDomain())
	subscribe(e, id, rcv.URL(id), "SUBSCRIPTION_CHANGED")
	setChannels(e, id, map[string]any{"emails": []string{"ops@failing.test"}})
	startWorker(t, e.store, trustingEgress(rcv.srv), delivery.Config{Mail: srv.sender(t), DisableAfter: time.Hour})

	changePlanTo(e, id, "enterprise")
	waitFor(t, "the first delivery to fail", func() bool {
		d := webhookLog(e, id)
		return len(d) >= 1 && d[0].Status == "FAILED"
	})
	if c := channelsOf(e, id); c.WebhookDisabledAt != nil {
		t.Fatalf("disabled after minutes of failures: %+v", c)
	}

	clk.Advance(2 * time.Hour)
	changePlanTo(e, id, "starter")
	waitFor(t, "the endpoint to be disabled", func() bool { return channelsOf(e, id).WebhookDisabledAt != nil })
	c := channelsOf(e, id)
	if c.WebhookDisabledReason == nil || !strings.Contains(*c.WebhookDisabledReason, "HTTP 503") || !strings.Contains(*c.WebhookDisabledReason, "every attempt since") {
		t.Errorf("reason = %v", c.WebhookDisabledReason)
	}
	var ev struct {
		Tenant struct {
			Events struct {
				Nodes []struct{ ID, Actor, Payload string }
			}
		}
	}
	e.mustGQL(testAdminSecret, `query($id: ID!) { tenant(id: $id) { events(first: 5, filter: {types: [WEBHOOK_ENDPOINT_DISABLED]}) { nodes { id actor payload } } } }`, map[string]any{"id": id}, &ev)
	if n := ev.Tenant.Events.Nodes; len(n) != 1 || n[0].Actor != "system" || !strings.Contains(n[0].Payload, `"webhookDisabledAt"`) || strings.Contains(n[0].Payload, "Sealed") {
		t.Fatalf("webhook_endpoint.disabled events = %+v", n)
	}
	disabledID := ev.Tenant.Events.Nodes[0].ID
	waitFor(t, "the disabled notice", func() bool {
		for _, m := range srv.messages() {
			if strings.Contains(string(m.Data), "X-Event-Id: "+disabledID) {
				return true
			}
		}
		return false
	})
	for _, m := range srv.messages() {
		if !strings.Contains(string(m.Data), "X-Event-Id: "+disabledID) {
			continue
		}
		p := parseMail(t, m.Data)
		if m.To[0] != "ops@failing.test" || p.Subject != "[Failing Co] Webhook endpoint disabled" ||
			!strings.Contains(p.Text, rcv.URL(id)) || !strings.Contains(p.Text, "enableWebhookEndpoint") || !strings.Contains(p.HTML, "enableWebhookEndpoint") {
			t.Errorf("disabled notice to %v: %q\n%s", m.To, p.Subject, p.Text)
		}
	}
	waitFor(t, "every webhook delivery to end", func() bool {
		for _, d := range deliveries(e, testAdminSecret, id) {
			if d.Status == "PENDING" {
				return false
			}
		}
		return true
	})

	// Disabled: no new webhook delivery, and no redelivery.
	before := webhookDeliveryCount(e, id)
	changePlanTo(e, id, "professional")
	time.Sleep(200 * time.Millisecond)
	if n := webhookDeliveryCount(e, id); n != before {
		t.Errorf("a disabled endpoint got %d new deliveries", n-before)
	}
	evs := eventIDs(e, id, "SUBSCRIPTION_CHANGED")
	r := e.gql(testAdminSecret, qRedeliver, map[string]any{"in": map[string]any{"tenantId": id, "eventId": evs[0]}})
	if r.Code() != "BAD_USER_INPUT" || !strings.Contains(string(r.Raw), "enableWebhookEndpoint") {
		t.Errorf("redeliverEvent to a disabled endpoint: %s", r.Raw)
	}

	// Enabled again: an event, and deliveries resume.
	healthy.Store(true)
	var out struct {
		EnableWebhookEndpoint struct{ NotificationChannels channelsState }
	}
	e.mustGQL(testAdminSecret, qEnableWebhook, map[string]any{"in": map[string]any{"tenantId": id}}, &out)
	if got := out.EnableWebhookEndpoint.NotificationChannels; got.WebhookDisabledAt != nil || got.WebhookDisabledReason != nil || got.Version != c.Version+1 {
		t.Errorf("after enableWebhookEndpoint: %+v (was version %d)", got, c.Version)
	}
	if ids := eventIDs(e, id, "WEBHOOK_ENDPOINT_ENABLED"); len(ids) != 1 {
		t.Errorf("webhook_endpoint.enabled events = %v", ids)
	}
	e.mustGQL(testAdminSecret, qEnableWebhook, map[string]any{"in": map[string]any{"tenantId": id}}, &out)
	if ids := eventIDs(e, id, "WEBHOOK_ENDPOINT_ENABLED"); len(ids) != 1 || out.EnableWebhookEndpoint.NotificationChannels.Version != c.Version+1 {
		t.Errorf("enabling an enabled endpoint wrote an event or a version: %v", ids)
	}
	n := len(rcv.received(id))
	changePlanTo(e, id, "enterprise")
	waitFor(t, "a delivery after enabling", func() bool { return len(rcv.received(id)) > n })

	// A new webhookUrl enables a disabled endpoint too.
	healthy.Store(false)
	changePlanTo(e, id, "starter")
	waitFor(t, "a failure", func() bool {
		d := webhookLog(e, id)
		return len(d) > 0 && d[0].Status == "FAILED"
	})
	clk.Advance(2 * time.Hour)
	changePlanTo(e, id, "professional")
	waitFor(t, "the endpoint to be disabled again", func() bool { return channelsOf(e, id).WebhookDisabledAt != nil })
	setChannels(e, id, map[string]any{"webhookUrl": rcv.URL(id) + "/v2"})
	if c := channelsOf(e, id); c.WebhookDisabledAt != nil || c.WebhookDisabledReason != nil {
		t.Errorf("a new webhookUrl left the endpoint disabled: %+v", c)
	}
}

// TestEnableWebhookEndpointInput: without a webhookUrl the mutation answers
// BAD_USER_INPUT on tenantId.
func TestEnableWebhookEndpointInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createTenant("No Hook Co", randomDomain())
	r := e.gql(testAdminSecret, qEnableWebhook, map[string]any{"in": map[string]any{"tenantId": id}})
	if r.Code() != "BAD_USER_INPUT" || r.Field() != "tenantId" {
		t.Errorf("got %s", r.Raw)
	}
}

// emailPermissionCases are this part's rows of the shared permission table.
func emailPermissionCases() []permCase {
	vars := func(f *fixture) map[string]any { return f.input(map[string]any{}) }
	return webhookMutationCases("enableWebhookEndpoint", qEnableWebhook, vars,
		wantAt("enableWebhookEndpoint.notificationChannels.webhookUrl", value("https://127.0.0.1:9/hooks")))
}

// webhookMutationCases are the permission rows of a mutation on a tenant
// whose webhook points at https://127.0.0.1:9/hooks: it needs
// NOTIFICATION_CHANNELS_UPDATE (another tenant's: TENANT_MANAGE too).
func webhookMutationCases(op, query string, vars varsFunc, ok checkFunc) []permCase {
	prep := func(e *env, f *fixture) {
		e.mustGQL(testAdminSecret, qNotifUpdate, map[string]any{"in": map[string]any{"tenantId": f.target, "webhookUrl": "https://127.0.0.1:9/hooks"}}, nil)
	}
	return []permCase{
		{op: op, cred: credAnonymous, query: query, vars: vars, prepare: prep, want: "UNAUTHENTICATED"},
		{op: op, cred: keyWith("USAGE_WRITE"), query: query, vars: vars, prepare: prep, want: "FORBIDDEN", message: "NOTIFICATION_CHANNELS_UPDATE"},
		{op: op, cred: keyWith("TENANT_MANAGE", "NOTIFICATION_CHANNELS_READ"), query: query, vars: vars, prepare: prep, want: "FORBIDDEN", message: "NOTIFICATION_CHANNELS_UPDATE"},
		{op: op, cred: keyWith("NOTIFICATION_CHANNELS_UPDATE"), query: query, vars: vars, prepare: prep, check: ok},
		{op: op, cred: keyWith("TENANT_MANAGE", "NOTIFICATION_CHANNELS_UPDATE"), query: query, vars: vars, prepare: prep, check: ok},
		{op: op, cred: credAdmin, query: query, vars: vars, prepare: prep, check: ok},
	}
}
