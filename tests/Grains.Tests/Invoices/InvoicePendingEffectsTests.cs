using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Storage;
using CryptoPay.Grains.Tests.Ledger;
using CryptoPay.Grains.Webhooks;
using CryptoPay.TestSupport.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Tests.Invoices;

public sealed class MemoryInvoicePendingEffectsTests : InvoicePendingEffectsTests;

[Collection("postgres")]
public sealed class PostgresInvoicePendingEffectsTests(PostgresFixture postgres) : InvoicePendingEffectsTests
{
    protected override Task<NpgsqlDataSource?> CreateDataSourceAsync() => PostgresDataSourceAsync(postgres);
}

/// <summary>
/// An invoice is written once per change: the delivery of the effects written with it (its webhook events, its ledger
/// changes) deletes a small row of <c>invoice_pending_effects</c> instead of writing the invoice again, and effects not
/// delivered are retried from that row by the wake sweep, after a restart too, and then forgotten the same way.
/// </summary>
public abstract class InvoicePendingEffectsTests : LedgerClusterTests
{
    private static readonly TimeSpan Retry = EffectGrain<InvoiceState>.RetryPeriod;

    [Fact]
    public async Task Events_delivered_at_creation_leave_the_invoice_written_once_and_due_only_at_its_expiry()
    {
        var merchant = Guid.NewGuid();
        var endpoints = EndpointsOf(merchant);
        Failures.Watch(endpoints);
        var invoice = await CreateInvoiceAsync(merchant);
        await WhenDeliveryRecordedAsync(invoice.Id);

        var invoices = Cluster.Services.GetRequiredService<IInvoiceQuery>();
        Assert.DoesNotContain(invoice.Id, (await invoices.DueAsync(invoice.Spec.ExpiresAt.AddTicks(-1), 100, CancellationToken.None)).Select(d => d.Id));
        Assert.Contains(invoice.Id, (await invoices.DueAsync(invoice.Spec.ExpiresAt, 100, CancellationToken.None)).Select(d => d.Id));

        // A retry period on, and read again after a restart, it sends nothing again and is not written again.
        await Cluster.AdvanceTimeAsync(Retry);
        await Cluster.DeactivateAllAsync();
        Assert.Equal(InvoiceStatus.Pending, (await Cluster.Grains.GetGrain<IInvoiceGrain>(invoice.Id).Get())!.Status);
        await Cluster.AdvanceTimeAsync(Retry);
        Assert.Single(Failures.Answered(endpoints));
        Assert.Equal(1, await StoredVersionAsync(invoice.Id));
    }

    [Fact]
    public async Task Events_refused_at_creation_are_retried_by_the_sweep_after_a_restart_and_then_forgotten()
    {
        var merchant = Guid.NewGuid();
        var endpoints = EndpointsOf(merchant);
        Failures.Watch(endpoints);
        Failures.FailNext(endpoints, 1, afterApplying: false);
        var invoice = await CreateInvoiceAsync(merchant);

        Assert.Equal((1L, Cluster.Clock.GetUtcNow() + Retry), await PendingAsync(invoice.Id));
        var invoices = Cluster.Services.GetRequiredService<IInvoiceQuery>();
        Assert.DoesNotContain(invoice.Id, (await invoices.DueAsync(Cluster.Clock.GetUtcNow() + Retry - TimeSpan.FromTicks(1), 100, CancellationToken.None)).Select(d => d.Id));
        Assert.Contains(invoice.Id, (await invoices.DueAsync(Cluster.Clock.GetUtcNow() + Retry, 100, CancellationToken.None)).Select(d => d.Id));
        Assert.Empty(Failures.Answered(endpoints));

        await Cluster.DeactivateAllAsync();
        await Cluster.Grains.GetGrain<IInvoiceWakeSweeperGrain>(InvoiceWakeSweeperGrain.Key).Sweep();
        Assert.Empty(Failures.Answered(endpoints));
        Cluster.Clock.Advance(Retry);
        await Cluster.Grains.GetGrain<IInvoiceWakeSweeperGrain>(InvoiceWakeSweeperGrain.Key).Sweep();

        var published = Assert.IsType<PublishInvoiceEvents>(Assert.Single(Failures.Answered(endpoints)));
        Assert.Equal([WebhookEventTypes.InvoiceCreated], published.Batch.Types);
        Assert.Equal(invoice.Id, published.Batch.Invoice.Id);
        await WhenDeliveryRecordedAsync(invoice.Id);
        // Recorded by deleting its pending row: the invoice itself is still the row its creation wrote.
        Assert.Equal(1, await StoredVersionAsync(invoice.Id));

        await Cluster.DeactivateAllAsync();
        await Cluster.AdvanceTimeAsync(Retry);
        Assert.Equal(InvoiceStatus.Pending, (await Cluster.Grains.GetGrain<IInvoiceGrain>(invoice.Id).Get())!.Status);
        Assert.Single(Failures.Answered(endpoints));
    }

