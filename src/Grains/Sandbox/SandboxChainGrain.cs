using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using CryptoPay.Chains.Addresses;
using CryptoPay.Grains.Invoices;
using CryptoPay.Runtime.Grains;

namespace CryptoPay.Grains.Sandbox;

public sealed class SandboxChainOptions
{
    /// <summary>How often the sandbox chain mines a block while payments wait for one.</summary>
    public TimeSpan BlockInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>A simulated transaction output waiting for (or included in) a sandbox block.</summary>
public sealed record SandboxOutput(string Txid, int OutputIndex, Guid InvoiceId, string Address, BigInteger AmountUnits);

public sealed record SandboxChainState
{
    public long Height { get; set; }

    public List<SandboxOutput> Mempool { get; set; } = [];

    public long Transactions { get; set; }
}

/// <summary>
/// The test-mode chain: payments enter its mempool and a periodic reminder mines a block, which
/// confirms them. It reports to invoices exactly as a real chain watcher will: payments by
/// (txid, output index) and confirmation counts.
/// </summary>
[GrainType("sandbox-chain")]
public interface ISandboxChainGrain : IGrainWithStringKey
{
    /// <summary>Broadcasts a payment to an address; the next block confirms it.</summary>
    Task<SandboxOutput> Pay(Guid invoiceId, string address, BigInteger amountUnits);

    Task<long> GetHeight();
}

public sealed class SandboxChainGrain(SandboxChainOptions options) : Grain<SandboxChainState>, ISandboxChainGrain, IRemindable
{
    public const string Key = "sandbox";
    private const string MineReminder = "mine";

    /// <summary>A sandbox address for one payment method of an invoice: stable, unique, and valid for the sandbox network.</summary>
    public static string AddressFor(Guid invoiceId, string method)
    {
        var seed = SHA256.HashData(Encoding.UTF8.GetBytes($"{invoiceId:N}/{method}"));
        var publicKey = new byte[33];
        publicKey[0] = 0x02;
        seed.CopyTo(publicKey, 1);
        return SandboxAddress.FromPublicKey(publicKey);
    }

    public async Task<SandboxOutput> Pay(Guid invoiceId, string address, BigInteger amountUnits)
    {
        State.Transactions++;
        var txid = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{GetPrimaryKeyString()}/{State.Transactions}/{invoiceId:N}/{address}")));
        var output = new SandboxOutput(txid, 0, invoiceId, address, amountUnits);
        State.Mempool.Add(output);
        if (State.Mempool.Count == 1)
        {
            RegisterOrUpdateReminder(MineReminder, options.BlockInterval, options.BlockInterval);
        }

        await Send<IInvoiceGrain>(invoiceId).RecordPayment(new PaymentObservation(address, txid, 0, amountUnits, 0));
        return output;
    }

    public Task<long> GetHeight() => Task.FromResult(State.Height);

    public async Task ReceiveReminder(string reminderName, ReminderTick tick)
    {
        if (reminderName != MineReminder)
        {
            return;
        }

        State.Height++;
        foreach (var output in State.Mempool)
        {
            await Send<IInvoiceGrain>(output.InvoiceId).UpdateConfirmations(output.Txid, output.OutputIndex, 1);
        }

        State.Mempool.Clear();
        UnregisterReminder(MineReminder);
    }
}
