using System.Numerics;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Sandbox;
using CryptoPay.TestSupport.Postgres;
using Npgsql;

namespace CryptoPay.Grains.Tests.Ledger;

public sealed class MemoryInvoiceCreditTests : InvoiceCreditTests;

[Collection("postgres")]
public sealed class PostgresInvoiceCreditTests(PostgresFixture postgres) : InvoiceCreditTests
{
    protected override Task<NpgsqlDataSource?> CreateDataSourceAsync() => PostgresDataSourceAsync(postgres);
}

/// <summary>Invoices credit their merchant's balance from the turn that confirms them, once per counted output.</summary>
public abstract class InvoiceCreditTests : LedgerClusterTests
{
    private Task<MerchantBalanceState> BalanceAsync(Guid merchant) =>
        Cluster.Grains.GetGrain<IMerchantBalanceGrain>(LedgerKeys.Balance(merchant, Mode.Test, "USDT-SANDBOX")).Get();

    private async Task PayAsync(InvoiceState invoice, BigInteger units) =>
        await Cluster.Grains.GetGrain<ISandboxChainGrain>(SandboxChainGrain.Key).Pay(invoice.Id, invoice.PaymentMethods[0].Address!, units);

    [Fact]
    public async Task A_confirmed_invoice_credits_each_output_once_and_a_late_payment_once_it_confirms()
    {
        var merchant = Guid.NewGuid();
        var invoice = await CreateInvoiceAsync(merchant);
        await PayAsync(invoice, 40_000_000);
        await PayAsync(invoice, 60_000_000);
        await Cluster.RunDueWorkAsync();
        Assert.Equal(BigInteger.Zero, (await BalanceAsync(merchant)).Available);

        await Cluster.AdvanceTimeAsync(Block);
        var confirmed = (await Cluster.Grains.GetGrain<IInvoiceGrain>(invoice.Id).Get())!;
        Assert.Equal(InvoiceStatus.Confirmed, confirmed.Status);
        var balance = await BalanceAsync(merchant);
        Assert.Equal((new BigInteger(97_500_000), 2L), (balance.Available, balance.MovementCount));

        // The chain reports more confirmations, and the same report is delivered twice: nothing more is credited.
        foreach (var payment in confirmed.PaymentMethods[0].Payments)
        {
            var report = Direct(new SetConfirmations(invoice.Id, payment.Txid, payment.OutputIndex, 2));
            await Cluster.Grains.GetGrain<IInvoiceGrain>(invoice.Id).Confirm(report);
            await Cluster.Grains.GetGrain<IInvoiceGrain>(invoice.Id).Confirm(report);
        }

        await Cluster.RunDueWorkAsync();
        Assert.Equal(2L, (await BalanceAsync(merchant)).MovementCount);

        var late = await CreateInvoiceAsync(merchant);
        await Cluster.AdvanceTimeAsync(TimeSpan.FromMinutes(31));
        await PayAsync(late, 100_000_000);
        await Cluster.AdvanceTimeAsync(Block);
        var paidLate = (await Cluster.Grains.GetGrain<IInvoiceGrain>(late.Id).Get())!;
        Assert.Equal((InvoiceStatus.Confirmed, InvoiceException.PaidLate), (paidLate.Status, paidLate.Exception));
        Assert.Equal(new BigInteger(97_500_000 * 2), (await BalanceAsync(merchant)).Available);
    }

    [Fact]
    public async Task An_underpayment_is_credited_when_the_invoice_expires_and_a_late_partial_payment_when_it_confirms()
    {
        var merchant = Guid.NewGuid();
        var invoice = await CreateInvoiceAsync(merchant);
        await PayAsync(invoice, 40_000_000);
        await Cluster.AdvanceTimeAsync(Block);
        // Confirmed on chain, but the invoice still waits for the rest: held back, shown as pending.
        var waiting = await BalanceAsync(merchant);
        Assert.Equal((BigInteger.Zero, new BigInteger(40_000_000)), (waiting.Available, waiting.Pending));

        await Cluster.AdvanceTimeAsync(TimeSpan.FromMinutes(30));
        var partial = (await Cluster.Grains.GetGrain<IInvoiceGrain>(invoice.Id).Get())!;
        Assert.Equal((InvoiceStatus.PaidPartial, InvoiceException.Underpaid), (partial.Status, partial.Exception));
        var afterExpiry = await BalanceAsync(merchant);
        Assert.Equal((new BigInteger(39_000_000), BigInteger.Zero), (afterExpiry.Available, afterExpiry.Pending));

        // An unpaid invoice that expired and then receives too little becomes paid_partial, and that money is credited too.
        var expired = await CreateInvoiceAsync(merchant);
        await Cluster.AdvanceTimeAsync(TimeSpan.FromMinutes(31));
        Assert.Equal(InvoiceStatus.Expired, (await Cluster.Grains.GetGrain<IInvoiceGrain>(expired.Id).Get())!.Status);
        await PayAsync(expired, 10_000_000);
        await Cluster.AdvanceTimeAsync(Block);
        var latePartial = (await Cluster.Grains.GetGrain<IInvoiceGrain>(expired.Id).Get())!;
        Assert.Equal((InvoiceStatus.PaidPartial, InvoiceException.PaidLate), (latePartial.Status, latePartial.Exception));
        Assert.Equal(new BigInteger(39_000_000 + 9_750_000), (await BalanceAsync(merchant)).Available);
    }
}