    [Fact]
    public async Task Events_refused_again_are_retried_a_period_later_each_time_not_at_every_sweep()
    {
        var merchant = Guid.NewGuid();
        var endpoints = EndpointsOf(merchant);
        Failures.Watch(endpoints);
        Failures.FailNext(endpoints, 2, afterApplying: false);
        var invoice = await CreateInvoiceAsync(merchant);
        var sweeper = Cluster.Grains.GetGrain<IInvoiceWakeSweeperGrain>(InvoiceWakeSweeperGrain.Key);

        Cluster.Clock.Advance(Retry);
        Assert.Equal(1, await sweeper.Sweep());
        // Refused again: written back with its next retry time, so the next sweeps leave it alone until then.
        Assert.Equal((2L, Cluster.Clock.GetUtcNow() + Retry), await PendingAsync(invoice.Id));
        Assert.Equal(0, await sweeper.Sweep());

        Cluster.Clock.Advance(Retry);
        Assert.Equal(1, await sweeper.Sweep());
        Assert.Single(Failures.Answered(endpoints));
        await WhenDeliveryRecordedAsync(invoice.Id);
        Assert.Equal(2, await StoredVersionAsync(invoice.Id));
    }

    private GrainId EndpointsOf(Guid merchant) =>
        Cluster.Grains.GetGrain<IWebhookEndpointsGrain>(WebhookEndpointsGrain.KeyFor(merchant, Mode.Test)).GetGrainId();

    /// <summary>The invoice's pending-effects row (its version and retry time), or null.</summary>
    private async Task<(long Version, DateTimeOffset RetryAt)?> PendingAsync(Guid id)
    {
        if (Cluster.Storage is MemoryProjectedGrainStorage memory)
        {
            var row = memory.PendingEffects(InvoiceProjection.PendingEffectsTable).Where(p => p.Key == InvoiceKey(id)).ToList();
            var version = memory.Row(InvoiceProjection.Table, InvoiceKey(id))!.Version;
            return row.Count == 0 ? null : (version, row[0].RetryAt);
        }

        await using var command = Postgres.CreateCommand($"SELECT version, retry_at FROM {InvoiceProjection.PendingEffectsTable} WHERE grain_key = $1");
        command.Parameters.AddWithValue(InvoiceKey(id));
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1)) : null;
    }

    private async Task<long> StoredVersionAsync(Guid id) => (await StoredInvoiceAsync(id)).Version;

    /// <summary>Waits until the invoice's pending row is gone: its deletion is not awaited by the call that delivered the effects.</summary>
    private async Task WhenDeliveryRecordedAsync(Guid id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await PendingAsync(id) is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, "The invoice's pending-effects row was not deleted within 10 s of the delivery.");
            await Task.Delay(20);
        }
    }

    private NpgsqlDataSource Postgres => ((PostgresProjectedGrainStorage)Cluster.Storage).DataSource;
}
