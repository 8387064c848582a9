namespace CryptoPay.Chains.Networks;

/// <summary>How a network keeps balances and addresses; decides the RPC client, address codec and derivation.</summary>
public enum NetworkFamily
{
    /// <summary>Bitcoin-style unspent outputs (btc, ltc).</summary>
    Utxo,

    /// <summary>Ethereum-style accounts with 20-byte addresses (eth, bsc).</summary>
    Evm,

    /// <summary>TRON: EVM-like accounts, base58check addresses with the 0x41 prefix.</summary>
    Tron,

    /// <summary>The in-process simulated chain.</summary>
    Sandbox,
}

/// <summary>Which chain of a network: real money, public test network, or a local regression-test node.</summary>
public enum NetworkChain
{
    Mainnet,
    Testnet,
    Regtest,
}
