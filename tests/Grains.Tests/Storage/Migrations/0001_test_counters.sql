-- A table of the migrator's own tests (PostgresMigratorTests), as a grain type's projection would create one.
CREATE TABLE test_counters (
    grain_key  text        PRIMARY KEY,
    value      bigint      NOT NULL,
    label      text,
    updated_at timestamptz NOT NULL
);

CREATE INDEX test_counters_value ON test_counters (value);
