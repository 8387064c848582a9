using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CryptoPay.Api.Tests.Webhooks;

public sealed record ReceivedWebhook(string Id, string Timestamp, string Signature, string Body, string UserAgent, string Path)
{
    /// <summary>Every header as received (a profile's webhooks sign with their own headers).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
}

/// <summary>A real HTTP receiver on loopback; <see cref="Respond"/> decides each answer from the request count so far.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;

    private WebhookReceiver(WebApplication app) => this.app = app;

    private TaskCompletionSource arrival = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    /// <summary>Completes when the next request arrives (after this call).</summary>
    public Task NextArrivalAsync() => Volatile.Read(ref arrival).Task;

    /// <summary>Answers a request; gets the number of requests received before it on the same path.</summary>
    public Func<HttpContext, int, Task> Respond { get; set; } = (context, _) =>
    {
        context.Response.StatusCode = 200;
        return context.Response.WriteAsync("ok");
    };

    public string Url(string path = "/hook") => app.Urls.First() + path;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            var before = receiver.Received.Count(r => r.Path == context.Request.Path);
            receiver.Received.Enqueue(new ReceivedWebhook(
                context.Request.Headers["webhook-id"].ToString(), context.Request.Headers["webhook-timestamp"].ToString(),
                context.Request.Headers["webhook-signature"].ToString(), body, context.Request.Headers.UserAgent.ToString(), context.Request.Path)
            {
                Headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            });
            Interlocked.Exchange(ref receiver.arrival, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            await receiver.Respond(context, before);
        });
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
