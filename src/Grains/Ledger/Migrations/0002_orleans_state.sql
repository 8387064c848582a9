-- Balances and output journals are Orleans grains whose state is stored in these rows (ProjectedGrainStorage).
TRUNCATE merchant_balances, ledger_outputs;
ALTER TABLE merchant_balances DROP COLUMN document, ADD COLUMN version bigint NOT NULL, ADD COLUMN state jsonb NOT NULL;
ALTER TABLE ledger_outputs DROP COLUMN document, ADD COLUMN version bigint NOT NULL, ADD COLUMN state jsonb NOT NULL;
