-- When each output was first credited (its first movement): automatic settlement lists the deposits of one balance in
-- (first_credited_at, grain_key) order after a cursor, so each deposit is named by one payout.
ALTER TABLE ledger_outputs ADD COLUMN first_credited_at timestamptz;
UPDATE ledger_outputs SET first_credited_at = (state->'state'->'movements'->0->>'at')::timestamptz;
CREATE INDEX ledger_outputs_credited_by_balance ON ledger_outputs (merchant_id, mode, asset, first_credited_at, grain_key COLLATE "C") WHERE credited;
