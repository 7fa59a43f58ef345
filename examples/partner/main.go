// Command partner is what a partner's integration does, with the typed Go
// client (package client): it reads its tenant, records usage idempotently
// (the same event id twice is counted once), reads its quota, and verifies
// a signed webhook delivery with the Standard Webhooks library.
//
// Run it against a sandbox tenant, such as the demo tenant of `make run`: it
// points the tenant's webhook at its own receiver, with a new secret. The
// receiver is https on 127.0.0.1 with Go's test certificate, so the API must
// allow private addresses and trust that certificate:
//
//	go run ./examples/partner -cert-out .data/partner.pem
//	EGRESS_ALLOW_PRIVATE=true SSL_CERT_FILE=.data/partner.pem make run    # another terminal
//	TENANTAPI_API_KEY=$(cat .data/demo-api-key) go run ./examples/partner
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"tenantapi/client"
)

func main() {
	certOut := flag.String("cert-out", "", "write the webhook receiver's TLS certificate to this file (for the API's SSL_CERT_FILE) and exit")
	flag.Parse()
	if *certOut != "" {
		if err := os.MkdirAll(filepath.Dir(*certOut), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(*certOut, receiverCertificate(), 0o644); err != nil {
			log.Fatal(err)
		}
		return
	}
	base := os.Getenv("TENANTAPI_URL") // as for `tenantapi events listen`
	if base == "" {
		base = "http://localhost:8080"
	}
	key := os.Getenv("TENANTAPI_API_KEY")
	if key == "" {
		log.Fatal("TENANTAPI_API_KEY: set it to a tenant's API key (make run: $(cat .data/demo-api-key))")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, client.New(strings.TrimSuffix(base, "/")+"/graphql", key), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, c client.Client, out io.Writer) error {
	me, err := client.Me(ctx, c)
	if err != nil {
		return fmt.Errorf("reading the tenant: %w", err)
	}
	fmt.Fprintf(out, "tenant %s (%s), plan %s\n", me.Me.Name, me.Me.Domain, me.Me.Plan.Id)

	// Usage: the event id is the idempotency key. A retry after a timeout
	// sends the same id, and the API counts it once.
	event := client.UsageEventInput{Id: fmt.Sprintf("partner-example-%d", time.Now().UnixNano()), OccurredAt: time.Now(),
		UserId: "user-42", Platform: "chatgpt", Outcome: client.InteractionOutcomeCoached, RiskLevel: client.RiskLevelMedium}
	for _, what := range []string{"recorded", "sent again"} {
		r, err := client.RecordUsage(ctx, c, client.RecordUsageInput{Events: []client.UsageEventInput{event}})
		if err != nil {
			return fmt.Errorf("recording usage: %w (code %s)", err, client.ErrorCode(err))
		}
		p := r.RecordUsage
		fmt.Fprintf(out, "%s event %s: accepted %d, duplicates %d; %d interactions used this month\n",
			what, event.Id, p.Accepted, p.Duplicates, p.Quota.Used)
	}

	q, err := client.Quota(ctx, c)
	if err != nil {
		return fmt.Errorf("reading the quota: %w", err)
	}
	s := q.Me.AccountStatus.Subscription
	fmt.Fprintf(out, "quota for %s: %d of %s interactions used, %s left, %d credits; usage accepted now: %t\n",
		s.Month, s.Usage.InteractionsThisMonth, orUnlimited(s.Limits.InteractionsPerMonth), orUnlimited(s.Remaining.Interactions),
		q.Me.AccountStatus.Credits.Remaining, q.Me.AccountStatus.CanDoScreening)

	return checkWebhook(ctx, c, out)
}

// checkWebhook points the tenant's webhook at a receiver of ours with a
// secret of ours, asks the API for a test delivery, and verifies its
// signature as a production receiver would.
func checkWebhook(ctx context.Context, c client.Client, out io.Writer) error {
	var b [32]byte
	_, _ = rand.Read(b[:])
	secret := "whsec_" + hex.EncodeToString(b[:])
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	verified := make(chan string, 1)
	receiver := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err == nil {
			err = wh.Verify(body, r.Header) // the raw body, before parsing it
		}
		if err != nil {
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
		select {
		case verified <- r.Header.Get("webhook-id"):
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	if _, err := client.UpdateNotificationChannels(ctx, c, client.UpdateNotificationChannelsInput{
		WebhookUrl: client.Ptr(receiver.URL + "/webhooks"), WebhookSecret: &secret}); err != nil {
		return fmt.Errorf("setting the webhook: %w", err)
	}
	res, err := client.SendTestWebhook(ctx, c, client.SendTestWebhookInput{})
	if err != nil {
		return fmt.Errorf("sending a test webhook: %w", err)
	}
	t := res.SendTestWebhook
	switch {
	case t.StatusCode == nil: // no answer: refused address, untrusted certificate, …
		return fmt.Errorf("webhook: the API could not reach %s (%s): start it with EGRESS_ALLOW_PRIVATE=true "+
			"and SSL_CERT_FILE naming the file `go run ./examples/partner -cert-out FILE` writes", t.Url, deref(t.Error))
	case !t.Delivered:
		return fmt.Errorf("webhook: the receiver refused the test delivery %s with HTTP %d", t.WebhookId, *t.StatusCode)
	}
	select {
	case id := <-verified:
		fmt.Fprintf(out, "webhook: test delivery %s verified with the Standard Webhooks library (answered HTTP %d)\n", id, *t.StatusCode)
		return nil
	default:
		return errors.New("webhook: delivered, but no delivery passed verification")
	}
}

// receiverCertificate is the certificate (PEM) of the receiver
// checkWebhook starts: Go's test certificate, for 127.0.0.1.
func receiverCertificate() []byte {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func orUnlimited(n *int) string {
	if n == nil {
		return "unlimited"
	}
	return fmt.Sprint(*n)
}
