-- Deposit addresses are Orleans grains whose state is stored in these rows (ProjectedGrainStorage).
TRUNCATE deposit_addresses;
ALTER TABLE deposit_addresses DROP COLUMN document, ADD COLUMN version bigint NOT NULL, ADD COLUMN state jsonb NOT NULL;
