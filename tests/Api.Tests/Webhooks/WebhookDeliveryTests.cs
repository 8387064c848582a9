using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.Api.Tests.Invoices;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Webhooks;
using CryptoPay.TestSupport.Postgres;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CryptoPay.Api.Tests.Webhooks;

public sealed class MemoryWebhookDeliveryTests : WebhookDeliveryTests
{
    protected override Task<string?> CreateDatabaseAsync() => Task.FromResult<string?>(null);
}

[Collection("postgres")]
public sealed class PostgresWebhookDeliveryTests(PostgresFixture postgres) : WebhookDeliveryTests
{
    protected override async Task<string?> CreateDatabaseAsync() => await postgres.CreateDatabaseAsync();
}

/// <summary>Webhooks end to end: the gateway on a fake clock posts to a real receiver on loopback.</summary>
public abstract class WebhookDeliveryTests : IAsyncLifetime
{
    private GatewayHost host = null!;
    private WebhookReceiver receiver = null!;
    private HttpClient merchant = null!;
    private string merchantId = null!;

    protected abstract Task<string?> CreateDatabaseAsync();

    public async Task InitializeAsync()
    {
        var database = await CreateDatabaseAsync();
        receiver = await WebhookReceiver.StartAsync();
        host = await GatewayHost.StartAsync(database, new Dictionary<string, string?>
        {
            ["Webhooks:AllowPrivateTargets"] = "true",
            // Short enough to keep the hanging-receiver test quick, long enough that a loaded CI machine answers a plain 302 in time.
            ["Webhooks:Timeout"] = "00:00:03",
        });
        (merchantId, _, var test) = await host.CreateMerchantAsync();
        merchant = host.ClientWith(test);
    }

    public async Task DisposeAsync()
    {
        merchant.Dispose();
        await host.DisposeAsync();
        await receiver.DisposeAsync();
    }

    /// <summary>Runs due turns and waits for the sender until both are quiet (attempts are real HTTP, outside the fake clock).</summary>
    private async Task SettleAsync(TimeSpan advance = default)
    {
        host.Clock.Advance(advance);
        var sender = host.Services.GetRequiredService<WebhookSender>();
        for (var round = 0; round < 20; round++)
        {
            await host.RunDueWorkAsync();
            await sender.WhenIdleAsync();
            await host.RunDueWorkAsync();
        }
    }

    private async Task<(string Id, string Secret)> CreateEndpointAsync(string path = "/hook", string events = "[]")
    {
        var created = await merchant.PostJsonAsync("/v1/webhook-endpoints", $$"""{"url":"{{receiver.Url(path)}}","events":{{events}},"description":"shop"}""");
        Assert.True(created.Status == 201, created.Body.ToString());
        return (created.Body.Str("id"), created.Body.Str("secret"));
    }

    private async Task<string> CreateInvoiceAsync(string? callbackUrl = null)
    {
        var callback = callbackUrl is null ? "" : $$""","callback_url":"{{callbackUrl}}" """;
        var invoice = await merchant.PostJsonAsync("/v1/invoices", $$"""{"amount":"25.50","currency":"USD","payment_methods":["usdt_sandbox"]{{callback}}}""");
        Assert.True(invoice.Status == 201, invoice.Body.ToString());
        return invoice.Body.Str("id");
    }

    /// <summary>An endpoint for invoice.created whose receiver answers <paramref name="status"/> until the returned box is set.</summary>
    private async Task<System.Runtime.CompilerServices.StrongBox<bool>> DownReceiverAsync(int status)
    {
        var up = new System.Runtime.CompilerServices.StrongBox<bool>(false);
        receiver.Respond = (context, _) =>
        {
            context.Response.StatusCode = up.Value ? 200 : status;
            return Task.CompletedTask;
        };
        await CreateEndpointAsync(events: """["invoice.created"]""");
        return up;
    }

