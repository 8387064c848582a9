-- Grain runtime schema: grain state, reminders, the message outbox and silo membership.

-- Raises inside a batch so the whole turn's implicit transaction rolls back when a check fails.
CREATE OR REPLACE FUNCTION cp_assert(ok boolean, reason text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT ok THEN
        RAISE EXCEPTION USING ERRCODE = 'CP001', MESSAGE = reason;
    END IF;
END
$$;

CREATE TABLE cp_grains (
    grain_type  text        NOT NULL,
    grain_key   text        NOT NULL,
    version     bigint      NOT NULL CHECK (version > 0),
    state       jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL,
    -- Ids of the last turns that committed, newest first: resolves a commit whose outcome a dropped connection hid.
    recent_turns uuid[]     NOT NULL,
    PRIMARY KEY (grain_type, grain_key)
) WITH (fillfactor = 80); -- room on each page so a turn's UPDATE stays HOT (no index maintenance)

CREATE TABLE cp_reminders (
    grain_type  text        NOT NULL,
    grain_key   text        NOT NULL,
    name        text        NOT NULL,
    due_at      timestamptz NOT NULL,
    period_ms   bigint      CHECK (period_ms IS NULL OR period_ms > 0),
    lease_owner text,
    lease_until timestamptz,
    PRIMARY KEY (grain_type, grain_key, name)
);

CREATE INDEX cp_reminders_due ON cp_reminders (due_at);

CREATE TABLE cp_messages (
    id          uuid        PRIMARY KEY,
    target_type text        NOT NULL,
    target_key  text        NOT NULL,
    method      text        NOT NULL,
    args        jsonb       NOT NULL,
    sender_type text,
    sender_key  text,
    created_at  timestamptz NOT NULL,
    due_at      timestamptz NOT NULL,
    attempts    integer     NOT NULL DEFAULT 0,
    last_error  text,
    lease_owner text,
    lease_until timestamptz
);

CREATE INDEX cp_messages_due ON cp_messages (due_at);

CREATE TABLE cp_silos (
    silo_id        text        PRIMARY KEY,
    host_name      text        NOT NULL,
    address        text,
    roles          text[]      NOT NULL,
    started_at     timestamptz NOT NULL,
    last_heartbeat timestamptz NOT NULL,
    status         text        NOT NULL CHECK (status IN ('active', 'stopped'))
);
