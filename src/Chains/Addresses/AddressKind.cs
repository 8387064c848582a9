namespace CryptoPay.Chains.Addresses;

public enum AddressKind
{
    Unknown,

    /// <summary>Pay to public key hash, base58check (1…, L…, m/n…).</summary>
    P2pkh,

    /// <summary>Pay to script hash, base58check (3…, M…, 2…, Q…).</summary>
    P2sh,

    /// <summary>Native segwit v0 with a 20-byte key hash (BIP84 deposit addresses).</summary>
    P2wpkh,

    /// <summary>Native segwit v0 with a 32-byte script hash.</summary>
    P2wsh,

    /// <summary>Segwit v1 with a 32-byte output key (taproot, BIP341), bech32m.</summary>
    P2tr,

    /// <summary>20-byte EVM account, 0x-hex (EIP-55 when mixed case).</summary>
    Evm,

    /// <summary>TRON account: base58check of 0x41 ‖ 20 bytes.</summary>
    Tron,

    /// <summary>Simulated chain account, sbx_ + 40 hex digits.</summary>
    Sandbox,
}

/// <summary>The outcome of validating an address for a network.</summary>
/// <param name="IsValid">Whether funds may be sent to the address on that network.</param>
/// <param name="Kind">The address type, <see cref="AddressKind.Unknown"/> when invalid.</param>
/// <param name="Reason">Why the address was rejected; null when valid.</param>
/// <param name="NormalizedAddress">The canonical spelling (lowercase bech32, EIP-55 hex); null when invalid.</param>
/// <param name="ScriptPubKey">The output script of a UTXO address; empty otherwise.</param>
public sealed record AddressValidationResult(
    bool IsValid,
    AddressKind Kind,
    string? Reason,
    string? NormalizedAddress,
    ReadOnlyMemory<byte> ScriptPubKey)
{
    public static AddressValidationResult Valid(AddressKind kind, string normalizedAddress, ReadOnlyMemory<byte> scriptPubKey = default) =>
        new(true, kind, null, normalizedAddress, scriptPubKey);

    public static AddressValidationResult Invalid(string reason) => new(false, AddressKind.Unknown, reason, null, ReadOnlyMemory<byte>.Empty);
}
