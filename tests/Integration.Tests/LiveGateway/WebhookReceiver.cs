using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CryptoPay.Integration.Tests.LiveGateway;

/// <summary>A webhook delivery as the merchant's server received it: the Standard Webhooks headers and the raw body.</summary>
internal sealed record ReceivedWebhook(string Id, string Timestamp, string Signature, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public string Type => Json.Str("type");

    public string InvoiceId => Json.GetProperty("data").GetProperty("object").Str("id");

    /// <summary>Standard Webhooks verification, written from the specification rather than with the gateway's signer.</summary>
    public bool IsSignedWith(string secret)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{Id}.{Timestamp}.{Body}")));
        return Signature.Split(' ').Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), Encoding.ASCII.GetBytes(expected)));
    }
}

/// <summary>The merchant's webhook endpoint: a Kestrel app on a loopback port that answers 204 and keeps what it received.</summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<ReceivedWebhook> received = new();
    private TaskCompletionSource arrived = NewSignal();

    private WebhookReceiver(WebApplication app) => this.app = app;

    public string Url => app.Urls.First() + "/hooks";

    public IReadOnlyList<ReceivedWebhook> Received => [.. received];

    public static async Task<WebhookReceiver> StartAsync(CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hooks", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            receiver.received.Enqueue(new ReceivedWebhook(
                request.Headers["webhook-id"].ToString(),
                request.Headers["webhook-timestamp"].ToString(),
                request.Headers["webhook-signature"].ToString(),
                await reader.ReadToEndAsync()));
            Interlocked.Exchange(ref receiver.arrived, NewSignal()).TrySetResult();
            return Results.NoContent();
        });
        await app.StartAsync(ct);
        return receiver;
    }

    /// <summary>Waits until an event of each type arrived for the invoice; on timeout fails with what did arrive and the silos' output.</summary>
    public async Task<IReadOnlyList<ReceivedWebhook>> WaitForAsync(
        string invoiceId, IReadOnlyCollection<string> types, TimeSpan timeout, Func<string> diagnostics, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        while (true)
        {
            // Taken before looking, so a webhook arriving between the look and the wait still wakes it.
            var next = Volatile.Read(ref arrived).Task;
            var mine = Received.Where(w => w.InvoiceId == invoiceId).ToList();
            if (types.All(t => mine.Exists(w => w.Type == t)))
            {
                return mine;
            }

            try
            {
                await next.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                var got = string.Join('\n', Received.Select(w => $"{w.Id} {w.Body}"));
                Assert.Fail(string.Create(CultureInfo.InvariantCulture,
                    $"Webhooks {string.Join(", ", types)} for invoice {invoiceId} did not all arrive within {timeout.TotalSeconds:0} s. Received:\n{got}\n{diagnostics()}"));
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
