-- Example of a grain type projecting its state into a typed, indexed table of its own.
CREATE TABLE test_counters (
    grain_key  text        PRIMARY KEY,
    value      bigint      NOT NULL,
    label      text,
    updated_at timestamptz NOT NULL
);

CREATE INDEX test_counters_value ON test_counters (value);
