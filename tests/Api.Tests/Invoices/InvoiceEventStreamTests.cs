using System.Net;
using System.Text.Json;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.Api.Tests.Invoices;

public sealed class MemoryInvoiceEventStreamTests : InvoiceEventStreamTests
{
    protected override Task<string?> CreateDatabaseAsync() => Task.FromResult<string?>(null);
}

[Collection("postgres")]
public sealed class PostgresInvoiceEventStreamTests(PostgresFixture postgres) : InvoiceEventStreamTests
{
    protected override async Task<string?> CreateDatabaseAsync() => await postgres.CreateDatabaseAsync();
}

/// <summary>The public SSE stream of an invoice, read through real HTTP while the fake clock moves.</summary>
public abstract class InvoiceEventStreamTests : IAsyncLifetime
{
    private const string Invoice = """{"amount":"25.50","currency":"USD","payment_methods":["usdt_sandbox"]}""";
    private GatewayHost host = null!;

    protected abstract Task<string?> CreateDatabaseAsync();

    public async Task InitializeAsync() => host = await GatewayHost.StartAsync(await CreateDatabaseAsync());

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task The_stream_sends_the_current_status_then_each_change_and_ends_when_confirmed()
    {
        var (_, _, key) = await host.CreateMerchantAsync();
        using var merchant = host.ClientWith(key);
        var id = (await merchant.PostJsonAsync("/v1/invoices", Invoice)).Body.Str("id");
        using var stream = await EventStream.OpenAsync(host, id);
        Assert.Equal("text/event-stream", stream.ContentType);

        var initial = await stream.NextEventAsync();
        Assert.Equal(("status", "1", "pending"), (initial.Name, initial.Id, initial.Data.Str("status")));

        Assert.Equal(200, (await merchant.PostJsonAsync($"/v1/sandbox/invoices/{id}/pay", "{}")).Status);
        var confirming = await stream.NextEventAsync();
        Assert.Equal("confirming", confirming.Data.Str("status"));
        Assert.Equal((0, 1), (confirming.Data.GetProperty("confirmations").GetProperty("received").GetInt32(), confirming.Data.GetProperty("confirmations").GetProperty("required").GetInt32()));
        Assert.True(long.Parse(confirming.Id!, System.Globalization.CultureInfo.InvariantCulture) > 1);

        await host.AdvanceAsync(TimeSpan.FromSeconds(5));
        var confirmed = await stream.NextEventAsync();
        Assert.Equal(("confirmed", "25.500000"), (confirmed.Data.Str("status"), confirmed.Data.Str("paid_amount")));
        Assert.True(long.Parse(confirmed.Id!, System.Globalization.CultureInfo.InvariantCulture) > long.Parse(confirming.Id!, System.Globalization.CultureInfo.InvariantCulture));
        await stream.AssertEndedAsync();
    }

