using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Sandbox;
using CryptoPay.Grains.Webhooks;
using CryptoPay.Runtime.Storage;
using CryptoPay.Runtime.Storage.Memory;
using CryptoPay.Runtime.Storage.Postgres;
using CryptoPay.Runtime.Testing;
using CryptoPay.TestSupport.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CryptoPay.Api.Tests.Webhooks;

public sealed class MemoryWebhookSiloFailureTests : WebhookSiloFailureTests
{
    protected override Task<IGrainStore> CreateStoreAsync() => Task.FromResult<IGrainStore>(new MemoryGrainStore());
}

[Collection("postgres")]
public sealed class PostgresWebhookSiloFailureTests(PostgresFixture postgres) : WebhookSiloFailureTests
{
    protected override async Task<IGrainStore> CreateStoreAsync()
    {
        var store = new PostgresGrainStore(NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync()), [InvoiceProjection.Migrations]);
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }
}

/// <summary>Deliveries survive silos dying between attempts and in the middle of one.</summary>
public abstract class WebhookSiloFailureTests : IAsyncLifetime
{
    private static readonly WebhookOptions Settings = new() { AllowPrivateTargets = true, Timeout = TimeSpan.FromSeconds(1) };
    private readonly ManualTimeProvider clock = new();
    private WebhookReceiver receiver = null!;
    private TestCluster cluster = null!;
    private WebhookSender sender = null!;

    protected abstract Task<IGrainStore> CreateStoreAsync();

    public async Task InitializeAsync()
    {
        receiver = await WebhookReceiver.StartAsync();
        var store = await CreateStoreAsync();
        sender = new WebhookSender(Options.Create(Settings), clock);
        cluster = await TestCluster.StartAsync(new TestClusterOptions
        {
            Silos = 2,
            Store = store,
            Clock = clock,
            Grains = r => r.AddCryptoPayGrains(),
            Services = s =>
            {
                s.AddSingleton(new SandboxChainOptions());
                s.AddSingleton(Settings);
                s.AddSingleton(sender);
            },
        });
    }

    public async Task DisposeAsync()
    {
        await cluster.DisposeAsync();
        await sender.DisposeAsync();
        await receiver.DisposeAsync();
    }

    [Fact]
    public async Task A_delivery_completes_from_another_silo_after_its_silo_dies_between_and_during_attempts()
    {
        var secondArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answerSecond = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Respond = async (context, before) =>
        {
            if (before == 1)
            {
                // Held until the test has killed the sending silo: the attempt is in flight when it dies.
                secondArrived.TrySetResult();
                await answerSecond.Task;
            }

            context.Response.StatusCode = before == 2 ? 200 : 500;
        };
        var merchant = Guid.NewGuid();
        var key = WebhookEndpointsGrain.KeyFor(merchant, Mode.Test);
        await cluster.FactoryOf(0).GetGrain<IWebhookEndpointsGrain>(key).Create(new WebhookEndpointDraft("we_1", receiver.Url(), [], null, WebhookSignature.GenerateSecret()));
        var invoice = new InvoiceState { Id = Guid.NewGuid(), Spec = new InvoiceSpec { MerchantId = merchant, Mode = Mode.Test, Currency = "USD" } };
        await cluster.FactoryOf(0).GetGrain<IWebhookEndpointsGrain>(key).PublishTest("evt_silo", new WebhookEventDraft(WebhookEventTypes.InvoiceCreated, 1, invoice));
        await cluster.RunUntilIdleAsync();
        await sender.WhenIdleAsync();
        Assert.Single(receiver.Received);

        // Between attempts: the silo that sent attempt 1 dies; the reminder fires on the other one.
        cluster.KillSilo(0);
        cluster.Clock!.Advance(TimeSpan.FromSeconds(5));
        await cluster.RunUntilIdleAsync();
        await secondArrived.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // During an attempt: that silo dies too before recording the result; the lease resends it.
        cluster.KillSilo(1);
        answerSecond.TrySetResult();
        await sender.WhenIdleAsync();
        await cluster.RestartSiloAsync(0);
        await cluster.AdvanceTimeAsync(Settings.AttemptLease);
        await sender.WhenIdleAsync();
        await cluster.RunUntilIdleAsync();

        Assert.Equal(3, receiver.Received.Count);
        Assert.Single(receiver.Received.Select(r => r.Id).Distinct());
        var delivery = await cluster.Client.GetGrain<IWebhookDeliveryGrain>(WebhookDeliveryGrain.KeyFor("evt_silo", "we_1")).Get();
        Assert.Equal(WebhookDeliveryStatus.Delivered, delivery!.Status);
        Assert.Equal(3, delivery.Attempts.Count);
        Assert.Equal(500, delivery.Attempts[0].HttpStatus);
        Assert.Contains("silo stopped", delivery.Attempts[1].Error, StringComparison.Ordinal);
        Assert.Equal(200, delivery.Attempts[2].HttpStatus);
    }

