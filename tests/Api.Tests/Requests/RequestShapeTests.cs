using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CryptoPay.Api.Tests.Hosting;
using static CryptoPay.Api.Tests.Hosting.HttpJson;

namespace CryptoPay.Api.Tests.Requests;

/// <summary>
/// What is refused before any handler reads the body: another charset, oversized or undecodable headers, an
/// overlong request line. Each answer is a problem body with a code, whichever layer refuses.
/// </summary>
public sealed class RequestShapeTests : IAsyncLifetime
{
    private const string Invoice = """{"amount":"1","currency":"USD"}""";
    private GatewayHost host = null!;
    private HttpClient shop = null!;

    public async Task InitializeAsync()
    {
        host = await GatewayHost.StartAsync(null);
        shop = host.ClientWith((await host.CreateMerchantAsync()).TestKey);
    }

    public async Task DisposeAsync()
    {
        shop.Dispose();
        await host.DisposeAsync();
    }

    [Fact]
    public async Task A_json_body_in_another_charset_is_415_and_utf8_passes()
    {
        foreach (var (contentType, encoding) in new[]
                 {
                     ("application/json; charset=utf-16", Encoding.Unicode), ("application/json; charset=latin1", Encoding.Latin1),
                     ("application/json; charset=ISO-8859-1", Encoding.Latin1), ("application/json;charset=utf-32", Encoding.UTF32),
                 })
        {
            AssertProblem(await SendAsync(contentType, encoding.GetBytes(Invoice)), 415, "UNSUPPORTED_MEDIA_TYPE");
        }

        foreach (var contentType in new[] { "application/json", "application/json; charset=utf-8", "application/json; charset=\"UTF-8\"" })
        {
            var answer = await SendAsync(contentType, Encoding.UTF8.GetBytes(Invoice));
            Assert.True(answer.Status == 201, $"{contentType}: {answer.Status} {answer.Body}");
        }

        Assert.Equal(3, (await shop.GetJsonAsync("/v1/invoices")).Body.GetProperty("pagination").GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task The_openapi_document_lists_only_json_as_a_request_body_type()
    {
        var document = (await host.Http.GetJsonAsync("/openapi/v1.json")).Body;
        var bodies = 0;
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Value.ValueKind == JsonValueKind.Object && o.Value.TryGetProperty("requestBody", out _)))
            {
                var types = operation.Value.GetProperty("requestBody").GetProperty("content").EnumerateObject().Select(c => c.Name).ToList();
                Assert.True(types.SequenceEqual(["application/json"]), $"{operation.Name} {path.Name}: {string.Join(", ", types)}");
                bodies++;
            }
        }

        Assert.True(bodies >= 8, $"only {bodies} operations declare a body");
    }

    [Fact]
    public async Task Oversized_headers_and_request_lines_and_a_nul_in_the_query_get_a_problem_body()
    {
        AssertProblem(await shop.SendJsonAsync(HttpMethod.Post, "/v1/invoices", Invoice, r => r.Headers.Add("X-Big", new string('a', 60 * 1024))), 431, "REQUEST_HEADERS_TOO_LARGE");
        AssertProblem(await shop.SendJsonAsync(HttpMethod.Get, "/v1/invoices", configure: r =>
        {
            for (var i = 0; i < 150; i++)
            {
                r.Headers.Add($"X-Many-{i}", "v");
            }
        }), 431, "REQUEST_HEADERS_TOO_LARGE");
        AssertProblem(await shop.GetJsonAsync("/v1/invoices?order_id=" + new string('q', 10 * 1024)), 414, "URI_TOO_LONG");
        // A filter with a NUL never reaches the store (PostgreSQL refuses one in text: a 5xx there).
        AssertProblem(await shop.GetJsonAsync("/v1/invoices?order_id=a%00b"), 400, "VALIDATION_FAILED");
        AssertProblem(await shop.GetJsonAsync("/v1/invoices?customer_id=%00"), 400, "VALIDATION_FAILED");
        Assert.Equal(0, (await shop.GetJsonAsync("/v1/invoices")).Body.GetProperty("pagination").GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task An_idempotency_key_that_is_not_utf8_gets_400_with_a_problem_body()
    {
        // Sends header values byte for byte (Latin-1), so 0xff 0xfe reach the server as a broken client would send them.
        using var handler = new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.Latin1 };
        using var raw = new HttpClient(handler) { BaseAddress = host.Http.BaseAddress };
        var key = shop.DefaultRequestHeaders.Authorization!.ToString();
        foreach (var idempotencyKey in new[] { "\u00ff\u00fe", "a\u00e9b", "nul\u0001key" })
        {
            var answer = await raw.PostJsonAsync("/v1/invoices", Invoice, r =>
            {
                r.Headers.TryAddWithoutValidation("Authorization", key);
                r.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
            });
            AssertProblem(answer, 400, "VALIDATION_FAILED");
            Assert.Contains("Idempotency-Key", answer.Body.Str("detail"), StringComparison.Ordinal);
        }

        AssertProblem(await raw.SendJsonAsync(HttpMethod.Get, "/v1/invoices", configure: r => r.Headers.TryAddWithoutValidation("Authorization", "Bearer \u00ff\u00fe")), 401, "UNAUTHORIZED");
        Assert.Equal(0, (await shop.GetJsonAsync("/v1/invoices")).Body.GetProperty("pagination").GetProperty("total").GetInt32());

        // UTF-8 text is a key like any other: "café" sent as its UTF-8 bytes creates once, then replays.
        var answers = new List<(int Status, JsonElement Body, HttpResponseMessage Response)>();
        for (var i = 0; i < 2; i++)
        {
            answers.Add(await raw.PostJsonAsync("/v1/invoices", Invoice, r =>
            {
                r.Headers.TryAddWithoutValidation("Authorization", key);
                r.Headers.TryAddWithoutValidation("Idempotency-Key", "caf\u00c3\u00a9");
            }));
        }

        Assert.True(answers[0].Status == 201, answers[0].Body.ToString());
        Assert.Equal(answers[0].Body.Str("id"), answers[1].Body.Str("id"));
        Assert.Equal("true", answers[1].Response.Headers.GetValues("Idempotent-Replayed").Single());
    }

    private async Task<(int Status, JsonElement Body, HttpResponseMessage Response)> SendAsync(string contentType, byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/invoices") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        var response = await shop.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), response);
    }
}
