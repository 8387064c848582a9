-- Balances held for withdrawals not yet paid or released (MerchantBalanceState.Reserved).
ALTER TABLE merchant_balances ADD COLUMN reserved numeric(78,0) NOT NULL DEFAULT 0;
