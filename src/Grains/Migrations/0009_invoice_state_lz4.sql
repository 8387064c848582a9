-- An invoice's state (with the snapshot its pending webhook events carry) is a few KB of jsonb, over the size at which
-- PostgreSQL compresses a row: with the default pglz that compression was ~6% of PostgreSQL's CPU in the invoice
-- creation profile (docs/BENCHMARKS.md). LZ4 compresses several times faster for a similar size. Values written
-- before this keep their pglz compression and read as before.
ALTER TABLE invoices ALTER COLUMN state SET COMPRESSION lz4;