    [Fact]
    public async Task Heartbeats_keep_an_idle_stream_open_and_last_event_id_resumes_after_what_was_seen()
    {
        var (_, _, key) = await host.CreateMerchantAsync();
        using var merchant = host.ClientWith(key);
        var id = (await merchant.PostJsonAsync("/v1/invoices", """{"amount":"10","currency":"USD","network":"sandbox","expire_min":1}""")).Body.Str("id");

        using (var resumed = await EventStream.OpenAsync(host, id, lastEventId: "1"))
        {
            // Nothing newer than revision 1 yet: the first thing on the wire is a heartbeat, after 15 s of silence.
            var heartbeat = await resumed.NextEventAsync();
            Assert.True(heartbeat.IsComment, heartbeat.ToString());
            Assert.True(host.Clock.GetUtcNow() - resumed.OpenedAt >= TimeSpan.FromSeconds(15));

            await host.AdvanceAsync(TimeSpan.FromSeconds(60));
            var expired = await resumed.NextEventAsync(skipComments: true);
            Assert.Equal(("expired", "2"), (expired.Data.Str("status"), expired.Id));
            await resumed.AssertEndedAsync();
        }

        using var caughtUp = await EventStream.OpenAsync(host, id, lastEventId: "2");
        await caughtUp.AssertEndedAsync();

        using var anonymous = new HttpClient { BaseAddress = host.Http.BaseAddress };
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/v1/invoices/{Guid.NewGuid()}/events")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/v1/invoices/nope/events")).StatusCode);
    }

    private sealed record ServerEvent(string? Name, string? Id, JsonElement Data, bool IsComment);

    /// <summary>An open SSE response; reading moves the fake clock in poll-sized steps until the next event arrives.</summary>
    private sealed class EventStream : IDisposable
    {
        private static readonly TimeSpan Step = TimeSpan.FromSeconds(1);
        private readonly GatewayHost host;
        private readonly HttpClient client;
        private readonly HttpResponseMessage response;
        private readonly StreamReader reader;
        private Task<string?>? pendingLine;

        private EventStream(GatewayHost host, HttpClient client, HttpResponseMessage response, StreamReader reader)
        {
            this.host = host;
            this.client = client;
            this.response = response;
            this.reader = reader;
            OpenedAt = host.Clock.GetUtcNow();
        }

        public DateTimeOffset OpenedAt { get; }

        public string? ContentType => response.Content.Headers.ContentType?.MediaType;

        public static async Task<EventStream> OpenAsync(GatewayHost host, string id, string? lastEventId = null)
        {
            var client = new HttpClient { BaseAddress = host.Http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/invoices/{id}/events");
            if (lastEventId is not null)
            {
                request.Headers.Add("Last-Event-ID", lastEventId);
            }

            var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return new EventStream(host, client, response, new StreamReader(await response.Content.ReadAsStreamAsync()));
        }

        /// <summary>The next event, or comment unless skipped; fails when the server ended the stream.</summary>
        public async Task<ServerEvent> NextEventAsync(bool skipComments = false) =>
            await ReadAsync(expectEnd: false, skipComments) ?? throw new Xunit.Sdk.XunitException("the stream ended before the next event");

        /// <summary>Asserts the server ends the stream without another event (comments aside).</summary>
        public async Task AssertEndedAsync() => Assert.Null(await ReadAsync(expectEnd: true, skipComments: true));

        private async Task<ServerEvent?> ReadAsync(bool expectEnd, bool skipComments)
        {
            string? name = null, id = null, data = null;
            while (true)
            {
                var line = await NextLineAsync();
                if (line is null)
                {
                    Assert.True(expectEnd || name is null, "the stream ended in the middle of an event");
                    return null;
                }

                Assert.False(expectEnd && line.Length > 0 && !line.StartsWith(':'), $"expected the end of the stream, got '{line}'");
                if (line.StartsWith(':'))
                {
                    if (!skipComments && !expectEnd)
                    {
                        Assert.Equal("", await NextLineAsync());
                        return new ServerEvent(null, null, default, IsComment: true);
                    }

                    continue;
                }

                if (line.Length == 0)
                {
                    if (data is not null)
                    {
                        return new ServerEvent(name, id, JsonDocument.Parse(data).RootElement.Clone(), IsComment: false);
                    }

                    continue;
                }

                var (field, value) = line.IndexOf(':') is var colon and >= 0 ? (line[..colon], line[(colon + 1)..].TrimStart()) : (line, "");
                switch (field)
                {
                    case "event": name = value; break;
                    case "id": id = value; break;
                    case "data": data = value; break;
                }
            }
        }

        private async Task<string?> NextLineAsync()
        {
            pendingLine ??= reader.ReadLineAsync();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            // The stream polls on the fake clock: move it one poll interval at a time until the server writes.
            while (await Task.WhenAny(pendingLine, Task.Delay(50)) != pendingLine)
            {
                Assert.True(DateTime.UtcNow < deadline, "no event within 30 s of real time");
                await host.AdvanceAsync(Step);
            }

            var line = await pendingLine;
            pendingLine = null;
            return line;
        }

        public void Dispose()
        {
            reader.Dispose();
            response.Dispose();
            client.Dispose();
        }
    }
}
