using System.Net;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Webhooks;

public enum WebhookDeliveryStatus
{
    Pending,
    Sending,
    Delivered,
    Failed,
}

/// <summary>One event for one endpoint; <see cref="Body"/> is the same on every attempt, as the webhook-id (<see cref="EventId"/>) is.</summary>
[GenerateSerializer]
[Alias("cryptopay.webhook-delivery-spec")]
public sealed record WebhookDeliverySpec(
    [property: Id(0)] string Id, [property: Id(1)] string EventId, [property: Id(2)] string EventType, [property: Id(3)] Guid MerchantId, [property: Id(4)] Mode Mode, [property: Id(5)] string EndpointsKey, [property: Id(6)] string EndpointId, [property: Id(7)] string Url, [property: Id(8)] string Body, [property: Id(9)] DateTimeOffset CreatedAt)
{
    /// <summary>The endpoint's <see cref="WebhookFormat"/> (signature headers, retry schedule); null is ours.</summary>
    [Id(10)]
    public string? Format { get; init; }
}

[GenerateSerializer]
[Alias("cryptopay.webhook-attempt")]
public sealed record WebhookAttempt([property: Id(0)] int Number, [property: Id(1)] DateTimeOffset StartedAt, [property: Id(2)] int? HttpStatus, [property: Id(3)] string? ResponseBody, [property: Id(4)] string? Error, [property: Id(5)] long DurationMs);

/// <summary>What the sender saw; <see cref="Refused"/> means no request could be made (endpoint gone or disabled).</summary>
[GenerateSerializer]
[Alias("cryptopay.webhook-attempt-result")]
public sealed record WebhookAttemptResult([property: Id(0)] int? HttpStatus, [property: Id(1)] string? ResponseBody, [property: Id(2)] string? Error, [property: Id(3)] TimeSpan Duration, [property: Id(4)] TimeSpan? RetryAfter, [property: Id(5)] bool Refused = false);

[GenerateSerializer]
[Alias("cryptopay.webhook-delivery-state")]
public sealed record WebhookDeliveryState
{
    [Id(0)]
    public WebhookDeliverySpec? Spec { get; set; }

    [Id(1)]
    public WebhookDeliveryStatus Status { get; set; }

    /// <summary>Position in <see cref="WebhookDeliveryGrain.Schedule"/> of the current or next attempt.</summary>
    [Id(2)]
    public int Step { get; set; }

    /// <summary>The attempt being sent; its result is recorded only while it is still this one.</summary>
    [Id(3)]
    public int? InFlight { get; set; }

    [Id(4)]
    public DateTimeOffset? InFlightSince { get; set; }

    [Id(5)]
    public DateTimeOffset? NextAttemptAt { get; set; }

    [Id(6)]
    public string? FailureReason { get; set; }

    [Id(7)]
    public List<WebhookAttempt> Attempts { get; set; } = [];

    [Id(8)]
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>
    /// When the delivery needs a turn by the gateway clock unless this silo gives it one first: the end of the in-flight
    /// attempt's lease while sending, the next attempt while pending, none once delivered or failed. Projected as
    /// <c>webhook_deliveries.attempt_at</c>, which <see cref="WebhookLeaseSweeperGrain"/> sweeps.
    /// </summary>
    [Id(9)]
    public DateTimeOffset? AttemptAt { get; set; }
}

[Alias("cryptopay.webhook-delivery")]
public interface IWebhookDeliveryGrain : IGrainWithStringKey, IWakeable
{
    /// <summary>Starts a delivery with its first attempt; a repeated start (a redelivered event) is ignored.</summary>
    Task Start(WebhookDeliverySpec spec);

    Task<WebhookDeliveryState?> Get();

    /// <summary>Sends again from the start of the schedule (merchant's redeliver); a delivery being sent is left alone.</summary>
    Task<WebhookDeliveryState?> Redeliver();

    /// <summary>
    /// The sweeper's call for a delivery whose <see cref="WebhookDeliveryState.AttemptAt"/> has passed: sends the attempt
    /// that is due (a retry, or an attempt whose lease ran out), or does nothing when none is due by this grain's reckoning.
    /// </summary>
    Task Resume();

    /// <summary>The sender's outcome of attempt <paramref name="attempt"/>, recorded after the POST.</summary>
    Task RecordAttempt(int attempt, WebhookAttemptResult result);
}

