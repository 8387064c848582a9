-- One row per assigned deposit address, written with its grain: chain watchers ask which of a
-- block's addresses are ours with one primary-key lookup per block.
CREATE TABLE deposit_addresses (
    grain_key   text        PRIMARY KEY,
    network     text        NOT NULL,
    address     text        NOT NULL,
    idx         bigint      NOT NULL,
    invoice_id  uuid        NOT NULL,
    merchant_id uuid        NOT NULL,
    mode        text        NOT NULL,
    method      text        NOT NULL,
    assigned_at timestamptz NOT NULL,
    document    jsonb       NOT NULL
);

CREATE INDEX deposit_addresses_by_invoice ON deposit_addresses (invoice_id);
