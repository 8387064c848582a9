using System.Net;
using CryptoPay.Grains.Merchants;
using CryptoPay.Runtime.Grains;

namespace CryptoPay.Grains.Webhooks;

public enum WebhookDeliveryStatus
{
    Pending,
    Sending,
    Delivered,
    Failed,
}

/// <summary>One event for one endpoint; <see cref="Body"/> is the same on every attempt, as the webhook-id (<see cref="EventId"/>) is.</summary>
public sealed record WebhookDeliverySpec(
    string Id, string EventId, string EventType, Guid MerchantId, Mode Mode, string EndpointsKey, string EndpointId, string Url, string Body, DateTimeOffset CreatedAt);

public sealed record WebhookAttempt(int Number, DateTimeOffset StartedAt, int? HttpStatus, string? ResponseBody, string? Error, long DurationMs);

/// <summary>What the sender saw; <see cref="Refused"/> means no request could be made (endpoint gone or disabled).</summary>
public sealed record WebhookAttemptResult(int? HttpStatus, string? ResponseBody, string? Error, TimeSpan Duration, TimeSpan? RetryAfter, bool Refused = false);

public sealed record WebhookDeliveryState
{
    public WebhookDeliverySpec? Spec { get; set; }

    public WebhookDeliveryStatus Status { get; set; }

    /// <summary>Position in <see cref="WebhookDeliveryGrain.Schedule"/> of the current or next attempt.</summary>
    public int Step { get; set; }

    /// <summary>The attempt being sent; its result is recorded only while it is still this one.</summary>
    public int? InFlight { get; set; }

    public DateTimeOffset? InFlightSince { get; set; }

    public DateTimeOffset? NextAttemptAt { get; set; }

    public string? FailureReason { get; set; }

    public List<WebhookAttempt> Attempts { get; set; } = [];

    public DateTimeOffset UpdatedAt { get; set; }
}

[GrainType("webhook-delivery")]
public interface IWebhookDeliveryGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts a delivery from a message; a repeated start is ignored. The endpoints grain's fan-out now creates deliveries
    /// already started (<see cref="WebhookDeliveryGrain.Started"/>); this stays for Start messages written before that.
    /// </summary>
    Task Start(WebhookDeliverySpec spec);

    Task<WebhookDeliveryState?> Get();

    /// <summary>Sends again from the start of the schedule (merchant's redeliver); a delivery being sent is left alone.</summary>
    Task<WebhookDeliveryState?> Redeliver();

    /// <summary>The sender's outcome of attempt <paramref name="attempt"/>, recorded in a short turn after the POST.</summary>
    Task RecordAttempt(int attempt, WebhookAttemptResult result);
}

/// <summary>
/// One delivery, driven by one durable reminder. A turn never does network I/O: the turn that starts
/// an attempt records it as in flight, arms the reminder as a lease and hands the POST to this silo's
/// <see cref="WebhookSender"/>, which performs it outside the turn and reports back through
/// <see cref="RecordAttempt"/>. If the silo dies meanwhile, the lease fires on another silo and the
/// attempt is sent again with the same webhook-id (at least once).
/// </summary>
public sealed class WebhookDeliveryGrain(WebhookSender sender, WebhookOptions options) : Grain<WebhookDeliveryState>, IWebhookDeliveryGrain, IRemindable
{
    public const string AttemptReminder = "attempt";
    public const int MaxResponseBodyBytes = 1024;