    private static void AssertSigned(ReceivedWebhook hook, string secret)
    {
        using var hmac = new HMACSHA256(Convert.FromBase64String(secret["whsec_".Length..]));
        var expected = "v1," + Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes($"{hook.Id}.{hook.Timestamp}.{hook.Body}")));
        Assert.Contains(expected, hook.Signature.Split(' '));
        Assert.Equal(WebhookSender.UserAgent, hook.UserAgent);
    }

    private static string TypeOf(ReceivedWebhook hook) => JsonDocument.Parse(hook.Body).RootElement.GetProperty("type").GetString()!;

    private async Task<JsonElement> DeliveriesAsync(string query = "")
    {
        var list = await merchant.GetJsonAsync("/v1/webhook-deliveries" + query);
        Assert.True(list.Status == 200, list.Body.ToString());
        return list.Body.GetProperty("data");
    }

    [Fact]
    public async Task Paying_a_sandbox_invoice_delivers_each_event_once_signed_with_the_invoice_as_the_API_shows_it()
    {
        var (_, secret) = await CreateEndpointAsync();
        var invoiceId = await CreateInvoiceAsync(callbackUrl: receiver.Url("/callback"));
        Assert.Equal(200, (await merchant.PostJsonAsync($"/v1/sandbox/invoices/{invoiceId}/pay", "{}")).Status);
        await SettleAsync();
        await SettleAsync(TimeSpan.FromSeconds(5));

        var hooks = receiver.Received.Where(r => r.Path == "/hook").ToList();
        Assert.Equal(
            ["invoice.confirmed", "invoice.confirming", "invoice.created", "invoice.payment_detected"],
            hooks.Select(TypeOf).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(hooks.Count, hooks.Select(h => h.Id).Distinct().Count());
        foreach (var hook in hooks)
        {
            AssertSigned(hook, secret);
            var body = JsonDocument.Parse(hook.Body).RootElement;
            Assert.Equal(hook.Id, body.GetProperty("id").GetString());
            Assert.StartsWith("evt_", hook.Id, StringComparison.Ordinal);
            Assert.Equal("test", body.GetProperty("mode").GetString());
            Assert.Equal(invoiceId, body.GetProperty("data").GetProperty("object").GetProperty("id").GetString());
            Assert.True(body.GetProperty("created").GetInt64() > 0);
        }

        var confirmed = hooks.Single(h => TypeOf(h) == "invoice.confirmed");
        Assert.Equal("confirmed", JsonDocument.Parse(confirmed.Body).RootElement.GetProperty("data").GetProperty("object").GetProperty("status").GetString());

        // The callback URL gets the same events, signed with the merchant's default secret (same ids: same events).
        var callbacks = receiver.Received.Where(r => r.Path == "/callback").ToList();
        Assert.Equal(hooks.Select(h => h.Id).Order(StringComparer.Ordinal), callbacks.Select(h => h.Id).Order(StringComparer.Ordinal));

        var deliveries = await DeliveriesAsync();
        Assert.Equal(8, deliveries.GetArrayLength());
        Assert.All(deliveries.EnumerateArray(), d => Assert.Equal("delivered", d.Str("status")));
        Assert.All(deliveries.EnumerateArray(), d => Assert.Equal(200, d.GetProperty("attempts")[0].GetProperty("http_status").GetInt32()));
    }

    [Fact]
    public async Task A_failing_receiver_is_retried_on_the_schedule_with_the_same_webhook_id_until_it_answers_2xx()
    {
        receiver.Respond = async (context, before) =>
        {
            context.Response.StatusCode = before < 2 ? 500 : 204;
            await context.Response.WriteAsync(before < 2 ? new string('x', 5000) : "");
        };
        await CreateEndpointAsync(events: """["invoice.created"]""");
        await CreateInvoiceAsync();
        await SettleAsync();
        Assert.Single(receiver.Received);
        await SettleAsync(TimeSpan.FromSeconds(4));
        Assert.Single(receiver.Received);
        await SettleAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(2, receiver.Received.Count);
        await SettleAsync(TimeSpan.FromMinutes(5));
        Assert.Equal(3, receiver.Received.Count);
        Assert.Single(receiver.Received.Select(r => r.Id).Distinct());

        var delivery = (await DeliveriesAsync()).EnumerateArray().Single();
        Assert.Equal("delivered", delivery.Str("status"));
        var attempts = delivery.GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal([500, 500, 204], attempts.Select(a => a.GetProperty("http_status").GetInt32()));
        Assert.Equal(1024, attempts[0].Str("response_body").Length);
    }

    [Fact]
    public async Task Deliveries_register_no_reminder_each_and_the_lease_sweeper_finds_their_retries_by_attempt_time()
    {
        receiver.Respond = (context, before) =>
        {
            context.Response.StatusCode = before < 2 ? 503 : 200;
            return Task.CompletedTask;
        };
        await CreateEndpointAsync(events: """["invoice.created"]""");
        await CreateInvoiceAsync();
        await SettleAsync();
        Assert.Single(receiver.Received);

        // The failed first attempt is due again in 5 s: recorded in the delivery's row for the sweep, not as a reminder.
        var reminders = host.Services.GetRequiredService<Orleans.IReminderTable>();
        var rows = (await reminders.ReadRows(0, uint.MaxValue)).Reminders.Concat((await reminders.ReadRows(uint.MaxValue, 0)).Reminders).ToList();
        Assert.DoesNotContain(rows, r => r.GrainId.Type.ToString() == "webhook-delivery");
        Assert.Contains(rows, r => r.GrainId.Type.ToString() == "webhook-lease-sweeper" && r.ReminderName == WebhookLeaseSweeperGrain.ReminderName);
        var query = host.Services.GetRequiredService<IWebhookDeliveryQuery>();
        var now = host.Clock.GetUtcNow();
        Assert.Empty(await query.DueAsync(now, 10, CancellationToken.None));
        var due = Assert.Single(await query.DueAsync(now + TimeSpan.FromSeconds(5), 10, CancellationToken.None));
        Assert.StartsWith("evt_", due, StringComparison.Ordinal);

        // The second attempt comes at 5 s, the third at 5 min, as the schedule says; then nothing is due any more.
        await SettleAsync(TimeSpan.FromSeconds(4));
        Assert.Single(receiver.Received);
        await SettleAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(2, receiver.Received.Count);
        await SettleAsync(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        Assert.Equal(2, receiver.Received.Count);
        await SettleAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(3, receiver.Received.Count);
        Assert.Equal("delivered", (await DeliveriesAsync()).EnumerateArray().Single().Str("status"));
        Assert.Empty(await query.DueAsync(host.Clock.GetUtcNow() + TimeSpan.FromDays(1), 10, CancellationToken.None));
    }

    [Fact]
    public async Task Retry_After_on_429_postpones_the_next_attempt_beyond_the_schedule()
    {
        receiver.Respond = (context, before) =>
        {
            context.Response.StatusCode = before == 0 ? 429 : 200;
            context.Response.Headers.RetryAfter = "600";
            return Task.CompletedTask;
        };
        await CreateEndpointAsync(events: """["invoice.created"]""");
        await CreateInvoiceAsync();
        await SettleAsync();
        await SettleAsync(TimeSpan.FromSeconds(5));
        await SettleAsync(TimeSpan.FromMinutes(5));
        Assert.Single(receiver.Received);
        await SettleAsync(TimeSpan.FromSeconds(300));
        Assert.Equal(2, receiver.Received.Count);
    }

    [Fact]
    public async Task A_410_disables_the_endpoint_and_records_why()
    {
        receiver.Respond = (context, _) =>
        {
            context.Response.StatusCode = 410;
            return Task.CompletedTask;
        };
        var (id, _) = await CreateEndpointAsync(events: """["invoice.created"]""");
        await CreateInvoiceAsync();
        await SettleAsync();
        var endpoint = await merchant.GetJsonAsync($"/v1/webhook-endpoints/{id}");
        Assert.False(endpoint.Body.GetProperty("enabled").GetBoolean());
        Assert.Contains("410", endpoint.Body.Str("disabled_reason"), StringComparison.Ordinal);
        Assert.Equal("failed", (await DeliveriesAsync()).EnumerateArray().Single().Str("status"));

        await CreateInvoiceAsync();
        await SettleAsync(TimeSpan.FromHours(1));
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task A_hanging_receiver_times_out_and_a_redirect_is_not_followed()
    {
        receiver.Respond = async (context, before) =>
        {
            if (context.Request.Path == "/hook")
            {
                // Hangs until the gateway gives up on the attempt and aborts the request.
                await new TaskCompletionSource().Task.WaitAsync(context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                return;
            }

            context.Response.StatusCode = 302;
            context.Response.Headers.Location = "/elsewhere";
        };
        await CreateEndpointAsync("/hook", """["invoice.created"]""");
        await CreateEndpointAsync("/redirect", """["invoice.created"]""");
        await CreateInvoiceAsync();
        await SettleAsync();

        var deliveries = (await DeliveriesAsync()).EnumerateArray().ToList();
        Assert.Equal(2, deliveries.Count);
        Assert.All(deliveries, d => Assert.Equal("pending", d.Str("status")));
        var attempts = deliveries.Select(d => d.GetProperty("attempts")[0]).ToList();
        Assert.Contains(attempts, a => a.Str("error").Contains("timed out", StringComparison.Ordinal));
        Assert.Contains(attempts, a => a.GetProperty("http_status").ValueKind == JsonValueKind.Number && a.GetProperty("http_status").GetInt32() == 302);
        Assert.DoesNotContain(receiver.Received, r => r.Path == "/elsewhere");
    }

    [Fact]
    public async Task A_receiver_down_through_the_schedule_gets_every_event_when_it_returns_with_stable_ids()
    {
        var receiverUp = await DownReceiverAsync(503);
        for (var i = 0; i < 3; i++)
        {
            await CreateInvoiceAsync();
        }

        await SettleAsync();
        var schedule = WebhookDeliveryGrain.Schedule;
        foreach (var step in schedule.Skip(1).SkipLast(1))
        {
            await SettleAsync(step);
        }

        Assert.Equal(3 * (schedule.Count - 1), receiver.Received.Count);
        Assert.Equal(3, (await DeliveriesAsync("?status=pending")).GetArrayLength());
        var ids = receiver.Received.Select(r => r.Id).Distinct().Order(StringComparer.Ordinal).ToList();

        receiverUp.Value = true;
        await SettleAsync(schedule[^1]);
        var delivered = (await DeliveriesAsync("?status=delivered")).EnumerateArray().ToList();
        Assert.Equal(3, delivered.Count);
        Assert.All(delivered, d => Assert.Equal(schedule.Count, d.GetProperty("attempts").GetArrayLength()));
        Assert.Equal(ids, receiver.Received.Select(r => r.Id).Distinct().Order(StringComparer.Ordinal));
        Assert.All(receiver.Received.GroupBy(r => r.Id), g => Assert.Equal(schedule.Count, g.Count()));
    }

    [Fact]
    public async Task A_delivery_that_exhausted_the_schedule_is_sent_again_on_redeliver_with_the_same_id()
    {
        var receiverUp = await DownReceiverAsync(500);
        await CreateInvoiceAsync();
        await SettleAsync();
        foreach (var step in WebhookDeliveryGrain.Schedule.Skip(1))
        {
            await SettleAsync(step);
        }

        var failed = Assert.Single((await DeliveriesAsync("?status=failed")).EnumerateArray());
        Assert.Contains("8 scheduled attempts", failed.Str("failure_reason"), StringComparison.Ordinal);
        receiverUp.Value = true;
        var eventId = failed.Str("event_id");
        Assert.Equal(404, (await merchant.PostJsonAsync("/v1/events/evt_unknown/redeliver", "{}")).Status);
        Assert.Equal(200, (await merchant.PostJsonAsync($"/v1/events/{eventId}/redeliver", "{}")).Status);
        await SettleAsync();
        Assert.Equal("delivered", Assert.Single((await DeliveriesAsync($"?event_id={eventId}")).EnumerateArray()).Str("status"));
        Assert.Equal(9, receiver.Received.Count(r => r.Id == eventId));
    }

    [Fact]
    public async Task Every_invoice_transition_emits_its_event()
    {
        await CreateEndpointAsync();
        async Task<List<string>> EventsOf(string invoiceId)
        {
            await SettleAsync();
            return [.. receiver.Received.Select(r => JsonDocument.Parse(r.Body).RootElement)
                .Where(b => b.GetProperty("data").GetProperty("object").GetProperty("id").GetString() == invoiceId)
                .Select(b => b.GetProperty("type").GetString()!).Order(StringComparer.Ordinal)];
        }

        var cancelled = await CreateInvoiceAsync();
        Assert.Equal(200, (await merchant.PostJsonAsync($"/v1/invoices/{cancelled}/cancel", "{}")).Status);
        Assert.Equal(["invoice.cancelled", "invoice.created"], await EventsOf(cancelled));

        var overpaid = await CreateInvoiceAsync();
        Assert.Equal(200, (await merchant.PostJsonAsync($"/v1/sandbox/invoices/{overpaid}/pay", """{"amount":"30"}""")).Status);
        Assert.Equal(["invoice.confirming", "invoice.created", "invoice.overpaid", "invoice.payment_detected"], await EventsOf(overpaid));

        var partial = await CreateInvoiceAsync();
        var expired = await CreateInvoiceAsync();
        Assert.Equal(200, (await merchant.PostJsonAsync($"/v1/sandbox/invoices/{partial}/pay", """{"amount":"10"}""")).Status);
        Assert.Equal(["invoice.created", "invoice.partial_payment", "invoice.payment_detected"], await EventsOf(partial));

        await SettleAsync(TimeSpan.FromHours(25));
        Assert.Equal(["invoice.created", "invoice.expired"], await EventsOf(expired));
        Assert.Contains("invoice.expired", await EventsOf(partial));

        Assert.Equal(200, (await merchant.PostJsonAsync($"/v1/sandbox/invoices/{expired}/pay", """{"amount":"25.5"}""")).Status);
        Assert.Equal(["invoice.confirming", "invoice.created", "invoice.expired", "invoice.paid_late", "invoice.payment_detected"], await EventsOf(expired));

        // Events of one turn travel in one message, yet every event has its own id.
        var ids = receiver.Received.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("id").GetString()).ToList();
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task Rotation_sends_two_signatures_and_the_test_event_reaches_the_endpoints()
    {
        var (id, oldSecret) = await CreateEndpointAsync();
        var rotated = await merchant.PostJsonAsync($"/v1/webhook-endpoints/{id}/rotate-secret", "{}");
        var newSecret = rotated.Body.Str("secret");
        Assert.NotEqual(oldSecret, newSecret);
        Assert.Equal(JsonValueKind.Null, (await merchant.GetJsonAsync($"/v1/webhook-endpoints/{id}")).Body.GetProperty("secret").ValueKind);

        var invoiceId = await CreateInvoiceAsync();
        await SettleAsync();
        receiver.Received.Clear();
        var test = await merchant.PostJsonAsync("/v1/webhooks/test", $$"""{"invoice_id":"{{invoiceId}}","status":"confirmed"}""");
        Assert.True(test.Status == 200, test.Body.ToString());
        await SettleAsync();
        var hook = Assert.Single(receiver.Received);
        Assert.Equal("invoice.confirmed", TypeOf(hook));
        Assert.Equal(test.Body.Str("event_id"), hook.Id);
        Assert.Equal(2, hook.Signature.Split(' ').Length);
        AssertSigned(hook, oldSecret);
        AssertSigned(hook, newSecret);

        await SettleAsync(TimeSpan.FromHours(25));
        receiver.Received.Clear();
        await merchant.PostJsonAsync("/v1/webhooks/test", $$"""{"invoice_id":"{{invoiceId}}","status":"expired"}""");
        await SettleAsync();
        Assert.Single(Assert.Single(receiver.Received).Signature.Split(' '));
    }

    [Theory]
    [InlineData("expired", "invoice.expired", "expired", null)]
    [InlineData("confirmed", "invoice.confirmed", "confirmed", null)]
    [InlineData("overpaid", "invoice.overpaid", "confirmed", "overpaid")]
    [InlineData("paid_partial", "invoice.partial_payment", "pending", null)]
    [InlineData("paid_late", "invoice.paid_late", "confirmed", "paid_late")]
    [InlineData("cancelled", "invoice.cancelled", "cancelled", null)]
    public async Task A_test_event_carries_an_invoice_in_the_state_its_type_says_and_leaves_the_invoice_as_it_is(string asked, string type, string status, string? exception)
    {
        await CreateEndpointAsync();
        var invoiceId = await CreateInvoiceAsync();
        await SettleAsync();
        receiver.Received.Clear();

        var test = await merchant.PostJsonAsync("/v1/webhooks/test", $$"""{"invoice_id":"{{invoiceId}}","status":"{{asked}}"}""");
        Assert.True(test.Status == 200, test.Body.ToString());
        await SettleAsync();

        var hook = Assert.Single(receiver.Received);
        Assert.Equal(type, TypeOf(hook));
        var sample = JsonDocument.Parse(hook.Body).RootElement.GetProperty("data").GetProperty("object");
        Assert.Equal((invoiceId, status, exception), (sample.Str("id"), sample.Str("status"), sample.GetProperty("exception").GetString()));
        Assert.Equal("pending", (await merchant.GetJsonAsync($"/v1/invoices/{invoiceId}")).Body.Str("status"));
    }

    [Fact]
    public async Task An_endpoint_created_by_an_attempt_whose_silo_died_is_the_one_its_retry_gets_with_its_first_secret()
    {
        var body = $$"""{"url":"{{receiver.Url("/hook")}}","events":[],"description":"shop"}""";
        // The attempt got as far as creating its endpoint, under the id its key derives, before its silo died.
        var id = "we_" + DerivedIds.ForIdempotencyKey("webhook-endpoint", Guid.Parse(merchantId), Mode.Test, "endpoint-died", 0).ToString("N")[..24];
        var secret = WebhookSignature.GenerateSecret();
        await host.LeaveDiedAttemptAsync(GatewayHost.TestScope(merchantId), "/v1/webhook-endpoints", body, "endpoint-died");
        await host.Grains.GetGrain<IWebhookEndpointsGrain>(WebhookEndpointsGrain.KeyFor(Guid.Parse(merchantId), Mode.Test))
            .Create(new WebhookEndpointDraft(id, receiver.Url("/hook"), [], "shop", secret));
        await host.AdvanceAsync(CryptoPay.Grains.Idempotency.IdempotencyGrain.InProgressLease);

        var retried = await merchant.PostJsonAsync("/v1/webhook-endpoints", body, r => r.Headers.Add("Idempotency-Key", "endpoint-died"));

        Assert.True(retried.Status == 201, retried.Body.ToString());
        Assert.Equal((id, secret), (retried.Body.Str("id"), retried.Body.Str("secret")));
        Assert.Equal(1, (await merchant.GetJsonAsync("/v1/webhook-endpoints")).Body.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task Endpoints_are_validated_and_another_merchants_objects_are_not_found()
    {
        var bad = await merchant.PostJsonAsync("/v1/webhook-endpoints", """{"url":"ftp://example.com/x"}""");
        Assert.Equal(400, bad.Status);
        Assert.Equal("VALIDATION_FAILED", bad.Body.Str("code"));
        Assert.Equal(400, (await merchant.PostJsonAsync("/v1/webhook-endpoints", """{"url":"https://example.com","events":["nope"]}""")).Status);

        var (id, _) = await CreateEndpointAsync();
        var (_, _, otherKey) = await host.CreateMerchantAsync("""{"name":"Other"}""");
        using var other = host.ClientWith(otherKey);
        Assert.Equal(404, (await other.GetJsonAsync($"/v1/webhook-endpoints/{id}")).Status);
        Assert.Equal(404, (await other.SendJsonAsync(HttpMethod.Delete, $"/v1/webhook-endpoints/{id}")).Status);
        Assert.Equal(0, (await other.GetJsonAsync("/v1/webhook-endpoints")).Body.GetProperty("data").GetArrayLength());

        var patched = await merchant.SendJsonAsync(HttpMethod.Patch, $"/v1/webhook-endpoints/{id}", """{"enabled":false,"description":"off"}""");
        Assert.False(patched.Body.GetProperty("enabled").GetBoolean());
        Assert.Equal(204, (await merchant.SendJsonAsync(HttpMethod.Delete, $"/v1/webhook-endpoints/{id}")).Status);
        Assert.Equal(404, (await merchant.GetJsonAsync($"/v1/webhook-endpoints/{id}")).Status);
    }
}
