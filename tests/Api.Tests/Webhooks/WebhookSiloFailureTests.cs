using CryptoPay.ClusterSupport;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Webhooks;
using CryptoPay.TestSupport.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Api.Tests.Webhooks;

/// <summary>
/// Deliveries survive silos dying between attempts and in the middle of one: two silos on PostgreSQL (silos of the
/// embedded default share no store, so a dead one takes everything with it), one webhook sender for both.
/// </summary>
[Collection("postgres")]
public sealed class WebhookSiloFailureTests(PostgresFixture postgres) : IAsyncLifetime
{
    // Long enough that an attempt the receiver holds is still in flight while the test kills its silo.
    private static readonly WebhookOptions Settings = new() { AllowPrivateTargets = true, Timeout = TimeSpan.FromSeconds(20) };
    private WebhookReceiver receiver = null!;
    private GatewayGrainCluster cluster = null!;
    private WebhookSender sender = null!;

    public async Task InitializeAsync()
    {
        receiver = await WebhookReceiver.StartAsync();
        var database = await postgres.CreateDatabaseAsync();
        // One sender for both silos, as the old test had: the silo that handed it an attempt may die meanwhile.
        sender = new WebhookSender(Options.Create(Settings), TimeProvider.System);
        cluster = await GatewayGrainCluster.StartAsync(database, new GatewayGrainClusterOptions
        {
            Services = s => s.AddSingleton(Settings).AddSingleton(sender),
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
        await PublishAsync("evt_silo");
        await sender.WhenIdleAsync();
        Assert.Single(receiver.Received);
        var delivery = cluster.Grains.GetGrain<IWebhookDeliveryGrain>(WebhookDeliveryGrain.KeyFor("evt_silo", "we_1"));

        // Between attempts: the silo holding the delivery dies; the retry runs on the other one.
        await KillSiloOfAsync(delivery);
        cluster.Clock.Advance(TimeSpan.FromSeconds(5));
        await WakeUntilAsync(() => secondArrived.Task.IsCompleted);

        // During an attempt: a new silo joins, then the silo sending the attempt dies before recording its result; the
        // lease resends it from the new silo.
        await cluster.Cluster.StartAdditionalSiloAsync();
        await KillSiloOfAsync(delivery);
        answerSecond.TrySetResult();
        await sender.WhenIdleAsync();
        cluster.Clock.Advance(Settings.AttemptLease);
        await WakeUntilAsync(() => receiver.Received.Count == 3);
        await sender.WhenIdleAsync();

        Assert.Equal(3, receiver.Received.Count);
        Assert.Single(receiver.Received.Select(r => r.Id).Distinct());
        var state = await cluster.SiloGrains.GetGrain<IWebhookDeliveryGrain>(delivery.GetPrimaryKeyString()).Get();
        Assert.Equal(WebhookDeliveryStatus.Delivered, state!.Status);
        Assert.Equal(3, state.Attempts.Count);
        Assert.Equal(500, state.Attempts[0].HttpStatus);
        Assert.Contains("silo stopped", state.Attempts[1].Error, StringComparison.Ordinal);
        Assert.Equal(200, state.Attempts[2].HttpStatus);
    }

    [Fact]
    public async Task A_delivery_is_sent_again_from_another_silo_when_its_silo_dies_during_the_first_attempt()
    {
        var firstArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answerFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Respond = async (context, before) =>
        {
            if (before == 0)
            {
                // Held until the test has killed the silo holding the delivery: attempt 1 is in flight when it dies.
                firstArrived.TrySetResult();
                await answerFirst.Task;
            }

            context.Response.StatusCode = 200;
        };
        await PublishAsync("evt_created");
        await firstArrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var delivery = cluster.Grains.GetGrain<IWebhookDeliveryGrain>(WebhookDeliveryGrain.KeyFor("evt_created", "we_1"));

        // The delivery was stored with its first attempt in flight before the POST, so its lease outlives its silo.
        await KillSiloOfAsync(delivery);
        answerFirst.TrySetResult();
        await sender.WhenIdleAsync();
        cluster.Clock.Advance(Settings.AttemptLease);
        await WakeUntilAsync(() => receiver.Received.Count == 2);
        await sender.WhenIdleAsync();

        Assert.Equal(2, receiver.Received.Count);
        Assert.Equal(["evt_created"], receiver.Received.Select(r => r.Id).Distinct());
        var state = await cluster.SiloGrains.GetGrain<IWebhookDeliveryGrain>(delivery.GetPrimaryKeyString()).Get();
        Assert.Equal(WebhookDeliveryStatus.Delivered, state!.Status);
        Assert.Equal(2, state.Attempts.Count);
        Assert.Contains("silo stopped", state.Attempts[0].Error, StringComparison.Ordinal);
        Assert.Equal(200, state.Attempts[1].HttpStatus);
    }

    private async Task PublishAsync(string eventId)
    {
        var merchant = Guid.NewGuid();
        var key = WebhookEndpointsGrain.KeyFor(merchant, Mode.Test);
        var endpoints = cluster.Grains.GetGrain<IWebhookEndpointsGrain>(key);
        await endpoints.Create(new WebhookEndpointDraft("we_1", receiver.Url(), [], null, WebhookSignature.GenerateSecret()));
        var invoice = new InvoiceState { Id = Guid.NewGuid(), Spec = new InvoiceSpec { MerchantId = merchant, Mode = Mode.Test, Currency = "USD" } };
        await endpoints.PublishTest(eventId, new WebhookEventDraft(WebhookEventTypes.InvoiceCreated, 1, invoice));
    }

    /// <summary>Kills (no graceful stop) the silo the delivery grain is active on, and waits until a survivor's membership has declared it dead.</summary>
    private async Task KillSiloOfAsync(IWebhookDeliveryGrain delivery)
    {
        var address = await cluster.SiloGrains.GetGrain<IManagementGrain>(0).GetActivationAddress(delivery);
        var silo = cluster.Cluster.Silos.Single(s => s.SiloAddress.Equals(address));
        await cluster.Cluster.KillSiloAsync(silo);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await foreach (var snapshot in cluster.SiloServices.GetRequiredService<IClusterMembershipService>().MembershipUpdates.WithCancellation(timeout.Token))
        {
            if (snapshot.GetSiloStatus(address!) == SiloStatus.Dead)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Runs due work until <paramref name="done"/>, waiting after each round for the receiver's next request (the resent
    /// attempt), not for a fixed time; a round can find nothing due yet when the sender is still holding an attempt.
    /// </summary>
    private async Task WakeUntilAsync(Func<bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, "The delivery was not resumed on a surviving silo within 60 s.");
            var arrival = receiver.NextArrivalAsync();
            // Not waiting for the sender: the receiver may be holding the attempt this waits for.
            await cluster.WakeDueAsync();
            await Task.WhenAny(arrival, Task.Delay(TimeSpan.FromSeconds(2)));
        }
    }
}
