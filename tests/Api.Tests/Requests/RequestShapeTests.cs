using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CryptoPay.Api.Tests.Hosting;
using static CryptoPay.Api.Tests.Hosting.HttpJson;

namespace CryptoPay.Api.Tests.Requests;

/// <summary>What is refused before any handler reads the body: a body in another charset; and what the document says is accepted.</summary>
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

    private async Task<(int Status, JsonElement Body, HttpResponseMessage Response)> SendAsync(string contentType, byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/invoices") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        var response = await shop.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), response);
    }
}
