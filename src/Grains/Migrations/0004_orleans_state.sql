-- Invoices and webhook deliveries are Orleans grains whose state is stored in these rows (ProjectedGrainStorage):
-- the state and its version beside the list columns, written by one statement. Rows of the retired runtime held
-- only list columns (their state lived in cp_grains), so they cannot be carried over.
TRUNCATE invoices, webhook_deliveries;
ALTER TABLE invoices ADD COLUMN version bigint NOT NULL, ADD COLUMN state jsonb NOT NULL, ADD COLUMN expires_at timestamptz NOT NULL;
ALTER TABLE webhook_deliveries DROP COLUMN document, ADD COLUMN version bigint NOT NULL, ADD COLUMN state jsonb NOT NULL;
