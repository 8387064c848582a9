-- Invoices keep no wake reminder each any more: a reminder row was upserted (a round trip and a transaction of its own)
-- before every creation's write. The invoice's next wake time (its expiry while pending, or a retry of events not yet
-- delivered) is written with its state, and the cluster's InvoiceWakeSweeperGrain wakes the invoices whose time has
-- passed. Final invoices have none, so the partial index holds only invoices with work ahead.
ALTER TABLE invoices ADD COLUMN wake_at timestamptz;
-- Rows written before this column: pending ones wake at their expiry (their old wake reminders still fire meanwhile and
-- then remove themselves).
UPDATE invoices SET wake_at = expires_at WHERE status = 'pending';
CREATE INDEX invoices_by_wake ON invoices (wake_at) WHERE wake_at IS NOT NULL;