    [Fact]
    public async Task A_delivery_the_fan_out_created_without_a_message_is_sent_again_from_another_silo_when_its_silo_dies_during_the_first_attempt()
    {
        var firstArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answerFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Respond = async (context, before) =>
        {
            if (before == 0)
            {
                // Held until the test has killed the silo whose fan-out created the delivery: attempt 1 is in flight when it dies.
                firstArrived.TrySetResult();
                await answerFirst.Task;
            }

            context.Response.StatusCode = 200;
        };
        var merchant = Guid.NewGuid();
        var key = WebhookEndpointsGrain.KeyFor(merchant, Mode.Test);
        await cluster.FactoryOf(0).GetGrain<IWebhookEndpointsGrain>(key).Create(new WebhookEndpointDraft("we_1", receiver.Url(), [], null, WebhookSignature.GenerateSecret()));
        var invoice = new InvoiceState { Id = Guid.NewGuid(), Spec = new InvoiceSpec { MerchantId = merchant, Mode = Mode.Test, Currency = "USD" } };
        await cluster.FactoryOf(0).GetGrain<IWebhookEndpointsGrain>(key).PublishTest("evt_created", new WebhookEventDraft(WebhookEventTypes.InvoiceCreated, 1, invoice));
        await firstArrived.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The fan-out's turn stored the delivery already started, with its lease reminder, and sent no message for it.
        var deliveryId = new CryptoPay.Runtime.Grains.GrainId("webhook-delivery", WebhookDeliveryGrain.KeyFor("evt_created", "we_1"));
        var stored = await cluster.Store.ReadAsync(deliveryId, -1, CancellationToken.None);
        Assert.Equal(1, stored.Version);
        Assert.Equal([WebhookDeliveryGrain.AttemptReminder], (await cluster.Store.GetRemindersAsync(deliveryId, CancellationToken.None)).Select(r => r.Name));
        Assert.Equal(0, (await cluster.Store.GetBacklogAsync(clock.GetUtcNow(), CancellationToken.None)).PendingMessages);

        cluster.KillSilo(0);
        answerFirst.TrySetResult();
        await sender.WhenIdleAsync();
        await cluster.AdvanceTimeAsync(Settings.AttemptLease);
        await sender.WhenIdleAsync();
        await cluster.RunUntilIdleAsync();

        Assert.Equal(2, receiver.Received.Count);
        Assert.Equal(["evt_created"], receiver.Received.Select(r => r.Id).Distinct());
        var delivery = await cluster.FactoryOf(1).GetGrain<IWebhookDeliveryGrain>(WebhookDeliveryGrain.KeyFor("evt_created", "we_1")).Get();
        Assert.Equal(WebhookDeliveryStatus.Delivered, delivery!.Status);
        Assert.Equal(2, delivery.Attempts.Count);
        Assert.Contains("silo stopped", delivery.Attempts[0].Error, StringComparison.Ordinal);
        Assert.Equal(200, delivery.Attempts[1].HttpStatus);
    }
}
