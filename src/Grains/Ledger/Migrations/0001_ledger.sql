-- One row per merchant, mode and asset: the balance grain's totals, written with its state.
CREATE TABLE merchant_balances (
    grain_key   text          PRIMARY KEY,
    merchant_id uuid          NOT NULL,
    mode        text          NOT NULL,
    asset       text          NOT NULL,
    decimals    integer       NOT NULL,
    available   numeric(78,0) NOT NULL,
    pending     numeric(78,0) NOT NULL,
    deposited   numeric(78,0) NOT NULL,
    fees        numeric(78,0) NOT NULL,
    withdrawn   numeric(78,0) NOT NULL,
    document    jsonb         NOT NULL
);

CREATE UNIQUE INDEX merchant_balances_by_merchant ON merchant_balances (merchant_id, mode, asset);

-- One row per credited on-chain output with its append-only journal (credits and compensating reversals).
CREATE TABLE ledger_outputs (
    grain_key    text          PRIMARY KEY,
    network      text          NOT NULL,
    txid         text          NOT NULL,
    output_index integer       NOT NULL,
    merchant_id  uuid          NOT NULL,
    mode         text          NOT NULL,
    asset        text          NOT NULL,
    credited     boolean       NOT NULL,
    gross_units  numeric(78,0) NOT NULL,
    fee_units    numeric(78,0) NOT NULL,
    movements    integer       NOT NULL,
    document     jsonb         NOT NULL
);

-- No on-chain output is ever credited twice: the output grain decides, this backs it up.
CREATE UNIQUE INDEX ledger_outputs_output ON ledger_outputs (network, txid, output_index);
CREATE INDEX ledger_outputs_by_merchant ON ledger_outputs (merchant_id, mode, asset);
