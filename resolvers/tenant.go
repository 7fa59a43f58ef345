package resolvers

import (
	"tenantapi/graph"
	"tenantapi/tenant"
)

// createTenantConfig turns createTenant's nested configuration into the
// domain's inputs, the same way each part's own mutation does. A nested
// tenantId is refused: the tenant is the one being created.
func createTenantConfig(input graph.CreateTenantInput, in *tenant.CreateTenant) error {
	noTenantID := func(prefix string, id *string) error {
		if id != nil {
			return tenant.Invalid(prefix+"tenantId", "%stenantId cannot be given inside createTenant: the configuration is the new tenant's", prefix)
		}
		return nil
	}
	if n := input.NotificationChannels; n != nil {
		if err := noTenantID("notificationChannels.", n.TenantID); err != nil {
			return err
		}
		in.NotificationChannels = &tenant.NotificationChannelsPatch{Emails: n.Emails, WebhookURL: n.WebhookURL, Events: n.Events,
			WebhookSecret: n.WebhookSecret, ExpectedVersion: n.ExpectedVersion, ValidateOnly: deref(n.ValidateOnly)}
	}
	if k := input.Keywords; k != nil {
		if err := noTenantID("keywords.", k.TenantID); err != nil {
			return err
		}
		in.Keywords = &tenant.KeywordsInput{Keywords: k.Keywords, ExpectedVersion: k.ExpectedVersion, ValidateOnly: deref(k.ValidateOnly)}
	}
	if i := input.Industries; i != nil {
		if err := noTenantID("industries.", i.TenantID); err != nil {
			return err
		}
		in.Industries = &tenant.IndustriesInput{Allowed: i.Allowed, Blocked: i.Blocked, ExpectedVersion: i.ExpectedVersion, ValidateOnly: deref(i.ValidateOnly)}
	}
	if m := input.RiskMatrix; m != nil {
		if err := noTenantID("riskMatrix.", m.TenantID); err != nil {
			return err
		}
		in.RiskMatrix = &tenant.RiskMatrixInput{Weights: riskWeightInputs(m.Weights), ExpectedVersion: m.ExpectedVersion, ValidateOnly: deref(m.ValidateOnly)}
	}
	if w := input.WebsiteConfig; w != nil {
		if err := noTenantID("websiteConfig.", w.TenantID); err != nil {
			return err
		}
		in.WebsiteConfig = &tenant.WebsiteConfigPatch{EnabledChecks: w.EnabledChecks, TimeoutSeconds: w.TimeoutSeconds, PassThreshold: w.PassThreshold,
			ReviewThreshold: w.ReviewThreshold, FollowRedirects: w.FollowRedirects, MaxRedirects: w.MaxRedirects,
			ExpectedVersion: w.ExpectedVersion, ValidateOnly: deref(w.ValidateOnly)}
	}
	if b := input.Billing; b != nil {
		if err := noTenantID("billing.", b.TenantID); err != nil {
			return err
		}
		p := &tenant.BillingPatch{Status: b.Status, BillingPeriod: b.BillingPeriod, BillingEmail: b.BillingEmail,
			BillingName: b.BillingName, BillingAddress: b.BillingAddress, PaymentTerms: b.PaymentTerms,
			ExpectedVersion: b.ExpectedVersion, ValidateOnly: deref(b.ValidateOnly)}
		if tx := b.Tax; tx != nil {
			p.Tax = &tenant.TaxProfile{Country: deref(tx.Country), TaxID: deref(tx.TaxID), RateBP: tx.RateBasisPoints}
		}
		if pm := b.PaymentMethod; pm != nil {
			p.PaymentMethod = &tenant.PaymentMethod{Type: pm.Type, Brand: pm.Brand, Last4: pm.Last4}
		}
		in.Billing = p
	}
	return nil
}
