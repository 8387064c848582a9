-- One row per settlement batch: the batch grain's state and version (ProjectedGrainStorage) with list columns, one write.
CREATE TABLE settlements (
    grain_key   text        PRIMARY KEY,
    version     bigint      NOT NULL,
    state       jsonb       NOT NULL,
    network     text        NOT NULL,
    sequence    bigint      NOT NULL,
    status      text        NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE INDEX settlements_by_network ON settlements (network, sequence DESC);
-- The oldest queued withdrawals of a network come first into its next batch.
CREATE INDEX withdrawals_queued_by_network ON withdrawals (network, created_at) WHERE status = 'queued';