/// <summary>
/// One delivery. The grain never does network I/O itself: a call that starts an attempt records it as in flight, with
/// its lease end as <see cref="WebhookDeliveryState.AttemptAt"/>, and, once written, hands the POST to this silo's
/// <see cref="WebhookSender"/>, which performs it and reports back through <see cref="RecordAttempt"/>. A delivery keeps
/// no reminder of its own (a reminder row per delivery cost two more round trips each): a retry due within
/// <see cref="TimerRetryLimit"/> is sent by a grain timer while the grain stays active, and the cluster's one
/// <see cref="WebhookLeaseSweeperGrain"/> resumes every delivery whose attempt time has passed — longer retries, and an
/// attempt whose silo died before recording it, which is sent again with the same webhook-id (at least once).
/// </summary>
[GrainType("webhook-delivery")]
public sealed class WebhookDeliveryGrain(
    [PersistentState(WebhookDeliveryProjection.StateName, ProjectedGrainStorage.Name)] IPersistentState<GrainRecord<WebhookDeliveryState>> record,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    ILogger<WebhookDeliveryGrain> logger,
    WebhookSender sender,
    WebhookOptions options,
    WebhookFormats? formats = null)
    : EffectGrain<WebhookDeliveryState>(record, clock, logger), IWebhookDeliveryGrain
{
    public const int MaxResponseBodyBytes = 1024;

    /// <summary>Delay before each attempt in our format: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (a profile's format has its own).</summary>
    public static readonly IReadOnlyList<TimeSpan> Schedule =
    [
        TimeSpan.Zero, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(2), TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10),
    ];

    /// <summary>The schedule of this delivery's format.</summary>
    private IReadOnlyList<TimeSpan> Attempts => (formats ?? DefaultFormats).Get(State.Spec?.Format).Schedule;

    private static readonly WebhookFormats DefaultFormats = new([]);

    /// <summary>Retries due within this long are sent by a grain timer of the active grain; the sweeper finds the others.</summary>
    public static readonly TimeSpan TimerRetryLimit = TimeSpan.FromMinutes(1);

    private IGrainTimer? retryTimer;

    public static string KeyFor(string eventId, string endpointId) => $"{eventId}.{endpointId}";

    /// <summary>When the current attempt's lease ends (sending) or the next attempt is due (pending); null when finished.</summary>
    private DateTimeOffset? AttemptDue => State.Status switch
    {
        WebhookDeliveryStatus.Sending when State.Spec is not null => (State.InFlightSince ?? Now) + options.AttemptLease,
        WebhookDeliveryStatus.Pending when State.Spec is not null => State.NextAttemptAt ?? Now,
        _ => null,
    };

    public async Task Start(WebhookDeliverySpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (State.Spec is null)
        {
            State.Spec = spec;
            await BeginAsync();
        }
    }

    public Task<WebhookDeliveryState?> Get() => Task.FromResult(State.Spec is null ? null : State);

    public async Task Resume()
    {
        if (State.Spec is null)
        {
            return;
        }

        if (AttemptDue is { } due && due <= Now)
        {
            await OnWakeAsync();
        }
        else if (State.AttemptAt != AttemptDue && Stored)
        {
            // A row whose attempt time is not the grain's (written before attempt_at existed): corrected, so the sweep stops finding it.
            await SaveDeliveryAsync();
        }
    }

    public async Task<WebhookDeliveryState?> Redeliver()
    {
        if (State.Spec is not null && State.Status != WebhookDeliveryStatus.Sending)
        {
            State.Step = 0;
            State.FailureReason = null;
            await BeginAsync();
        }

        return await Get();
    }

    /// <summary>Also the tick of a wake reminder that a delivery of an earlier version registered: it then removes itself.</summary>
    protected override async Task OnWakeAsync()
    {
        if (State.Spec is null || AttemptDue is not { } due || due > Now)
        {
            return;
        }

        if (State.Status == WebhookDeliveryStatus.Sending && State.InFlight is { } lost)
        {
            // The lease ran out: the silo sending this attempt stopped before recording it. Send it again.
            State.Attempts.Add(new WebhookAttempt(lost, State.InFlightSince ?? Now, null, null, "no result recorded: the sending silo stopped during the attempt", 0));
            await BeginAsync();
        }
        else if (State.Status == WebhookDeliveryStatus.Pending)
        {
            await BeginAsync();
        }
    }

    public async Task RecordAttempt(int attempt, WebhookAttemptResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (State.Spec is not { } spec || State.InFlight != attempt)
        {
            return;
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
                Send(new DisableEndpoint(spec.EndpointsKey, spec.EndpointId, reason));
            }
        }
        else if (State.Step + 1 < Attempts.Count)
        {
            State.Step++;
            var delay = Attempts[State.Step];
            var longest = Attempts.Max();
            if (result.HttpStatus is 429 or 503 && result.RetryAfter is { } retryAfter && retryAfter > delay)
            {
                delay = retryAfter < longest ? retryAfter : longest;
            }

            State.Status = WebhookDeliveryStatus.Pending;
            State.NextAttemptAt = Now + delay;
        }
        else
        {
            Finish(WebhookDeliveryStatus.Failed, $"no 2xx answer after {Attempts.Count} scheduled attempts");
        }

        await SaveDeliveryAsync();
        if (State.Status == WebhookDeliveryStatus.Pending && State.NextAttemptAt is { } next && next - Now <= TimerRetryLimit)
        {
            ArmRetryTimer(next - Now);
        }
    }

    /// <summary>Writes the state with its attempt time (the sweeper's column) brought up to date.</summary>
    private Task SaveDeliveryAsync()
    {
        State.AttemptAt = AttemptDue;
        return SaveAsync();
    }

    /// <summary>A one-shot timer for a retry due soon; the sweeper sends it instead if this activation is gone by then.</summary>
    private void ArmRetryTimer(TimeSpan dueIn)
    {
        retryTimer?.Dispose();
        retryTimer = this.RegisterGrainTimer(RetryDueAsync, new GrainTimerCreationOptions(dueIn > TimeSpan.Zero ? dueIn : TimeSpan.Zero, Timeout.InfiniteTimeSpan));
    }

    private async Task RetryDueAsync(CancellationToken cancellationToken)
    {
        retryTimer?.Dispose();
        retryTimer = null;
        if (State.Status != WebhookDeliveryStatus.Pending || AttemptDue is not { } due)
        {
            return;
        }

        if (due <= Now)
        {
            await BeginAsync();
        }
        else if (due - Now <= TimerRetryLimit)
        {
            // The gateway clock is behind the timer's (a test's fake clock): look again later.
            ArmRetryTimer(due - Now);
        }
    }

    private async Task BeginAsync()
    {
        var spec = State.Spec!;
        var attempt = MarkSending(State, Now);
        retryTimer?.Dispose();
        retryTimer = null;
        await SaveDeliveryAsync();
        // Handed to the sender only once the attempt is written as in flight.
        sender.Enqueue(new WebhookWork(GrainFactory, spec, attempt));
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
