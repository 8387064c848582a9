CREATE TABLE invoices (
    grain_key          text        PRIMARY KEY,
    merchant_id        uuid        NOT NULL,
    mode               text        NOT NULL,
    status             text        NOT NULL,
    currency           text        NOT NULL,
    networks           jsonb       NOT NULL,
    order_id           text,
    customer_id        text,
    amount             numeric     NOT NULL,
    reporting_currency text        NOT NULL,
    amount_reporting   numeric     NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    document           jsonb       NOT NULL
);

-- Order ids are unique per merchant and mode; the order index grain enforces it first, this backs it up.
CREATE UNIQUE INDEX invoices_order_id ON invoices (merchant_id, mode, order_id) WHERE order_id IS NOT NULL;
CREATE INDEX invoices_by_created ON invoices (merchant_id, mode, created_at DESC);
CREATE INDEX invoices_by_updated ON invoices (merchant_id, mode, updated_at DESC);
CREATE INDEX invoices_by_status ON invoices (merchant_id, mode, status, created_at DESC);
CREATE INDEX invoices_by_customer ON invoices (merchant_id, mode, customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX invoices_networks ON invoices USING gin (networks);
