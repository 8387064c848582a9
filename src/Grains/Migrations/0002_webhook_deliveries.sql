CREATE TABLE webhook_deliveries (
    grain_key   text        PRIMARY KEY,
    merchant_id uuid        NOT NULL,
    mode        text        NOT NULL,
    endpoint_id text        NOT NULL,
    event_id    text        NOT NULL,
    status      text        NOT NULL,
    created_at  timestamptz NOT NULL,
    document    jsonb       NOT NULL
);

CREATE INDEX webhook_deliveries_by_created ON webhook_deliveries (merchant_id, mode, created_at DESC);
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (merchant_id, mode, event_id);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (merchant_id, mode, endpoint_id, created_at DESC);
