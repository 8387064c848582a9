using CryptoPay.Chains.Hd;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Deposits;

/// <summary>The durable cursor of one address pool: the next index never handed out, per account key.</summary>
[GenerateSerializer]
[Alias("cryptopay.address-pool-state")]
public sealed record AddressPoolState
{
    /// <summary>Fingerprint of the account key <see cref="NextIndex"/> belongs to (see <see cref="LiveNetwork.AccountKeyId"/>).</summary>
    [Id(0)]
    public string AccountKeyId { get; set; } = "";

    /// <summary>The next index to hand out under the current key; only ever grows.</summary>
    [Id(1)]
    public long NextIndex { get; set; }

    /// <summary>Cursors of account keys configured before, kept so that going back to one resumes where it stopped.</summary>
    [Id(2)]
    public Dictionary<string, long> EarlierKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Addresses handed out by this pool, all keys together.</summary>
    [Id(3)]
    public long Allocated { get; set; }
}

/// <summary>An address handed out by a pool: fresh, never handed out before under this account key.</summary>
[GenerateSerializer]
[Alias("cryptopay.pooled-address")]
public sealed record PooledAddress([property: Id(0)] string Network, [property: Id(1)] string Address, [property: Id(2)] long Index, [property: Id(3)] string AccountKeyId);

/// <summary>The network is not configured and enabled for live invoices on this gateway.</summary>
[GenerateSerializer]
[Alias("cryptopay.network-not-configured")]
public sealed class NetworkNotConfiguredException(string network)
    : InvalidOperationException($"The {network} network is not configured for live payments on this gateway.")
{
    [Id(0)]
    public string Network { get; } = network;
}

/// <summary>
/// One per network and mode (<see cref="AddressPoolKeys.Of"/>): hands out receive indexes of the network's
/// account key in order, each once, never again, also across silo crashes (the cursor commits with the turn
/// that hands the index out). The turn does no elliptic-curve math: addresses come derived ahead from the
/// silo's <see cref="DerivedAddressCache"/>, which refills after the turn commits. An index handed out but never
/// shown (a lost race, a failed request) is simply skipped: wallets see a gap, never a reuse.
/// </summary>
[Alias("cryptopay.address-pool")]
public interface IAddressPoolGrain : IGrainWithStringKey
{
    Task<PooledAddress> Allocate();

    Task<AddressPoolState> Get();
}

[GrainType("address-pool")]
public sealed class AddressPoolGrain(
    [PersistentState("address-pool")] IPersistentState<AddressPoolState> state,
    LiveNetworks networks,
    DerivedAddressCache cache)
    : Grain, IAddressPoolGrain
{
    private AddressPoolState State => state.State;

    public async Task<PooledAddress> Allocate()
    {
        var (networkId, mode) = AddressPoolKeys.Parse(this.GetPrimaryKeyString());
        var network = mode == Mode.Live ? networks.Find(networkId) : null;
        if (network is null)
        {
            throw new NetworkNotConfiguredException(networkId);
        }

        if (State.AccountKeyId != network.AccountKeyId)
        {
            SwitchTo(network.AccountKeyId);
        }

        while (true)
        {
            if (State.NextIndex >= Bip32.HardenedOffset)
            {
                throw new InvalidOperationException($"Address pool {this.GetPrimaryKeyString()} has handed out every non-hardened index of its account key; configure a new account key.");
            }

            var index = (uint)State.NextIndex;
            State.NextIndex++;
            var address = cache.Get(network, index);
            if (address is null)
            {
                continue;
            }

            State.Allocated++;
            try
            {
                await state.WriteStateAsync();
            }
            catch
            {
                // The indexes taken in memory may or may not be stored: read the pool again rather than guess.
                DeactivateOnIdle();
                throw;
            }

            cache.EnsureAhead(network, (uint)State.NextIndex);
            return new PooledAddress(network.Id, address, index, network.AccountKeyId);
        }
    }

    public Task<AddressPoolState> Get() => Task.FromResult(State);

    private void SwitchTo(string accountKeyId)
    {
        if (State.AccountKeyId.Length > 0)
        {
            State.EarlierKeys[State.AccountKeyId] = State.NextIndex;
        }

        State.NextIndex = State.EarlierKeys.Remove(accountKeyId, out var resumed) ? resumed : 0;
        State.AccountKeyId = accountKeyId;
    }
}

public static class AddressPoolKeys
{
    public static string Of(string network, Mode mode) => $"{network}:{LedgerKeys.ModeName(mode)}";

    public static (string Network, Mode Mode) Parse(string key)
    {
        var colon = key.LastIndexOf(':');
        return colon > 0 && key[(colon + 1)..] is "live" or "test"
            ? (key[..colon], key[(colon + 1)..] == "live" ? Mode.Live : Mode.Test)
            : throw new ArgumentException($"'{key}' is not an address pool key (network:mode).", nameof(key));
    }
}
