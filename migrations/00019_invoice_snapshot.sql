-- +goose Up
-- Billing a finance team would sign (issue 15, section 2): a billing
-- profile (bill-to name and address, tax, payment terms), invoices frozen
-- at issue (snapshot), and prorated invoices of mid-period upgrades.

-- The tenant's billing profile. A tenant without a billing row reads as
-- these defaults (db.billingCols).
ALTER TABLE billing_accounts
    ADD COLUMN billing_name    text,
    ADD COLUMN billing_address text[] NOT NULL DEFAULT '{}',
    ADD COLUMN tax_country     text CHECK (tax_country ~ '^[A-Z]{2}$'),
    ADD COLUMN tax_id          text,
    -- Basis points: 2000 = 20.00%.
    ADD COLUMN tax_rate_bp     int NOT NULL DEFAULT 0 CHECK (tax_rate_bp BETWEEN 0 AND 5000),
    ADD COLUMN payment_terms   text NOT NULL DEFAULT 'MONTH'
        CHECK (payment_terms IN ('MONTH', 'NET_15', 'NET_30', 'NET_60', 'DUE_ON_RECEIPT'));

-- kind: a subscription period (the billing run) or a prorated upgrade.
-- snapshot: everything the invoice prints (tenant.InvoiceSnapshot), frozen
-- at issue; the PDF and the GraphQL fields read it.
ALTER TABLE invoices
    ADD COLUMN kind     text NOT NULL DEFAULT 'SUBSCRIPTION' CHECK (kind IN ('SUBSCRIPTION', 'PRORATION')),
    ADD COLUMN snapshot jsonb;

-- Invoices issued before this migration printed the placeholder seller and
-- the tenant's profile as it is now: freeze exactly that, without writing
-- audit entries or events (nothing changed for anyone).
ALTER TABLE invoices DISABLE TRIGGER audit;
UPDATE invoices i SET snapshot = jsonb_build_object(
    'seller', jsonb_build_object('name', 'Tenant API', 'address', jsonb_build_array('1 Example Street', '75001 Paris, France'),
        'email', 'billing@tenantapi.example'),
    'billTo', jsonb_strip_nulls(jsonb_build_object('name', t.name, 'address', '[]'::jsonb, 'domain', t.domain,
        'email', COALESCE(b.billing_email, t.owner_email))),
    'lines', jsonb_build_array(jsonb_build_object('description', i.description,
        'periodStart', to_char(i.period_start, 'YYYY-MM-DD'), 'periodEnd', to_char(i.period_end, 'YYYY-MM-DD'),
        'quantity', 1, 'unitAmountCents', i.amount_cents, 'amountCents', i.amount_cents, 'currency', i.currency)),
    'subtotalCents', i.amount_cents, 'taxRateBasisPoints', 0, 'taxCents', 0, 'currency', i.currency,
    -- Their due date was 30 days after their date.
    'paymentTerms', 'NET_30')
FROM tenants t LEFT JOIN billing_accounts b ON b.tenant_id = t.id
WHERE t.id = i.tenant_id;
ALTER TABLE invoices ENABLE TRIGGER audit;
ALTER TABLE invoices ALTER COLUMN snapshot SET NOT NULL;

-- One subscription invoice per tenant per month still makes the billing run
-- idempotent; prorated invoices come on top.
ALTER TABLE invoices DROP CONSTRAINT invoices_tenant_id_period_key;
CREATE UNIQUE INDEX invoices_subscription_period ON invoices (tenant_id, period) WHERE kind = 'SUBSCRIPTION';

-- +goose Down
DROP INDEX invoices_subscription_period;
DELETE FROM invoices WHERE kind <> 'SUBSCRIPTION';
ALTER TABLE invoices ADD CONSTRAINT invoices_tenant_id_period_key UNIQUE (tenant_id, period);
ALTER TABLE invoices DROP COLUMN snapshot, DROP COLUMN kind;
ALTER TABLE billing_accounts DROP COLUMN billing_name, DROP COLUMN billing_address, DROP COLUMN tax_country,
    DROP COLUMN tax_id, DROP COLUMN tax_rate_bp, DROP COLUMN payment_terms;
