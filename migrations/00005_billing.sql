-- +goose Up
-- Billing (the tenants reference's billing, change-plan and invoices; the
-- screening reference's billing configuration). Money is bigint minor units
-- (cents) with an ISO 4217 currency, never floating point.

-- A tenant's subscription. A tenant without a row reads as the defaults of
-- db.billingCols (ACTIVE, MONTHLY, next billing date = creation day); the
-- row is written on the first change or billing run.
CREATE TABLE billing_accounts (
    tenant_id         uuid PRIMARY KEY REFERENCES tenants (id),
    status            text NOT NULL CHECK (status IN ('ACTIVE', 'PAST_DUE', 'CANCELLED', 'NONE')),
    billing_period    text NOT NULL CHECK (billing_period IN ('MONTHLY', 'ANNUAL')),
    -- The start of the next period not invoiced yet; the billing run
    -- invoices it and moves it one period on, to anchor_day of that month
    -- (clamped to the month's end).
    next_billing_date date NOT NULL,
    anchor_day        smallint NOT NULL CHECK (anchor_day BETWEEN 1 AND 31),
    -- What the customer's payment method is, never a card or account number.
    payment_type      text CHECK (payment_type IN ('CREDIT_CARD', 'SEPA_DEBIT')),
    payment_brand     text,
    payment_last4     text CHECK (payment_last4 ~ '^[0-9]{4}$'),
    billing_email     text,
    -- A plan change waiting for its effective date (applied by
    -- Store.ApplyDuePlanChanges).
    scheduled_plan_id      text REFERENCES plans (id),
    scheduled_effective_date date,
    scheduled_requested_at timestamptz,
    scheduled_requested_by text,
    version           int NOT NULL DEFAULT 0,
    updated_at        timestamptz NOT NULL,
    updated_by        text NOT NULL,
    CHECK ((payment_type IS NULL) = (payment_last4 IS NULL)),
    CHECK ((scheduled_plan_id IS NULL) = (scheduled_effective_date IS NULL)
       AND (scheduled_plan_id IS NULL) = (scheduled_requested_at IS NULL)
       AND (scheduled_plan_id IS NULL) = (scheduled_requested_by IS NULL))
);
-- The minute ticker looks for due plan changes.
CREATE INDEX billing_accounts_due ON billing_accounts (scheduled_effective_date) WHERE scheduled_plan_id IS NOT NULL;

CREATE TABLE invoices (
    tenant_id      uuid NOT NULL REFERENCES tenants (id),
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    -- INV-YYYY-NNN: YYYY the year of the invoice date, NNN a per-tenant
    -- per-year sequence from 001 (four digits and more past 999).
    number         text NOT NULL,
    year           int NOT NULL,
    seq            int NOT NULL CHECK (seq > 0),
    -- The calendar month (YYYY-MM) of the invoice date: one invoice per
    -- tenant per month, which makes the billing run idempotent.
    period         text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    status         text NOT NULL CHECK (status IN ('DRAFT', 'OPEN', 'PAID', 'VOID')),
    date           date NOT NULL,
    due_date       date NOT NULL,
    period_start   date NOT NULL,
    period_end     date NOT NULL CHECK (period_end >= period_start),
    plan_id        text NOT NULL REFERENCES plans (id),
    billing_period text NOT NULL CHECK (billing_period IN ('MONTHLY', 'ANNUAL')),
    amount_cents   bigint NOT NULL CHECK (amount_cents >= 0),
    currency       text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    description    text NOT NULL,
    created_at     timestamptz NOT NULL,
    created_by     text NOT NULL,
    paid_at        timestamptz,
    voided_at      timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, number),
    UNIQUE (tenant_id, year, seq),
    UNIQUE (tenant_id, period),
    CHECK ((status = 'PAID') = (paid_at IS NOT NULL)),
    CHECK ((status = 'VOID') = (voided_at IS NOT NULL))
);
-- The PDF route finds an invoice by its id alone (the SQL then checks the
-- caller's tenant scope); pages read newest first per tenant.
CREATE UNIQUE INDEX invoices_id ON invoices (id);
CREATE INDEX invoices_tenant_date ON invoices (tenant_id, date DESC, id DESC);

-- +goose Down
DROP TABLE invoices, billing_accounts;
