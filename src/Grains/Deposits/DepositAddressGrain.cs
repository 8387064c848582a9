using CryptoPay.Chains.Addresses;
using CryptoPay.Chains.Networks;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Deposits;

/// <summary>Which invoice, merchant and payment method an on-chain address belongs to.</summary>
[GenerateSerializer]
[Alias("cryptopay.deposit-address-state")]
public sealed record DepositAddressState
{
    [Id(0)]
    public string Network { get; set; } = "";

    /// <summary>The address as customers see it (bech32, EIP-55, TRON base58).</summary>
    [Id(1)]
    public string Address { get; set; } = "";

    /// <summary>Derivation index under the network's account key.</summary>
    [Id(2)]
    public long Index { get; set; }

    [Id(3)]
    public Guid InvoiceId { get; set; }

    [Id(4)]
    public Guid MerchantId { get; set; }

    [Id(5)]
    public Mode Mode { get; set; }

    /// <summary>The payment method (<c>usdt_eth</c>) and its asset (<c>USDT</c>): only that asset paid to this address pays the invoice.</summary>
    [Id(6)]
    public string Method { get; set; } = "";

    [Id(7)]
    public string Asset { get; set; } = "";

    /// <summary>Confirmations this invoice's payments need (network default or the merchant's override), fixed at assignment.</summary>
    [Id(8)]
    public int RequiredConfirmations { get; set; }

    [Id(9)]
    public DateTimeOffset AssignedAt { get; set; }

    public bool Exists => Address.Length > 0;
}

/// <summary>
/// One deposit address, keyed by <see cref="DepositAddressKeys.Of"/>. Assigned once, to one invoice:
/// a second assignment to another invoice is refused, so an address is never reused.
/// </summary>
[Alias("cryptopay.deposit-address")]
public interface IDepositAddressGrain : IGrainWithStringKey
{
    Task<DepositAddressState> Assign(DepositAddressState assignment);

    Task<DepositAddressState?> Get();
}

[GrainType("deposit-address")]
public sealed class DepositAddressGrain(
    [PersistentState(DepositAddressProjection.StateName, ProjectedGrainStorage.Name)] IPersistentState<DepositAddressState> state,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock)
    : Grain, IDepositAddressGrain
{
    public async Task<DepositAddressState> Assign(DepositAddressState assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        if (DepositAddressKeys.Of(assignment.Network, assignment.Address) != this.GetPrimaryKeyString())
        {
            throw new ArgumentException($"Assignment of {assignment.Network}:{assignment.Address} sent to deposit address {this.GetPrimaryKeyString()}.", nameof(assignment));
        }

        if (state.State.Exists)
        {
            return state.State.InvoiceId == assignment.InvoiceId && state.State.Method == assignment.Method
                ? state.State
                : throw new InvalidOperationException($"Address {state.State.Address} on {state.State.Network} already belongs to invoice {state.State.InvoiceId}; addresses are never reused.");
        }

        state.State = assignment with { AssignedAt = assignment.AssignedAt == default ? clock.GetUtcNow() : assignment.AssignedAt };
        await state.WriteStateAsync();
        return state.State;
    }

    public Task<DepositAddressState?> Get() => Task.FromResult(state.State.Exists ? state.State : null);
}

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
