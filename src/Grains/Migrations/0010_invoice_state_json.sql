-- invoices.state is written on every change of an invoice and read back whole (a grain's activation, a list page),
-- almost never looked into: as jsonb, PostgreSQL parsed and re-encoded each written state (jsonb_recv, with its key
-- sort), a fifth of its CPU per invoice creation (docs/BENCHMARKS.md). As json it keeps the text, checked only.
-- The totals query walks the payments with json_array_elements instead.
ALTER TABLE invoices ALTER COLUMN state TYPE json USING state::json;
ALTER TABLE invoices ALTER COLUMN state SET COMPRESSION lz4;
