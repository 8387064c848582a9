using CryptoPay.Chains.Addresses;
using CryptoPay.Chains.Networks;
using CryptoPay.Grains.Merchants;
using CryptoPay.Runtime.Grains;

namespace CryptoPay.Grains.Deposits;

/// <summary>Which invoice, merchant and payment method an on-chain address belongs to.</summary>
public sealed record DepositAddressState
{
    public string Network { get; set; } = "";

    /// <summary>The address as customers see it (bech32, EIP-55, TRON base58).</summary>
    public string Address { get; set; } = "";

    /// <summary>Derivation index under the network's account key.</summary>
    public long Index { get; set; }

    public Guid InvoiceId { get; set; }

    public Guid MerchantId { get; set; }

    public Mode Mode { get; set; }

    /// <summary>The payment method (<c>usdt_eth</c>) and its asset (<c>USDT</c>): only that asset paid to this address pays the invoice.</summary>
    public string Method { get; set; } = "";

    public string Asset { get; set; } = "";

    /// <summary>Confirmations this invoice's payments need (network default or the merchant's override), fixed at assignment.</summary>
    public int RequiredConfirmations { get; set; }

    public DateTimeOffset AssignedAt { get; set; }

    public bool Exists => Address.Length > 0;
}

/// <summary>
/// One deposit address, keyed by <see cref="DepositAddressKeys.Of"/>. Assigned once, to one invoice:
/// a second assignment to another invoice is refused, so an address is never reused.
/// </summary>
[GrainType("deposit-address")]
public interface IDepositAddressGrain : IGrainWithStringKey
{
    /// <summary>Records the assignment; a repeat of the same assignment returns it unchanged.</summary>
    /// <exception cref="InvalidOperationException">The address belongs to another invoice.</exception>
    Task<DepositAddressState> Assign(DepositAddressState assignment);

    Task<DepositAddressState?> Get();
}

public sealed class DepositAddressGrain : Grain<DepositAddressState>, IDepositAddressGrain
{
    public Task<DepositAddressState> Assign(DepositAddressState assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        if (DepositAddressKeys.Of(assignment.Network, assignment.Address) != GetPrimaryKeyString())
        {
            throw new ArgumentException($"Assignment of {assignment.Network}:{assignment.Address} sent to deposit address {GetPrimaryKeyString()}.", nameof(assignment));
        }

        if (State.Exists)
        {
            return State.InvoiceId == assignment.InvoiceId && State.Method == assignment.Method
                ? Task.FromResult(State)
                : throw new InvalidOperationException($"Address {State.Address} on {State.Network} already belongs to invoice {State.InvoiceId}; addresses are never reused.");
        }

        State = assignment with { AssignedAt = assignment.AssignedAt == default ? Now : assignment.AssignedAt };
        return Task.FromResult(State);
    }

    public Task<DepositAddressState?> Get() => Task.FromResult(State.Exists ? State : null);
}

/// <summary>Grain keys of deposit addresses: one canonical form per address, whatever its spelling.</summary>
public static class DepositAddressKeys
{
    /// <summary>
    /// <c>network:address</c> with the address canonical: EVM addresses lower-case hex; TRON addresses as
    /// their 20-byte account in lower-case hex (the form logs of TRON's Ethereum-compatible RPC carry);
    /// bech32 lower-case; base58 as given.
    /// </summary>
    public static string Of(string network, string address) => $"{network}:{Canonical(network, address)}";

    public static string Canonical(string network, string address)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        var family = Network.Get(network).Family;
        return family switch
        {
            NetworkFamily.Evm => address.ToLowerInvariant(),
            NetworkFamily.Tron when !address.StartsWith("0x", StringComparison.OrdinalIgnoreCase) =>
                "0x" + Convert.ToHexStringLower(TronAddress.Decode(address)),
            NetworkFamily.Tron => address.ToLowerInvariant(),
            _ when IsBech32Of(network, address) => address.ToLowerInvariant(),
            _ => address,
        };
    }

    /// <summary>True when the address carries the segwit prefix of the network on any of its chains (bech32 is case-insensitive, base58 is not).</summary>
    private static bool IsBech32Of(string network, string address) =>
        Enum.GetValues<NetworkChain>().Select(chain => Network.Get(network, chain).Bech32Hrp).OfType<string>()
            .Any(hrp => address.StartsWith(hrp + "1", StringComparison.OrdinalIgnoreCase));
}
