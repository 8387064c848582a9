using System.Text;
using System.Text.Json;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.TestSupport.Postgres;
using static CryptoPay.Api.Tests.Hosting.HttpJson;

namespace CryptoPay.Api.Tests.Requests;

public sealed class MemoryRequestBodyTests : RequestBodyTests
{
    protected override Task<string?> CreateDatabaseAsync() => Task.FromResult<string?>(null);
}

[Collection("postgres")]
public sealed class PostgresRequestBodyTests(PostgresFixture postgres) : RequestBodyTests
{
    protected override async Task<string?> CreateDatabaseAsync() => await postgres.CreateDatabaseAsync();
}

/// <summary>
/// Text a store cannot keep as sent (NUL, lone surrogates, bytes that are not UTF-8) and ambiguous JSON (a key given
/// twice) are refused by the body reader, in any field, with 400 and nothing written; on both stores alike.
/// </summary>
public abstract class RequestBodyTests : IAsyncLifetime
{
    private GatewayHost host = null!;

    protected abstract Task<string?> CreateDatabaseAsync();

    public async Task InitializeAsync() => host = await GatewayHost.StartAsync(await CreateDatabaseAsync());

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task A_nul_character_in_any_string_of_any_body_is_refused_before_anything_is_written()
    {
        var (merchant, shop) = await MerchantAsync();
        using var admin = host.ClientWith(GatewayHost.AdminKey);
        var invoice = (await shop.PostJsonAsync("/v1/invoices", """{"amount":"1","currency":"USD","payment_methods":["usdt_sandbox"]}""")).Body.Str("id");
        var refusals = new (HttpClient Client, HttpMethod Method, string Path, string Body, string Field)[]
        {
            (shop, HttpMethod.Post, "/v1/invoices", """{"amount":"1","currency":"USD","description":"a\u0000b"}""", "description"),
            (shop, HttpMethod.Post, "/v1/invoices", """{"amount":"1","currency":"USD","order_id":"o\u0000"}""", "order_id"),
            (shop, HttpMethod.Post, "/v1/invoices", """{"amount":"1","currency":"USD","customer_id":"\u0000"}""", "customer_id"),
            (shop, HttpMethod.Post, "/v1/invoices", """{"amount":"10.00\u0000","currency":"USD"}""", "amount"),
            (shop, HttpMethod.Post, "/v1/invoices", """{"amount":"1","currency":"USD","line_items":[{"description":"a\u0000","amount":"1","quantity":1}]}""", "line_items[0].description"),
            (shop, HttpMethod.Post, "/v1/invoices", """{"amount":"1","currency":"USD","metadata":{"k":"v\u0000"}}""", "metadata.k"),
            (shop, HttpMethod.Post, "/v1/invoices", """{"amount":"1","currency":"USD","metadata":{"k\u0000":"v"}}""", "metadata"),
            (shop, HttpMethod.Post, "/v1/invoices", """{"amount":"1","currency":"USD","metadata":{"deep":{"list":["ok","\u0000"]}}}""", "metadata.deep.list[1]"),
            (shop, HttpMethod.Post, "/v1/invoices/archived", """{"amount":"1","currency":"USD","created_at":"2024-01-01\u0000"}""", "created_at"),
            (shop, HttpMethod.Patch, $"/v1/invoices/{invoice}", """{"status":"cancelled","comment":"x\u0000"}""", "comment"),
            (shop, HttpMethod.Post, "/v1/payment-links", """{"amount":"5","currency":"USD","description":"link\u0000"}""", "description"),
            (shop, HttpMethod.Post, "/v1/webhook-endpoints", """{"url":"https://example.com/hook","description":"hook\u0000"}""", "description"),
            (admin, HttpMethod.Post, "/v1/merchants", """{"name":"Shop\u0000"}""", "name"),
        };

        foreach (var (client, method, path, body, field) in refusals)
        {
            AssertRefused(await client.SendJsonAsync(method, path, body), field, body);
        }

        await AssertNothingWrittenAsync(shop, invoice);
        Assert.Equal("Shop", (await admin.GetJsonAsync($"/v1/merchants/{merchant}")).Body.Str("name"));
    }

    [Fact]
    public async Task Bytes_that_are_not_utf8_and_lone_surrogates_are_refused_with_400()
    {
        var (_, shop) = await MerchantAsync();
        using var admin = host.ClientWith(GatewayHost.AdminKey);
        foreach (var bytes in new byte[][] { [0xff, 0xfe], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82] })
        {
            var body = Encoding.UTF8.GetBytes("{\"amount\":\"1\",\"currency\":\"USD\",\"description\":\"").Concat(bytes).Concat(Encoding.UTF8.GetBytes("\"}")).ToArray();
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/invoices") { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new("application/json");
            using var response = await shop.SendAsync(request);
            var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            AssertRefused(((int)response.StatusCode, json, response), "body", Convert.ToHexString(bytes));
        }

        AssertRefused(await shop.PostJsonAsync("/v1/invoices", """{"amount":"1","currency":"USD","description":"\ud800x"}"""), "description", "high surrogate");
        AssertRefused(await shop.PostJsonAsync("/v1/invoices", """{"amount":"1","currency":"USD","metadata":{"\udc00":1}}"""), "metadata", "surrogate key");
        AssertRefused(await shop.PostJsonAsync("/v1/invoices", """{"amount":"1","currency":"USD","description":"\udc00\ud800"}"""), "description", "reversed pair");
        AssertRefused(await admin.PostJsonAsync("/v1/merchants", """{"name":"x\udc00y"}"""), "name", "merchant name");
        await AssertNothingWrittenAsync(shop, invoice: null);

