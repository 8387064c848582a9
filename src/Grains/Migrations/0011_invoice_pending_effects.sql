-- Every invoice was written with effects pending (its webhook events, its ledger changes), and so with a wake time a
-- retry period later; delivered a moment after, they were still in the stored row, so the sweep woke every invoice a
-- minute after each change and it wrote its whole row again (a non-HOT update of the invoice and all its indexes) only
-- to record that nothing was pending. Now an invoice written with effects puts a row here in the same statement (its
-- version and the retry time), and deletes it once they are delivered; an invoice read back without a row of its
-- version has its stored effects dropped as delivered. invoices.wake_at is the invoice's own due time (its expiry).
CREATE TABLE invoice_pending_effects (
    grain_key text        PRIMARY KEY,
    version   bigint      NOT NULL,
    retry_at  timestamptz NOT NULL
);
CREATE INDEX invoice_pending_effects_by_retry ON invoice_pending_effects (retry_at);
-- Rows written before this hold their pending effects in the state only: each such row is pending, to be retried when
-- its wake time said (or now). Their wake_at, a retry time for some, corrects itself when the sweep wakes them.
INSERT INTO invoice_pending_effects (grain_key, version, retry_at)
SELECT grain_key, version, coalesce(wake_at, now())
FROM invoices
WHERE json_array_length(state -> 'outbox' -> 'pending') > 0;
