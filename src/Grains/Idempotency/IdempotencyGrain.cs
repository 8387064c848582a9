using CryptoPay.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Idempotency;

/// <summary>An Idempotency-Key reached an object that another request created with it.</summary>
[GenerateSerializer]
[Alias("cryptopay.idempotency-key-reused")]
public sealed class IdempotencyKeyReusedException(string message) : Exception(message);

public enum IdempotencyOutcome
{
    /// <summary>The caller runs the request and must report its response with Complete (or Abandon).</summary>
    Started,
    InProgress,
    Replay,
    KeyReused,
}

[GenerateSerializer]
[Alias("cryptopay.idempotent-response")]
public sealed record IdempotentResponse(
    [property: Id(0)] int Status,
    [property: Id(1)] string ContentType,
    [property: Id(2)] string Body,
    [property: Id(3)] IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// What to do with a request. <paramref name="Generation"/> numbers the uses of the key: it stays the same when an
/// attempt that never completed (its silo died) is started again, so objects the attempt created can be found again
/// under ids derived from it, and moves on only when a completed use is forgotten after <see cref="IdempotencyGrain.Retention"/>.
/// </summary>
[GenerateSerializer]
[Alias("cryptopay.idempotency-decision")]
public sealed record IdempotencyDecision(
    [property: Id(0)] IdempotencyOutcome Outcome,
    [property: Id(1)] IdempotentResponse? Response,
    [property: Id(2)] int Generation = 0);

[GenerateSerializer]
[Alias("cryptopay.idempotency-state")]
public sealed record IdempotencyState
{
    [Id(0)]
    public string? Fingerprint { get; set; }

    [Id(1)]
    public DateTimeOffset StartedAt { get; set; }

    [Id(2)]
    public IdempotentResponse? Response { get; set; }

    [Id(3)]
    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>How many completed uses of the key were forgotten; see <see cref="IdempotencyDecision.Generation"/>.</summary>
    [Id(4)]
    public int Generation { get; set; }

    /// <summary>The silo running the attempt in progress (Orleans' parsable address), when it said; its death frees the key at once.</summary>
    [Id(5)]
    public string? AttemptSilo { get; set; }

    /// <summary>The attempt in progress (one per request), when it said: its own Begin sent again finds it started.</summary>
    [Id(6)]
    public string? Attempt { get; set; }
}

/// <summary>
/// One Idempotency-Key of a merchant in a mode (key <c>{merchant}/{mode}/{key}</c>). Orleans runs one activation
/// of it, so "first request wins" holds across silos; the first response is kept for <see cref="Retention"/> and
/// replayed. Forgetting is lazy: the first use after the retention finds the completed use over, so no reminder is
/// needed, and the row stays to carry the generation.
/// </summary>
[Alias("cryptopay.idempotency-key")]
public interface IIdempotencyGrain : IGrainWithStringKey
{
    /// <param name="attemptSilo">The silo that will run the request (<c>SiloAddress.ToParsableString()</c>), or null.</param>
    /// <param name="attempt">
    /// A token unique to the request, or null. The same Begin sent again (its answer was lost when the silo hosting this
    /// grain died, and the call was retried) is answered Started again instead of finding its own claim in progress.
    /// </param>
    Task<IdempotencyDecision> Begin(string fingerprint, string? attemptSilo, string? attempt = null);

    Task Complete(string fingerprint, IdempotentResponse response);

    /// <summary>The request failed without a response worth keeping; the key may be used again.</summary>
    Task Abandon(string fingerprint);
}

public sealed class IdempotencyGrain(
    [PersistentState("idempotency-key")] IPersistentState<IdempotencyState> state,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    IClusterMembershipService membership) : Grain, IIdempotencyGrain
{
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    /// <summary>
    /// A request still "in progress" after this long died with its silo; the key is free again. Sooner when the silo
    /// running it is known dead (a retry after a failover need not wait).
    /// </summary>
    public static readonly TimeSpan InProgressLease = TimeSpan.FromMinutes(2);

    private IdempotencyState State => state.State;

    public async Task<IdempotencyDecision> Begin(string fingerprint, string? attemptSilo, string? attempt = null)
    {
        if (attempt is not null && State.Attempt == attempt && State.Fingerprint == fingerprint && State.Response is null)
        {
            // This request's own claim: its first Begin ran, but the answer was lost with the silo that ran it.
            return new IdempotencyDecision(IdempotencyOutcome.Started, null, State.Generation);
        }

        var now = clock.GetUtcNow();
        var expired = State.CompletedAt is { } done && now - done >= Retention;
        var abandoned = State.Fingerprint is not null && State.Response is null && (now - State.StartedAt >= InProgressLease || AttemptSiloDied());
        if (State.Fingerprint is null || expired || abandoned)
        {
            // A completed use that is over makes way for the next generation; a dead attempt is started again in its own.
            var generation = expired ? State.Generation + 1 : State.Generation;
            var before = state.State;
            state.State = new IdempotencyState { Fingerprint = fingerprint, StartedAt = now, Generation = generation, AttemptSilo = attemptSilo, Attempt = attempt };
            try
            {
                await state.WriteStateAsync();
            }
            catch
            {
                // Not stored (the database is down): the caller answers 503 and its retry must find the key as it was,
                // not held "in progress" by this unstored claim until the lease runs out.
                state.State = before;
                throw;
            }

            return new IdempotencyDecision(IdempotencyOutcome.Started, null, generation);
        }

        if (!string.Equals(State.Fingerprint, fingerprint, StringComparison.Ordinal))
        {
            return new IdempotencyDecision(IdempotencyOutcome.KeyReused, null, State.Generation);
        }

        return State.Response is { } response
            ? new IdempotencyDecision(IdempotencyOutcome.Replay, response, State.Generation)
            : new IdempotencyDecision(IdempotencyOutcome.InProgress, null, State.Generation);
    }

    private bool AttemptSiloDied() =>
        State.AttemptSilo is { } silo && membership.CurrentSnapshot.GetSiloStatus(SiloAddress.FromParsableString(silo)) == SiloStatus.Dead;

    public async Task Complete(string fingerprint, IdempotentResponse response)
    {
        if (State.Fingerprint == fingerprint && State.Response is null)
        {
            State.Response = response;
            State.CompletedAt = clock.GetUtcNow();
            await state.WriteStateAsync();
        }
    }

    public async Task Abandon(string fingerprint)
    {
        if (State.Fingerprint == fingerprint && State.Response is null)
        {
            // The attempt may have created objects under ids derived from this generation: a retry must find them.
            state.State = new IdempotencyState { Generation = State.Generation };
            await state.WriteStateAsync();
        }
    }
}
