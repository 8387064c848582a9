using System.Text;
using System.Text.RegularExpressions;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Storage;
using CryptoPay.Grains.Tests.Ledger;
using CryptoPay.Grains.Webhooks;
using CryptoPay.TestSupport.Postgres;
using Npgsql;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Tests.Invoices;

public sealed class MemoryInvoiceEventSnapshotTests : InvoiceEventSnapshotTests;

[Collection("postgres")]
public sealed class PostgresInvoiceEventSnapshotTests(PostgresFixture postgres) : InvoiceEventSnapshotTests
{
    protected override Task<NpgsqlDataSource?> CreateDataSourceAsync() => PostgresDataSourceAsync(postgres);
}

/// <summary>
/// An invoice's webhook events carry the invoice as their change left it. Written beside that very state, they store
/// it once (a new invoice's row is not twice its size); written again while still pending, they store it whole.
/// </summary>
public abstract class InvoiceEventSnapshotTests : LedgerClusterTests
{
    [Fact]
    public async Task Events_pending_across_writes_and_a_restart_are_delivered_with_the_invoice_as_each_change_left_it()
    {
        var merchant = Guid.NewGuid();
        var endpoints = Cluster.Grains.GetGrain<IWebhookEndpointsGrain>(WebhookEndpointsGrain.KeyFor(merchant, Mode.Test)).GetGrainId();
        Failures.Watch(endpoints);
        // The endpoints grain refuses the invoice.created events, and then again when the cancellation delivers them first.
        Failures.FailNext(endpoints, 2, afterApplying: false);
        var invoice = await CreateInvoiceAsync(merchant);
        var grain = Cluster.Grains.GetGrain<IInvoiceGrain>(invoice.Id);

        // Stored with the invoice it was written beside: the invoice is in the row once.
        var created = await StoredJsonAsync(invoice.Id);
        Assert.Equal(1, Count(created, "\"merchant_id\""));
        Assert.Equal(1, Count(created, "\"invoice_is_record_state\":true"));

        // The cancellation's write keeps the created events pending, now with their own copy of the pending invoice.
        await grain.Cancel();
        var cancelled = await StoredJsonAsync(invoice.Id);
        Assert.Equal(2, Count(cancelled, "\"merchant_id\""));
        Assert.Equal(1, Count(cancelled, "\"invoice_is_record_state\":true"));
        Assert.Empty(Failures.Answered(endpoints));

        // A new activation reads the record and delivers both, in order, each with its own invoice.
        await Cluster.DeactivateAllAsync();
        await Cluster.AdvanceTimeAsync(EffectGrain<InvoiceState>.RetryPeriod);
        var published = Failures.Answered(endpoints).Cast<PublishInvoiceEvents>().ToList();
        Assert.Equal(
            [(WebhookEventTypes.InvoiceCreated, InvoiceStatus.Pending), (WebhookEventTypes.InvoiceCancelled, InvoiceStatus.Cancelled)],
            published.Select(p => (string.Join(",", p.Batch.Types), p.Batch.Invoice.Status)).ToList());
        Assert.All(published, p => Assert.Equal((invoice.Id, invoice.Spec.MerchantId, false), (p.Batch.Invoice.Id, p.Batch.Invoice.Spec.MerchantId, p.Batch.InvoiceIsRecordState)));
        Assert.Equal(2, published[1].Batch.Invoice.Revision);

        // Delivered: recorded beside the row (InvoicePendingEffectsTests), which a later read takes into account.
        await Cluster.DeactivateAllAsync();
        await Cluster.AdvanceTimeAsync(EffectGrain<InvoiceState>.RetryPeriod);
        Assert.Equal(InvoiceStatus.Cancelled, (await grain.Get())!.Status);
        Assert.Equal(2, Failures.Answered(endpoints).Count);
    }

    /// <summary>The invoice's stored record as the store holds it, without white space.</summary>
    private async Task<string> StoredJsonAsync(Guid id) => Regex.Replace((await StoredInvoiceAsync(id)).Json, "\\s+", "");

    private static int Count(string text, string part) => Regex.Matches(text, Regex.Escape(part)).Count;
}
