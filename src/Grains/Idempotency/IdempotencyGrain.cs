using CryptoPay.Runtime.Grains;

namespace CryptoPay.Grains.Idempotency;

/// <summary>An Idempotency-Key reached an object that another request created with it.</summary>
public sealed class IdempotencyKeyReusedException(string message) : Exception(message);

public enum IdempotencyOutcome
{
    /// <summary>The caller runs the request and must report its response with Complete (or Abandon).</summary>
    Started,
    InProgress,
    Replay,
    KeyReused,
}

public sealed record IdempotentResponse(int Status, string ContentType, string Body, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// What to do with a request. <paramref name="Generation"/> numbers the uses of the key: it stays the same when an
/// attempt that never completed (its silo died) is started again, so objects the attempt created can be found again
/// under ids derived from it, and moves on only when a completed use is forgotten after <see cref="IdempotencyGrain.Retention"/>.
/// </summary>
public sealed record IdempotencyDecision(IdempotencyOutcome Outcome, IdempotentResponse? Response, int Generation = 0);

public sealed record IdempotencyState
{
    public string? Fingerprint { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public IdempotentResponse? Response { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>How many completed uses of the key were forgotten; see <see cref="IdempotencyDecision.Generation"/>.</summary>
    public int Generation { get; set; }
}

/// <summary>
/// One Idempotency-Key of a merchant in a mode. Serial turns make "first request wins" hold across
/// silos; the first response is kept for <see cref="Retention"/> and replayed.
/// </summary>
[GrainType("idempotency-key")]
public interface IIdempotencyGrain : IGrainWithStringKey
{
    Task<IdempotencyDecision> Begin(string fingerprint);

    Task Complete(string fingerprint, IdempotentResponse response);

    /// <summary>The request failed without a response worth keeping; the key may be used again.</summary>
    Task Abandon(string fingerprint);
}

public sealed class IdempotencyGrain : Grain<IdempotencyState>, IIdempotencyGrain, IRemindable
{
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    /// <summary>A request still "in progress" after this long died with its silo; the key is free again.</summary>
    public static readonly TimeSpan InProgressLease = TimeSpan.FromMinutes(2);

    private const string ForgetReminder = "forget";

    public Task<IdempotencyDecision> Begin(string fingerprint)
    {
        var expired = State.CompletedAt is { } done && Now - done >= Retention;
        var abandoned = State.Fingerprint is not null && State.Response is null && Now - State.StartedAt >= InProgressLease;
        if (expired)
        {
            Forget();
        }

        if (State.Fingerprint is null || abandoned)
        {
            State = new IdempotencyState { Fingerprint = fingerprint, StartedAt = Now, Generation = State.Generation };
            return Task.FromResult(new IdempotencyDecision(IdempotencyOutcome.Started, null, State.Generation));
        }

        if (!string.Equals(State.Fingerprint, fingerprint, StringComparison.Ordinal))
        {
            return Task.FromResult(new IdempotencyDecision(IdempotencyOutcome.KeyReused, null, State.Generation));
        }

        return Task.FromResult(State.Response is { } response
            ? new IdempotencyDecision(IdempotencyOutcome.Replay, response, State.Generation)
            : new IdempotencyDecision(IdempotencyOutcome.InProgress, null, State.Generation));
    }

    public Task Complete(string fingerprint, IdempotentResponse response)
    {
        if (State.Fingerprint == fingerprint && State.Response is null)
        {
            State.Response = response;
            State.CompletedAt = Now;
            RegisterOrUpdateReminder(ForgetReminder, Retention);
        }

        return Task.CompletedTask;
    }

    public Task Abandon(string fingerprint)
    {
        if (State.Fingerprint == fingerprint && State.Response is null)
        {
            // The attempt may have created objects under ids derived from this generation: a retry must find them.
            State = new IdempotencyState { Generation = State.Generation };
        }

        return Task.CompletedTask;
    }

    public Task ReceiveReminder(string reminderName, ReminderTick tick)
    {
        if (State.CompletedAt is { } done && Now - done >= Retention)
        {
            Forget();
        }

        return Task.CompletedTask;
    }

    /// <summary>A completed use is over: the key is free, and its next use gets ids of its own.</summary>
    private void Forget() => State = new IdempotencyState { Generation = State.Generation + 1 };
}
