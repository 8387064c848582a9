-- One row per withdrawal: the withdrawal grain's state and version (ProjectedGrainStorage) with list columns, one write.
-- Rows in status reserving (being reserved) and refused (balance short) are the grain's own and never listed.
CREATE TABLE withdrawals (
    grain_key    text          PRIMARY KEY,
    version      bigint        NOT NULL,
    state        jsonb         NOT NULL,
    merchant_id  uuid          NOT NULL,
    mode         text          NOT NULL,
    status       text          NOT NULL,
    asset        text          NOT NULL,
    network      text          NOT NULL,
    amount_units numeric(78,0) NOT NULL,
    created_at   timestamptz   NOT NULL,
    updated_at   timestamptz   NOT NULL
);

CREATE INDEX withdrawals_by_created ON withdrawals (merchant_id, mode, created_at DESC);
CREATE INDEX withdrawals_by_status ON withdrawals (status, created_at DESC);
