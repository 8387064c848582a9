-- Webhook deliveries keep no reminder each any more: the cluster's lease sweeper (WebhookLeaseSweeperGrain) finds the
-- deliveries whose attempt time has passed (a retry due, or an in-flight attempt whose lease ran out) by this column.
-- Delivered and failed rows have none, so the partial index holds only deliveries still under way.
ALTER TABLE webhook_deliveries ADD COLUMN attempt_at timestamptz;
-- Rows written before this column: the sweep gives each a turn at once, which sends what is due and writes the
-- delivery's own attempt time (their old wake reminders still fire meanwhile and then remove themselves).
UPDATE webhook_deliveries SET attempt_at = now() WHERE status IN ('pending', 'sending');
CREATE INDEX webhook_deliveries_by_attempt ON webhook_deliveries (attempt_at) WHERE attempt_at IS NOT NULL;
