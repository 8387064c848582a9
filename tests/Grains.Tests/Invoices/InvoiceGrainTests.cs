using System.Numerics;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Idempotency;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Sandbox;
using CryptoPay.Grains.Tests.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace CryptoPay.Grains.Tests.Invoices;

public sealed class InvoiceGrainTests : IAsyncLifetime
{
    private static readonly TimeSpan Block = TimeSpan.FromSeconds(5);
    private GatewayCluster cluster = null!;

    public async Task InitializeAsync() => cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
    {
        Sandbox = new SandboxChainOptions { BlockInterval = Block },
    });

    public async Task DisposeAsync()
    {
        try
        {
            // Sandbox payments confirm and credit merchants: the ledger holds its invariants after every test.
            await cluster.RunDueWorkAsync();
            await LedgerInvariants.CheckAsync(cluster.Ledger);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    private InvoiceSpec Spec(Guid merchant, decimal allowedError = 0, string? orderId = null)
    {
        var now = cluster.Clock.GetUtcNow();
        var id = Guid.NewGuid();
        return new InvoiceSpec
        {
            MerchantId = merchant,
            Mode = Mode.Test,
            Amount = 100m,
            Currency = "USD",
            OrderId = orderId,
            CreatedAt = now,
            ExpiresAt = now.AddMinutes(30),
            AllowedErrorPercent = allowedError,
            AmountReporting = 100m,
            PaymentMethods =
            [
                new InvoicePaymentMethod
                {
                    Method = "usdt_sandbox", Network = "sandbox", Asset = "USDT", Decimals = 6, Amount = 100m,
                    AmountUnits = 100_000_000, Rate = 1m, RequiredConfirmations = 1, Address = SandboxChainGrain.AddressFor(id, "usdt_sandbox"),
                },
            ],
        };
    }

    private async Task<InvoiceState> CreateAsync(InvoiceSpec spec) =>
        await cluster.Grains.GetGrain<IInvoiceGrain>(Guid.NewGuid()).Create(spec);

    [Fact]
    public async Task A_sandbox_payment_confirms_after_the_next_block()
    {
        var invoice = await CreateAsync(Spec(Guid.NewGuid()));
        var method = invoice.PaymentMethods[0];
        await cluster.Grains.GetGrain<ISandboxChainGrain>(SandboxChainGrain.Key).Pay(invoice.Id, method.Address!, method.AmountUnits);
        await cluster.RunDueWorkAsync();

        var paid = (await cluster.Grains.GetGrain<IInvoiceGrain>(invoice.Id).Get())!;
        Assert.Equal(InvoiceStatus.Confirming, paid.Status);
        Assert.Equal(0, paid.PaymentMethods[0].Payments[0].Confirmations);

        await cluster.AdvanceTimeAsync(Block);
        var confirmed = (await cluster.Grains.GetGrain<IInvoiceGrain>(invoice.Id).Get())!;
        Assert.Equal(InvoiceStatus.Confirmed, confirmed.Status);
        Assert.Null(confirmed.Exception);
        Assert.Equal(PaymentStatus.Confirmed, confirmed.PaymentMethods[0].Payments[0].Status);
        Assert.Equal(1, await cluster.Grains.GetGrain<ISandboxChainGrain>(SandboxChainGrain.Key).GetHeight());
    }

    [Fact]
    public async Task An_unpaid_invoice_expires_and_an_underpaid_one_becomes_paid_partial_then_paid_late()
    {
        var unpaid = await CreateAsync(Spec(Guid.NewGuid()));
        var underpaid = await CreateAsync(Spec(Guid.NewGuid()));
        var chain = cluster.Grains.GetGrain<ISandboxChainGrain>(SandboxChainGrain.Key);
        var method = underpaid.PaymentMethods[0];
        await chain.Pay(underpaid.Id, method.Address!, method.AmountUnits / 2);
        await cluster.AdvanceTimeAsync(TimeSpan.FromMinutes(29));
        Assert.Equal(InvoiceStatus.Pending, (await cluster.Grains.GetGrain<IInvoiceGrain>(unpaid.Id).Get())!.Status);

        await cluster.AdvanceTimeAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(InvoiceStatus.Expired, (await cluster.Grains.GetGrain<IInvoiceGrain>(unpaid.Id).Get())!.Status);
        var partial = (await cluster.Grains.GetGrain<IInvoiceGrain>(underpaid.Id).Get())!;
        Assert.Equal(InvoiceStatus.PaidPartial, partial.Status);
        Assert.Equal(InvoiceException.Underpaid, partial.Exception);

        await chain.Pay(underpaid.Id, method.Address!, method.AmountUnits / 2);
        await cluster.AdvanceTimeAsync(Block);
        var late = (await cluster.Grains.GetGrain<IInvoiceGrain>(underpaid.Id).Get())!;
        Assert.Equal(InvoiceStatus.Confirmed, late.Status);
        Assert.Equal(InvoiceException.PaidLate, late.Exception);
        Assert.Equal(method.AmountUnits, late.PaymentMethods[0].PaidUnits);
    }

    [Fact]
    public async Task A_chain_report_delivered_twice_is_applied_once_and_a_stale_removal_does_not_undo_a_newer_payment()
    {
        // The runtime delivered each chain message once; on Orleans a sender may deliver an effect again, and the
        // invoice recognises it by its sender and number.
        var invoice = await CreateAsync(Spec(Guid.NewGuid()));
        var grain = cluster.Grains.GetGrain<IInvoiceGrain>(invoice.Id);
        var address = invoice.PaymentMethods[0].Address!;
        var observed = new ObservePayment(invoice.Id, new PaymentObservation(address, "aa01", 0, 40_000_000, 0)) { Sender = "test/chain", Sequence = 1 };
        await grain.Observe(observed);
        await grain.Observe(observed);
        Assert.Equal(new BigInteger(40_000_000), (await grain.Get())!.PaymentMethods[0].PaidUnits);

        var removal = new RemovePaymentEffect(invoice.Id, "aa01", 0) { Sender = "test/chain", Sequence = 2 };
        await grain.Remove(removal);
        Assert.Empty((await grain.Get())!.PaymentMethods[0].Payments);

        await grain.Observe(observed with { Sequence = 3 });
        await grain.Remove(removal);
        var after = (await grain.Get())!;
        Assert.Equal(("aa01", new BigInteger(40_000_000)), (Assert.Single(after.PaymentMethods[0].Payments).Txid, after.PaymentMethods[0].PaidUnits));
    }

    [Fact]
    public async Task Tolerance_accepts_an_underpayment_and_overpayment_is_flagged()
    {
        var tolerant = await CreateAsync(Spec(Guid.NewGuid(), allowedError: 1));
        var over = await CreateAsync(Spec(Guid.NewGuid()));
        var chain = cluster.Grains.GetGrain<ISandboxChainGrain>(SandboxChainGrain.Key);
        await chain.Pay(tolerant.Id, tolerant.PaymentMethods[0].Address!, 99_000_000);
        await chain.Pay(over.Id, over.PaymentMethods[0].Address!, 100_000_001);
        await cluster.AdvanceTimeAsync(Block);

        var a = (await cluster.Grains.GetGrain<IInvoiceGrain>(tolerant.Id).Get())!;
        var b = (await cluster.Grains.GetGrain<IInvoiceGrain>(over.Id).Get())!;
        Assert.Equal((InvoiceStatus.Confirmed, InvoiceException.Underpaid), (a.Status, a.Exception!.Value));
        Assert.Equal((InvoiceStatus.Confirmed, InvoiceException.Overpaid), (b.Status, b.Exception!.Value));
    }

    [Fact]
    public async Task Cancel_only_while_unpaid_and_marking_is_final()
    {
        var paid = await CreateAsync(Spec(Guid.NewGuid()));
        await cluster.Grains.GetGrain<ISandboxChainGrain>(SandboxChainGrain.Key).Pay(paid.Id, paid.PaymentMethods[0].Address!, 1);
        await cluster.RunDueWorkAsync();
        await Assert.ThrowsAsync<InvalidInvoiceTransitionException>(() => cluster.Grains.GetGrain<IInvoiceGrain>(paid.Id).Cancel());

        var marked = await cluster.Grains.GetGrain<IInvoiceGrain>(paid.Id).Mark(InvoiceStatus.Confirmed, "paid by wire");
        Assert.Equal((InvoiceStatus.Confirmed, InvoiceException.Marked, "paid by wire"), (marked.Status, marked.Exception!.Value, marked.Comment));
        await Assert.ThrowsAsync<InvalidInvoiceTransitionException>(() => cluster.Grains.GetGrain<IInvoiceGrain>(paid.Id).Mark(InvoiceStatus.Cancelled, null));

        var unpaid = await CreateAsync(Spec(Guid.NewGuid()));
        Assert.Equal(InvoiceStatus.Cancelled, (await cluster.Grains.GetGrain<IInvoiceGrain>(unpaid.Id).Cancel()).Status);
        await cluster.AdvanceTimeAsync(TimeSpan.FromHours(1));
        Assert.Equal(InvoiceStatus.Cancelled, (await cluster.Grains.GetGrain<IInvoiceGrain>(unpaid.Id).Get())!.Status);
    }

    [Fact]
    public async Task An_order_id_is_reserved_by_exactly_one_of_many_racing_invoices()
    {
        var merchant = Guid.NewGuid();
        var spec = Spec(merchant, orderId: "order-1");
        var key = OrderIndexGrain.KeyOf(merchant, Mode.Test, "order-1");
        var candidates = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid()).ToList();
        // The old runtime raced two silos; Orleans keeps one activation of the index cluster-wide, so the race is between calls.
        var winners = await Task.WhenAll(candidates.Select(id => cluster.Grains.GetGrain<IOrderIndexGrain>(key).Reserve(id, spec)));
        await cluster.RunDueWorkAsync();

        Assert.Single(winners.Distinct());
        var invoices = cluster.Services.GetRequiredService<IInvoiceQuery>();
        var page = await invoices.ListAsync(new InvoiceFilter { MerchantId = merchant, Mode = Mode.Test }, CancellationToken.None);
        Assert.Equal(winners[0], Assert.Single(page.Items).Id);
        Assert.Empty((await invoices.ListAsync(new InvoiceFilter { MerchantId = merchant, Mode = Mode.Live }, CancellationToken.None)).Items);
    }

    [Fact]
    public async Task Creating_an_invoice_again_returns_it_for_the_same_request_and_refuses_another_request()
    {
        var id = CryptoPay.Grains.Hosting.DerivedIds.ForIdempotencyKey(InvoiceIds.Kind, Guid.NewGuid(), Mode.Test, "k", 0);
        var spec = Spec(Guid.NewGuid()) with { RequestFingerprint = "fp-1" };
        var invoice = cluster.Grains.GetGrain<IInvoiceGrain>(id);

        var first = await invoice.Create(spec);
        var again = await invoice.Create(spec with { CreatedAt = spec.CreatedAt.AddSeconds(5) });

        Assert.Equal((first.Id, first.Spec.CreatedAt), (again.Id, again.Spec.CreatedAt));
        await Assert.ThrowsAsync<IdempotencyKeyReusedException>(() => invoice.Create(spec with { RequestFingerprint = "fp-2", Amount = 99m }));
    }

    [Fact]
    public async Task An_invoice_keeps_no_reminder_its_wake_time_is_stored_with_it()
    {
        var created = await CreateAsync(Spec(Guid.NewGuid()));
        var invoices = cluster.Services.GetRequiredService<IInvoiceQuery>();
        var now = cluster.Clock.GetUtcNow();

        await cluster.Grains.GetGrain<IInvoiceWakeSweeperGrain>(InvoiceWakeSweeperGrain.Key).Start();
        var reminders = cluster.Services.GetRequiredService<Orleans.IReminderTable>();
        var rows = (await reminders.ReadRows(0, uint.MaxValue)).Reminders.Concat((await reminders.ReadRows(uint.MaxValue, 0)).Reminders);
        Assert.DoesNotContain(rows, r => r.GrainId.Type.ToString() == InvoiceProjection.GrainType);
        // Its invoice.created event was delivered as it was created: it is next due at its expiry (InvoicePendingEffectsTests).
        Assert.DoesNotContain(created.Id, (await invoices.DueAsync(created.Spec.ExpiresAt.AddTicks(-1), 100, CancellationToken.None)).Select(d => d.Id));
        Assert.Contains(created.Id, (await invoices.DueAsync(created.Spec.ExpiresAt, 100, CancellationToken.None)).Select(d => d.Id));
        Assert.True(created.Spec.ExpiresAt > now + EffectGrain<InvoiceState>.RetryPeriod);
    }

    [Fact]
    public async Task An_invoice_whose_activation_is_gone_is_stored_expired_by_the_sweep_once_due()
    {
        var merchant = Guid.NewGuid();
        var created = await CreateAsync(Spec(merchant));
        var sweeper = cluster.Grains.GetGrain<IInvoiceWakeSweeperGrain>(InvoiceWakeSweeperGrain.Key);
        await cluster.DeactivateAllAsync();

        cluster.Clock.Advance(created.Spec.ExpiresAt - cluster.Clock.GetUtcNow() - TimeSpan.FromSeconds(1));
        await sweeper.Sweep();
        Assert.Equal(InvoiceStatus.Pending, (await StoredAsync(merchant)).Status);

        cluster.Clock.Advance(TimeSpan.FromSeconds(1));
        await sweeper.Sweep();
        Assert.Equal(InvoiceStatus.Expired, (await StoredAsync(merchant)).Status);
        var invoices = cluster.Services.GetRequiredService<IInvoiceQuery>();
        // The invoice.expired event's retry time, then nothing: a final invoice has no wake time.
        cluster.Clock.Advance(EffectGrain<InvoiceState>.RetryPeriod);
        await sweeper.Sweep();
        Assert.DoesNotContain(created.Id, (await invoices.DueAsync(null, 1_000, CancellationToken.None)).Select(d => d.Id));
    }

    [Fact]
    public async Task The_sweeper_started_with_the_silo_expires_due_invoices_on_its_own()
    {
        var merchant = Guid.NewGuid();
        var created = await CreateAsync(Spec(merchant));
        // Started by the silo: its reminder brings it back wherever it was when its silo is gone.
        var reminders = cluster.Services.GetRequiredService<Orleans.IReminderTable>();
        var rows = (await reminders.ReadRows(0, uint.MaxValue)).Reminders.Concat((await reminders.ReadRows(uint.MaxValue, 0)).Reminders);
        Assert.Contains(rows, r => r.GrainId.Type.ToString() == "invoice-wake-sweeper" && r.ReminderName == InvoiceWakeSweeperGrain.ReminderName);
        cluster.Clock.Advance(created.Spec.ExpiresAt - cluster.Clock.GetUtcNow());

        // Nobody calls Sweep: the sweeper's timer (every InvoiceWakeSweeperGrain.Period of real time) finds the invoice.
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(60);
        while ((await StoredAsync(merchant)).Status != InvoiceStatus.Expired)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "The invoice was not stored expired within 60 s of real time.");
            await Task.Delay(InvoiceWakeSweeperGrain.Period / 4);
        }
    }

    [Fact]
    public async Task A_sweeper_orleans_collected_as_idle_comes_back_at_once_and_expires_due_invoices()
    {
        var merchant = Guid.NewGuid();
        var created = await CreateAsync(Spec(merchant));
        await cluster.Grains.GetGrain<IInvoiceWakeSweeperGrain>(InvoiceWakeSweeperGrain.Key).Start();
        var management = cluster.Grains.GetGrain<Orleans.Runtime.IManagementGrain>(0);

        // Every idle activation goes, the sweeper between two ticks with them (a forced collection, memory pressure).
        await management.ForceActivationCollection(TimeSpan.Zero);
        cluster.Clock.Advance(created.Spec.ExpiresAt - cluster.Clock.GetUtcNow());

        // Back on a new activation at once, not at its reminder's next tick a minute later.
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(15);
        while ((await StoredAsync(merchant)).Status != InvoiceStatus.Expired)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "The invoice was not stored expired within 15 s of real time after the sweeper was collected.");
            await Task.Delay(InvoiceWakeSweeperGrain.Period / 4);
        }
    }

    /// <summary>The merchant's one invoice as stored (the list reads the store; a grain read would apply AsOf).</summary>
    private async Task<InvoiceState> StoredAsync(Guid merchant) =>
        Assert.Single((await cluster.Services.GetRequiredService<IInvoiceQuery>().ListAsync(new InvoiceFilter { MerchantId = merchant, Mode = Mode.Test }, CancellationToken.None)).Items);

    [Fact]
    public void Amounts_convert_exactly_between_decimals_and_units()
    {
        Assert.Equal(BigInteger.Parse("1500000000000000000", System.Globalization.CultureInfo.InvariantCulture), Amounts.ToUnits(1.5m, 18));
        Assert.Equal(0.00000001m, Amounts.FromUnits(1, 8));
        Assert.Equal(2, Amounts.Scale(1.50m + 0.01m));
        Assert.Equal(0, Amounts.Scale(100.00m));
        Assert.Equal(0.00153211m, Amounts.RoundUp(0.001532101m, 8));
    }
}
