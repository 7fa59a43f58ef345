package resolvers

import (
	"context"
	"time"

	"tenantapi/graph"
	"tenantapi/tenant"
	"tenantapi/webhook"
)

// once turns a secret shown only by the mutation that created it into its
// payload field: null when none was created.
func once(secret string) *string {
	if secret == "" {
		return nil
	}
	return &secret
}

// sendTestWebhook delivers the test event to the tenant's webhook through
// the egress client (timeout, size limit, public addresses only unless
// allowed), signed with each of its current secrets.
func (r *Resolver) sendTestWebhook(ctx context.Context, target *tenant.WebhookTarget) (*webhook.Result, error) {
	ev := webhook.Event{
		Type:      tenant.TestWebhookType,
		Timestamp: r.Store.Now().UTC().Truncate(time.Second),
		Data:      map[string]string{"tenantId": target.TenantID},
	}
	s := webhook.NewSender(r.Egress)
	s.Now = r.Store.Now // one clock for the event and its webhook-timestamp
	return s.Send(ctx, target.URL, target.Secrets, ev)
}

func testWebhookPayload(target *tenant.WebhookTarget, res *webhook.Result) *graph.SendTestWebhookPayload {
	p := &graph.SendTestWebhookPayload{
		Delivered: res.Delivered,
		LatencyMs: float64(res.Latency.Microseconds()) / 1000,
		WebhookID: res.WebhookID,
		URL:       target.URL,
	}
	if res.StatusCode != 0 {
		p.StatusCode = &res.StatusCode
	}
	if res.Error != "" {
		p.Error = &res.Error
	}
	return p
}
