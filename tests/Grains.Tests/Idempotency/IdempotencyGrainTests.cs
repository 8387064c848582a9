using CryptoPay.Grains.Idempotency;
using CryptoPay.Grains.Tests.Hosting;
using Orleans;

namespace CryptoPay.Grains.Tests.Idempotency;

[Collection(OrleansCluster.Collection)]
public sealed class IdempotencyGrainTests(OrleansCluster cluster)
{
    [Fact]
    public async Task Idempotency_replays_the_first_response_rejects_another_body_and_forgets_after_a_day()
    {
        var key = cluster.Grains.GetGrain<IIdempotencyGrain>("m/test/k1");
        Assert.Equal(IdempotencyOutcome.Started, (await key.Begin("a", null)).Outcome);
        Assert.Equal(IdempotencyOutcome.InProgress, (await key.Begin("a", null)).Outcome);
        Assert.Equal(IdempotencyOutcome.KeyReused, (await key.Begin("b", null)).Outcome);
        await key.Complete("a", new IdempotentResponse(201, "application/json", "{}", new Dictionary<string, string>()));
        var replay = await key.Begin("a", null);
        Assert.Equal((IdempotencyOutcome.Replay, 201), (replay.Outcome, replay.Response!.Status));

        cluster.Clock.Advance(IdempotencyGrain.Retention);
        Assert.Equal(IdempotencyOutcome.Started, (await key.Begin("b", null)).Outcome);
    }

    [Fact]
    public async Task An_idempotency_key_keeps_its_generation_for_a_dead_attempt_and_moves_on_after_a_completed_use_is_forgotten()
    {
        var key = cluster.Grains.GetGrain<IIdempotencyGrain>("m/test/k-gen");
        Assert.Equal((IdempotencyOutcome.Started, 0), Of(await key.Begin("a", null)));

        // The attempt's silo died: after the lease the key starts again, in the same generation, so derived ids repeat.
        cluster.Clock.Advance(IdempotencyGrain.InProgressLease);
        Assert.Equal((IdempotencyOutcome.Started, 0), Of(await key.Begin("a", null)));
        await key.Abandon("a");
        Assert.Equal((IdempotencyOutcome.Started, 0), Of(await key.Begin("a", null)));

        await key.Complete("a", new IdempotentResponse(201, "application/json", "{}", new Dictionary<string, string>()));
        cluster.Clock.Advance(IdempotencyGrain.Retention);
        Assert.Equal((IdempotencyOutcome.Started, 1), Of(await key.Begin("a", null)));

        static (IdempotencyOutcome, int) Of(IdempotencyDecision decision) => (decision.Outcome, decision.Generation);
    }

    [Fact]
    public async Task A_claim_whose_write_failed_does_not_hold_the_key_in_progress()
    {
        // Seen with PostgreSQL restarting under load: Begin's write failed (the request answered 503 with Retry-After),
        // but the activation kept the unstored claim, so every retry was told 409 IDEMPOTENCY_IN_PROGRESS until the
        // two-minute lease ran out.
        await using var failing = await GatewayCluster.StartAsync(new GatewayClusterOptions());
        var key = failing.Grains.GetGrain<IIdempotencyGrain>("m/test/k-db-down");
        failing.DefaultStorage.FailWritesOf = "idempotency-key";
        await Assert.ThrowsAnyAsync<Exception>(() => key.Begin("a", null));

        failing.DefaultStorage.FailWritesOf = null;
        Assert.Equal(IdempotencyOutcome.Started, (await key.Begin("a", null)).Outcome);
        Assert.Equal(IdempotencyOutcome.InProgress, (await key.Begin("a", null)).Outcome);
    }

    [Fact]
    public async Task The_same_attempt_beginning_again_is_started_again_another_attempt_finds_it_in_progress()
    {
        // Seen in the kill -9 process test: Begin ran on the silo that was then killed, its answer was lost, the
        // gateway sent the call again and got 409 IDEMPOTENCY_IN_PROGRESS for its own claim until the lease ran out.
        var key = cluster.Grains.GetGrain<IIdempotencyGrain>("m/test/k-attempt");
        Assert.Equal(IdempotencyOutcome.Started, (await key.Begin("a", null, "attempt-1")).Outcome);
        Assert.Equal(IdempotencyOutcome.Started, (await key.Begin("a", null, "attempt-1")).Outcome);
        Assert.Equal(IdempotencyOutcome.InProgress, (await key.Begin("a", null, "attempt-2")).Outcome);
        Assert.Equal(IdempotencyOutcome.InProgress, (await key.Begin("a", null)).Outcome);
        Assert.Equal(IdempotencyOutcome.KeyReused, (await key.Begin("b", null, "attempt-1")).Outcome);

        await key.Complete("a", new IdempotentResponse(201, "application/json", "{}", new Dictionary<string, string>()));
        Assert.Equal(IdempotencyOutcome.Replay, (await key.Begin("a", null, "attempt-1")).Outcome);
    }
}
