using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using CryptoPay.Chains.Addresses;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Sandbox;

public sealed class SandboxChainOptions
{
    /// <summary>How often the sandbox chain mines a block while payments wait for one.</summary>
    public TimeSpan BlockInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>A simulated transaction output waiting for (or included in) a sandbox block.</summary>
[GenerateSerializer]
[Alias("cryptopay.sandbox-output")]
public sealed record SandboxOutput([property: Id(0)] string Txid, [property: Id(1)] int OutputIndex, [property: Id(2)] Guid InvoiceId, [property: Id(3)] string Address, [property: Id(4)] BigInteger AmountUnits);

[GenerateSerializer]
[Alias("cryptopay.sandbox-chain-state")]
public sealed record SandboxChainState
{
    [Id(0)]
    public long Height { get; set; }

    [Id(1)]
    public List<SandboxOutput> Mempool { get; set; } = [];

    [Id(2)]
    public long Transactions { get; set; }

    /// <summary>When the waiting payments are mined.</summary>
    [Id(3)]
    public DateTimeOffset? NextBlockAt { get; set; }
}

/// <summary>
/// The test-mode chain: payments enter its mempool and a periodic reminder mines a block, which
/// confirms them. It reports to invoices exactly as a real chain watcher will: payments by
/// (txid, output index) and confirmation counts.
/// </summary>
[Alias("cryptopay.sandbox-chain")]
public interface ISandboxChainGrain : IGrainWithStringKey, IWakeable
{
    /// <summary>Puts a payment in the mempool and tells the invoice; it is mined with the next block, <see cref="SandboxChainOptions.BlockInterval"/> after the first waiting payment.</summary>
    Task<SandboxOutput> Pay(Guid invoiceId, string address, BigInteger amountUnits);

    Task<long> GetHeight();
}

[GrainType("sandbox-chain")]
public sealed class SandboxChainGrain(
    [PersistentState("sandbox-chain")] IPersistentState<GrainRecord<SandboxChainState>> record,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    ILogger<SandboxChainGrain> logger,
    SandboxChainOptions options)
    : EffectGrain<SandboxChainState>(record, clock, logger), ISandboxChainGrain
{
    public const string Key = "sandbox";

    /// <summary>A deterministic, valid sandbox address per invoice and method (no key material: nothing can spend from it).</summary>
    public static string AddressFor(Guid invoiceId, string method)
    {
        var seed = SHA256.HashData(Encoding.UTF8.GetBytes($"{invoiceId:N}/{method}"));
        var publicKey = new byte[33];
        publicKey[0] = 0x02;
        seed.CopyTo(publicKey, 1);
        return SandboxAddress.FromPublicKey(publicKey);
    }

    protected override DateTimeOffset? DueAt => State.Mempool.Count > 0 ? State.NextBlockAt : null;

    public async Task<SandboxOutput> Pay(Guid invoiceId, string address, BigInteger amountUnits)
    {
        State.Transactions++;
        var txid = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{this.GetPrimaryKeyString()}/{State.Transactions}/{invoiceId:N}/{address}")));
        var output = new SandboxOutput(txid, 0, invoiceId, address, amountUnits);
        State.Mempool.Add(output);
        if (State.Mempool.Count == 1)
        {
            State.NextBlockAt = Now + options.BlockInterval;
        }

        Send(new ObservePayment(invoiceId, new PaymentObservation(address, txid, 0, amountUnits, 0)));
        await SaveAsync();
        return output;
    }

    public Task<long> GetHeight() => Task.FromResult(State.Height);

    /// <summary>Mines the block: every waiting payment gets its first confirmation.</summary>
    protected override async Task OnWakeAsync()
    {
        if (State.Mempool.Count == 0 || State.NextBlockAt > Now)
        {
            return;
        }

        State.Height++;
        foreach (var output in State.Mempool)
        {
            Send(new SetConfirmations(output.InvoiceId, output.Txid, output.OutputIndex, 1));
        }

        State.Mempool.Clear();
        State.NextBlockAt = null;
        await SaveAsync();
    }
}