        // A well-formed pair is one character, not a refusal.
        var emoji = await shop.PostJsonAsync("/v1/invoices", """{"amount":"1","currency":"USD","description":"\ud83d\ude00"}""");
        Assert.True(emoji.Status == 201, emoji.Body.ToString());
        Assert.Equal("\U0001F600", emoji.Body.Str("description"));
    }

    [Fact]
    public async Task A_key_given_twice_is_refused_at_any_depth()
    {
        var (_, shop) = await MerchantAsync();
        AssertRefused(await shop.PostJsonAsync("/v1/invoices", """{"amount":"10.00","amount":"99999","currency":"USD"}"""), "amount", "top level");
        AssertRefused(await shop.PostJsonAsync("/v1/invoices", """{"amount":"10.00","\u0061mount":"99999","currency":"USD"}"""), "amount", "escaped name");
        AssertRefused(await shop.PostJsonAsync("/v1/invoices", """{"amount":"1","currency":"USD","metadata":{"a":1,"a":2}}"""), "metadata.a", "metadata");
        AssertRefused(await shop.PostJsonAsync("/v1/invoices", """{"amount":"1","currency":"USD","line_items":[{"description":"a","description":"b","amount":"1"}]}"""), "line_items[0].description", "line item");
        await AssertNothingWrittenAsync(shop, invoice: null);

        // Names differing in case are different keys (JSON is case-sensitive).
        Assert.Equal(201, (await shop.PostJsonAsync("/v1/invoices", """{"amount":"1","currency":"USD","metadata":{"a":1,"A":2}}""")).Status);
    }

    [Fact]
    public async Task Description_limits_count_the_characters_people_see()
    {
        var (_, shop) = await MerchantAsync();
        var fiftyOneEmoji = string.Concat(Enumerable.Repeat("\U0001F600", 51));
        var created = await shop.PostJsonAsync("/v1/invoices", JsonSerializer.Serialize(new { amount = "1", currency = "USD", description = fiftyOneEmoji }));
        Assert.True(created.Status == 201, created.Body.ToString());
        Assert.Equal(fiftyOneEmoji, created.Body.Str("description"));

        // A family (seven code points joined) and a letter with a combining accent are one character each.
        var family = string.Concat(Enumerable.Repeat("\U0001F468\u200D\U0001F469\u200D\U0001F467", 100));
        var accented = string.Concat(Enumerable.Repeat("e\u0301", 100));
        Assert.Equal(201, (await shop.PostJsonAsync("/v1/invoices", JsonSerializer.Serialize(new { amount = "1", currency = "USD", description = family }))).Status);
        Assert.Equal(201, (await shop.PostJsonAsync("/v1/invoices", JsonSerializer.Serialize(new
        {
            amount = "1",
            currency = "USD",
            line_items = new[] { new { description = accented, amount = "1", quantity = 1 } },
        }))).Status);
        Assert.Equal(201, (await shop.PostJsonAsync("/v1/payment-links", JsonSerializer.Serialize(new { amount = "1", currency = "USD", description = family }))).Status);

        var tooLong = string.Concat(Enumerable.Repeat("\U0001F600", 101));
        AssertRefused(await shop.PostJsonAsync("/v1/invoices", JsonSerializer.Serialize(new { amount = "1", currency = "USD", description = tooLong })), "description", "101 emoji");
        AssertRefused(await shop.PostJsonAsync("/v1/payment-links", JsonSerializer.Serialize(new { amount = "1", currency = "USD", description = tooLong })), "description", "101 emoji link");
        Assert.Equal(3, await InvoiceCountAsync(shop));
    }

    private async Task<(string Merchant, HttpClient Shop)> MerchantAsync()
    {
        var (id, _, test) = await host.CreateMerchantAsync();
        return (id, host.ClientWith(test));
    }

    private static void AssertRefused((int Status, JsonElement Body, HttpResponseMessage Response) answer, string field, string what)
    {
        Assert.True(answer.Status == 400, $"{what}: {answer.Status} {answer.Body}");
        AssertProblem(answer, 400, "VALIDATION_FAILED");
        Assert.True(answer.Body.GetProperty("errors").TryGetProperty(field, out _), $"{what}: expected an error on '{field}', got {answer.Body}");
    }

    private static async Task<int> InvoiceCountAsync(HttpClient shop) =>
        (await shop.GetJsonAsync("/v1/invoices")).Body.GetProperty("pagination").GetProperty("total").GetInt32();

    /// <summary>Only the invoice the test made on purpose exists, still pending; no link and no webhook endpoint.</summary>
    private static async Task AssertNothingWrittenAsync(HttpClient shop, string? invoice)
    {
        Assert.Equal(invoice is null ? 0 : 1, await InvoiceCountAsync(shop));
        if (invoice is not null)
        {
            Assert.Equal("pending", (await shop.GetJsonAsync($"/v1/invoices/{invoice}")).Body.Str("status"));
        }

        Assert.Empty((await shop.GetJsonAsync("/v1/payment-links")).Body.GetProperty("items").EnumerateArray());
        Assert.Empty((await shop.GetJsonAsync("/v1/webhook-endpoints")).Body.GetProperty("data").EnumerateArray());
    }
}