    /// <summary>Delay before each attempt: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.</summary>
    public static readonly IReadOnlyList<TimeSpan> Schedule =
    [
        TimeSpan.Zero, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(2), TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10),
    ];

    private static readonly TimeSpan LongestDelay = Schedule.Max();

    public static string KeyFor(string eventId, string endpointId) => $"{eventId}.{endpointId}";

    /// <summary>
    /// A new delivery with its first attempt in flight: the state the endpoints grain's fan-out creates it with (see
    /// <see cref="WebhookEndpointsGrain"/>), together with the <see cref="AttemptReminder"/> lease, so no message and no
    /// turn of this grain precede the first POST.
    /// </summary>
    public static WebhookDeliveryState Started(WebhookDeliverySpec spec, DateTimeOffset now)
    {
        var state = new WebhookDeliveryState { Spec = spec };
        MarkSending(state, now);
        return state;
    }

    public Task Start(WebhookDeliverySpec spec)
    {
        if (State.Spec is null)
        {
            State.Spec = spec;
            Begin();
        }

        return Task.CompletedTask;
    }

    public Task<WebhookDeliveryState?> Get() => Task.FromResult(State.Spec is null ? null : State);

    public Task<WebhookDeliveryState?> Redeliver()
    {
        if (State.Spec is not null && State.Status != WebhookDeliveryStatus.Sending)
        {
            State.Step = 0;
            State.FailureReason = null;
            Begin();
        }

        return Get();
    }

    public Task ReceiveReminder(string reminderName, ReminderTick tick)
    {
        if (reminderName != AttemptReminder || State.Spec is null)
        {
            return Task.CompletedTask;
        }

        if (State.Status == WebhookDeliveryStatus.Sending && State.InFlight is { } lost)
        {
            // The lease ran out: the silo sending this attempt stopped before recording it. Send it again.
            State.Attempts.Add(new WebhookAttempt(lost, State.InFlightSince ?? Now, null, null, "no result recorded: the sending silo stopped during the attempt", 0));
            Begin();
        }
        else if (State.Status == WebhookDeliveryStatus.Pending)
        {
            Begin();
        }

        return Task.CompletedTask;
    }

    public Task RecordAttempt(int attempt, WebhookAttemptResult result)
    {
        if (State.Spec is not { } spec || State.InFlight != attempt)
        {
            return Task.CompletedTask;
        }

        State.Attempts.Add(new WebhookAttempt(attempt, State.InFlightSince ?? Now, result.HttpStatus, Truncate(result.ResponseBody), result.Error, (long)result.Duration.TotalMilliseconds));
        State.InFlight = null;
        State.InFlightSince = null;
        State.UpdatedAt = Now;
        if (result.HttpStatus is >= 200 and < 300)
        {
            Finish(WebhookDeliveryStatus.Delivered, null);
        }
        else if (result.Refused)
        {
            Finish(WebhookDeliveryStatus.Failed, result.Error);
        }
        else if (result.HttpStatus == (int)HttpStatusCode.Gone)
        {
            var reason = $"the endpoint answered 410 Gone to {spec.EventId} at {Now:O}";
            Finish(WebhookDeliveryStatus.Failed, reason);
            if (spec.EndpointId != WebhookEndpointsGrain.CallbackEndpointId)
            {
                Send<IWebhookEndpointsGrain>(spec.EndpointsKey).Disable(spec.EndpointId, reason);
            }
        }
        else if (State.Step + 1 < Schedule.Count)
        {
            State.Step++;
            var delay = Schedule[State.Step];
            if (result.HttpStatus is 429 or 503 && result.RetryAfter is { } retryAfter && retryAfter > delay)
            {
                delay = retryAfter < LongestDelay ? retryAfter : LongestDelay;
            }

            State.Status = WebhookDeliveryStatus.Pending;
            State.NextAttemptAt = Now + delay;
            RegisterOrUpdateReminder(AttemptReminder, delay);
        }
        else
        {
            Finish(WebhookDeliveryStatus.Failed, $"no 2xx answer after {Schedule.Count} scheduled attempts");
        }

        return Task.CompletedTask;
    }

    private void Begin()
    {
        var spec = State.Spec!;
        var attempt = MarkSending(State, Now);
        RegisterOrUpdateReminder(AttemptReminder, options.AttemptLease);
        // Handed to the sender only once this turn has committed: a rolled-back or replayed turn never POSTs.
        var factory = GrainFactory;
        AfterCommit(() => sender.Enqueue(new WebhookWork(factory, spec, attempt)));
    }

    /// <summary>Records the next attempt as in flight; returns its number.</summary>
    private static int MarkSending(WebhookDeliveryState state, DateTimeOffset now)
    {
        var attempt = state.Attempts.Count + 1;
        state.Status = WebhookDeliveryStatus.Sending;
        state.InFlight = attempt;
        state.InFlightSince = now;
        state.NextAttemptAt = null;
        state.UpdatedAt = now;
        return attempt;
    }

    private void Finish(WebhookDeliveryStatus status, string? reason)
    {
        State.Status = status;
        State.FailureReason = reason;
        State.NextAttemptAt = null;
        UnregisterReminder(AttemptReminder);
    }

    private static string? Truncate(string? body)
    {
        if (body is null || System.Text.Encoding.UTF8.GetByteCount(body) <= MaxResponseBodyBytes)
        {
            return body;
        }

        var length = Math.Min(body.Length, MaxResponseBodyBytes);
        while (System.Text.Encoding.UTF8.GetByteCount(body.AsSpan(0, length)) > MaxResponseBodyBytes)
        {
            length--;
        }

        return body[..length];
    }
}
