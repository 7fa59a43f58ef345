// Command receiver is a webhook receiver to develop against: it verifies
// each delivery's Standard Webhooks signature with the library receivers
// use in production, prints the event, and answers 204 (400 to a bad
// signature, so the delivery log shows it). Deduplicate by webhook-id in a
// real receiver: delivery is at least once.
//
//	export WEBHOOK_SECRET=whsec_$(openssl rand -hex 32)
//	go run ./examples/receiver              # listens on :3000, path /webhooks
//	go run . events listen --secret "$WEBHOOK_SECRET" --forward-to http://localhost:3000/webhooks
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func main() {
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "localhost:3000"
	}
	h, err := handler(os.Getenv("WEBHOOK_SECRET"), os.Stdout)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("receiving webhooks on http://%s/webhooks", addr)
	log.Fatal(http.ListenAndServe(addr, h))
}

// handler verifies and prints deliveries POSTed to /webhooks.
func handler(secret string, out io.Writer) (http.Handler, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, fmt.Errorf("WEBHOOK_SECRET (whsec_…): %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := wh.Verify(body, r.Header); err != nil { // on the raw body, before parsing
			fmt.Fprintf(out, "refused %s: %v\n", r.Header.Get("webhook-id"), err)
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
		var ev struct {
			ID, Type, TenantID string
			Data               json.RawMessage
		}
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "not JSON", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(out, "%s %s tenant %s: %s\n", ev.Type, ev.ID, ev.TenantID, ev.Data)
		w.WriteHeader(http.StatusNoContent)
	})
	return mux, nil
}
