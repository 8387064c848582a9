-- The invoice is stored once, as its grain state in cp_grains; lists join it by key instead of keeping a second
-- jsonb copy here (half of an invoice turn's write volume).
ALTER TABLE invoices DROP COLUMN document;
