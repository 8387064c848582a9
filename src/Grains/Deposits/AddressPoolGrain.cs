using CryptoPay.Chains.Hd;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.Runtime.Grains;

namespace CryptoPay.Grains.Deposits;

/// <summary>The durable cursor of one address pool: the next index never handed out, per account key.</summary>
public sealed record AddressPoolState
{
    /// <summary>Fingerprint of the account key <see cref="NextIndex"/> belongs to (see <see cref="LiveNetwork.AccountKeyId"/>).</summary>
    public string AccountKeyId { get; set; } = "";

    /// <summary>The next index to hand out under the current key; only ever grows.</summary>
    public long NextIndex { get; set; }

    /// <summary>Cursors of account keys configured before, kept so that going back to one resumes where it stopped.</summary>
    public Dictionary<string, long> EarlierKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Addresses handed out by this pool, all keys together.</summary>
    public long Allocated { get; set; }
}

/// <summary>An address handed out by a pool: fresh, never handed out before under this account key.</summary>
public sealed record PooledAddress(string Network, string Address, long Index, string AccountKeyId);

/// <summary>The network is not configured and enabled for live invoices on this gateway.</summary>
public sealed class NetworkNotConfiguredException(string network)
    : InvalidOperationException($"The {network} network is not configured for live payments on this gateway.")
{
    public string Network { get; } = network;
}

/// <summary>
/// One per network and mode (<see cref="AddressPoolKeys.Of"/>): hands out receive indexes of the network's
/// account key in order, each once, never again, also across silo crashes (the cursor commits with the turn
/// that hands the index out). The turn does no elliptic-curve math: addresses come derived ahead from the
/// silo's <see cref="DerivedAddressCache"/>, which refills after the turn commits. An index handed out but never
/// shown (a lost race, a failed request) is simply skipped: wallets see a gap, never a reuse.
/// </summary>
[GrainType("address-pool")]
public interface IAddressPoolGrain : IGrainWithStringKey
{
    /// <exception cref="NetworkNotConfiguredException">The network is not configured (or the pool is not a live one).</exception>
    Task<PooledAddress> Allocate();

    Task<AddressPoolState> Get();
}

public sealed class AddressPoolGrain(LiveNetworks networks, DerivedAddressCache cache) : Grain<AddressPoolState>, IAddressPoolGrain
{
    public Task<PooledAddress> Allocate()
    {
        var (networkId, mode) = AddressPoolKeys.Parse(GetPrimaryKeyString());
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
                throw new InvalidOperationException($"Address pool {GetPrimaryKeyString()} has handed out every non-hardened index of its account key; configure a new account key.");
            }

            var index = (uint)State.NextIndex;
            State.NextIndex++;
            var address = cache.Get(network, index);
            if (address is null)
            {
                continue;
            }

            State.Allocated++;
            var next = (uint)State.NextIndex;
            AfterCommit(() => cache.EnsureAhead(network, next));
            return Task.FromResult(new PooledAddress(network.Id, address, index, network.AccountKeyId));
        }
    }

    public Task<AddressPoolState> Get() => Task.FromResult(State);

    /// <summary>A new account key starts at its own cursor (0, or where it stopped before); the old key's cursor is kept.</summary>
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
