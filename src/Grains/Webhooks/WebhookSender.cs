using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Threading.Channels;
using CryptoPay.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CryptoPay.Grains.Webhooks;

/// <summary>An attempt handed over by a delivery turn, to be sent after it; results go back through <see cref="Grains"/>, the silo the turn ran on.</summary>
public sealed record WebhookWork(Orleans.IGrainFactory Grains, WebhookDeliverySpec Delivery, int Attempt);

/// <summary>
/// The per-silo worker that performs webhook POSTs outside turns: a queue, a fixed number of
/// senders, one HTTP client with the SSRF guard at connect time, no redirects, no cookies and a
/// per-attempt timeout. Owned by the silo's service container; its senders start with the first
/// attempt and stop when the container is disposed.
/// </summary>
public sealed class WebhookSender : IAsyncDisposable
{
    public const string UserAgent = "CryptoPay-Webhooks/1";

    /// <summary>
    /// How long a looked-up target (URL, secrets, enabled) is reused. Without it every attempt would be a
    /// turn on the merchant's one endpoints grain, which caps a merchant's deliveries at that grain's turn
    /// rate; an endpoint change reaches the sender within this time (a 410 or a refusal drops it at once).
    /// </summary>
    public static readonly TimeSpan TargetCacheTime = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<(string Endpoints, string Endpoint), (WebhookTarget? Target, DateTimeOffset Until)> targets = new();
    private readonly Channel<WebhookWork> queue = Channel.CreateUnbounded<WebhookWork>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly CancellationTokenSource stopping = new();
    private readonly WebhookOptions options;
    private readonly WebhookFormats formats;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly HttpClient client;
    private readonly Lock gate = new();
    private Task[]? senders;
    private int outstanding;
    private TaskCompletionSource idle = NewIdle(completed: true);

    public WebhookSender(IOptions<WebhookOptions> options, [FromKeyedServices(GatewayClock.Key)] TimeProvider time, ILogger<WebhookSender>? logger = null, WebhookFormats? formats = null)
    {
        this.options = options.Value;
        this.formats = formats ?? new WebhookFormats([]);
        this.options.Validate();
        this.time = time;
        this.logger = logger ?? NullLogger<WebhookSender>.Instance;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = this.options.Timeout,
        };
        if (!this.options.AllowPrivateTargets)
        {
            handler.ConnectCallback = WebhookTargetGuard.ConnectAsync;
        }

        client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
    }

    /// <summary>Queues an attempt; a delivery turn calls it and returns at once.</summary>
    public void Enqueue(WebhookWork work)
    {
        lock (gate)
        {
            if (outstanding++ == 0)
            {
                idle = NewIdle(completed: false);
            }

            senders ??= [.. Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(RunAsync))];
        }

        queue.Writer.TryWrite(work);
    }

    /// <summary>Completes when no attempt is queued or being sent (tests and the bench wait on it).</summary>
    public Task WhenIdleAsync(CancellationToken ct = default)
    {
        lock (gate)
        {
            return idle.Task.WaitAsync(ct);
        }
    }

    /// <summary>Posts one attempt, signed as its <paramref name="format"/> signs (ours when null); never throws for what the receiver or the network did.</summary>
    public async Task<WebhookAttemptResult> SendAsync(string url, IReadOnlyList<string> secrets, string webhookId, string body, CancellationToken ct, string? format = null)
    {
        var started = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Timeout);
        try
        {
            var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            foreach (var (name, value) in formats.Get(format).SignatureHeaders(webhookId, timestamp, body, secrets))
            {
                request.Headers.Add(name, value);
            }

            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var text = await ReadPrefixAsync(response, timeout.Token).ConfigureAwait(false);
            return new WebhookAttemptResult((int)response.StatusCode, text, null, Stopwatch.GetElapsedTime(started), RetryAfter(response.Headers.RetryAfter));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new WebhookAttemptResult(null, null, $"timed out after {options.Timeout.TotalSeconds:0.###} s", Stopwatch.GetElapsedTime(started), null);
        }
        catch (HttpRequestException error)
        {
            var refused = error as WebhookTargetRefusedException ?? error.InnerException as WebhookTargetRefusedException;
            return new WebhookAttemptResult(null, null, refused?.Message ?? error.Message, Stopwatch.GetElapsedTime(started), null);
        }
        catch (Exception error) when (error is IOException or InvalidOperationException or UriFormatException)
        {
            return new WebhookAttemptResult(null, null, error.Message, Stopwatch.GetElapsedTime(started), null);
        }
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await stopping.CancelAsync().ConfigureAwait(false);
        Task[]? running;
        lock (gate)
        {
            running = senders;
        }

        if (running is not null)
        {
            await Task.WhenAll(running).ConfigureAwait(false);
        }

        client.Dispose();
        stopping.Dispose();
    }

    private async Task RunAsync()
    {
        try
        {
            await foreach (var work in queue.Reader.ReadAllAsync(stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    await DeliverAsync(work, stopping.Token).ConfigureAwait(false);
                }
                catch (Exception error) when (!stopping.IsCancellationRequested)
                {
                    // The silo that ran the turn is gone or its store is unreachable: the attempt's lease sends it again.
                    logger.LogWarning(error, "Webhook attempt {Attempt} of {Delivery} was not recorded", work.Attempt, work.Delivery.Id);
                }
                finally
                {
                    Done();
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task DeliverAsync(WebhookWork work, CancellationToken ct)
    {
        var delivery = work.Delivery;
        var target = await TargetAsync(work).ConfigureAwait(false);
        var result = target switch
        {
            null => new WebhookAttemptResult(null, null, "the endpoint was deleted", TimeSpan.Zero, null, Refused: true),
            { Enabled: false } => new WebhookAttemptResult(null, null, "the endpoint is disabled", TimeSpan.Zero, null, Refused: true),
            _ => await SendAsync(target.Url ?? delivery.Url, target.Secrets, delivery.EventId, delivery.Body, ct, delivery.Format).ConfigureAwait(false),
        };
        if (result.Refused || result.HttpStatus == (int)System.Net.HttpStatusCode.Gone)
        {
            targets.TryRemove((delivery.EndpointsKey, delivery.EndpointId), out _);
        }

        await work.Grains.GetGrain<IWebhookDeliveryGrain>(delivery.Id).RecordAttempt(work.Attempt, result).ConfigureAwait(false);
    }

    private async Task<WebhookTarget?> TargetAsync(WebhookWork work)
    {
        var key = (work.Delivery.EndpointsKey, work.Delivery.EndpointId);
        var now = time.GetUtcNow();
        if (targets.TryGetValue(key, out var cached) && cached.Until > now)
        {
            return cached.Target;
        }

        var target = await work.Grains.GetGrain<IWebhookEndpointsGrain>(key.EndpointsKey).GetTarget(key.EndpointId).ConfigureAwait(false);
        targets[key] = (target, now + TargetCacheTime);
        return target;
    }

    private void Done()
    {
        lock (gate)
        {
            if (--outstanding == 0)
            {
                idle.TrySetResult();
            }
        }
    }

    private TimeSpan? RetryAfter(RetryConditionHeaderValue? header) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - time.GetUtcNow(),
        _ => null,
    };

    private static async Task<string?> ReadPrefixAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var buffer = new byte[WebhookDeliveryGrain.MaxResponseBodyBytes];
        await using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), ct).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        return read == 0 ? null : Encoding.UTF8.GetString(buffer, 0, read);
    }

    private static TaskCompletionSource NewIdle(bool completed)
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            source.SetResult();
        }

        return source;
    }
}
