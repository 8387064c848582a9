using System.Net;
using System.Net.Http.Headers;
using Utf8 = System.Text.Encoding;
using System.Text.Json;

namespace CryptoPay.Chains.Rpc;

/// <summary>
/// Posts one JSON-RPC request per call to a node over HTTP and hands back the <c>result</c> element. Shared by the
/// Bitcoin Core and Ethereum clients; they differ only in the protocol version string and in their result shapes.
/// </summary>
internal sealed class JsonRpcTransport
{
    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly string _protocolVersion;
    private readonly Func<AuthenticationHeaderValue?> _authorization;
    private readonly TimeSpan _timeout;
    private long _nextId;

    public JsonRpcTransport(HttpClient http, Uri endpoint, string protocolVersion, TimeSpan timeout, Func<AuthenticationHeaderValue?> authorization)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        _http = http;
        _endpoint = endpoint;
        _protocolVersion = protocolVersion;
        _timeout = timeout;
        _authorization = authorization;
    }

    public Uri Endpoint => _endpoint;

    /// <summary>Calls <paramref name="method"/> and parses its <c>result</c> with <paramref name="parse"/> while the document is alive.</summary>
    public async Task<T> CallAsync<T>(string method, Action<Utf8JsonWriter> writeParams, Func<JsonElement, T> parse, CancellationToken ct)
    {
        var id = Interlocked.Increment(ref _nextId);
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint)
        {
            Content = new ByteArrayContent(Serialize(id, method, writeParams)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = _authorization();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_timeout);
        HttpResponseMessage response;
        byte[] body;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
            body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
        }
        catch (OperationCanceledException exception) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"JSON-RPC '{method}' to {_endpoint} did not answer within {_timeout.TotalSeconds:0.#} s.", exception);
        }
        catch (HttpRequestException exception)
        {
            throw new HttpRequestException($"JSON-RPC '{method}' to {_endpoint} failed: {exception.Message}", exception, exception.StatusCode);
        }

        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw new JsonRpcException(method, (int)response.StatusCode, $"the node refused the credentials (HTTP {(int)response.StatusCode}).");
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(body);
            }
            catch (JsonException exception)
            {
                // Bitcoin Core answers HTTP 500 with a JSON error body, so only a body that is not JSON is an HTTP failure.
                var text = Utf8.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 300)));
                throw new JsonRpcException(method, (int)response.StatusCode, $"HTTP {(int)response.StatusCode} with a body that is not JSON: {text}", exception);
            }

            using (document)
            {
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    throw new JsonRpcException(method, (int)response.StatusCode, $"the answer is a JSON {root.ValueKind}, not a JSON-RPC response object.");
                }

                if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
                {
                    var code = error.TryGetProperty("code", out var c) && c.TryGetInt32(out var parsed) ? parsed : (int)response.StatusCode;
                    var message = error.TryGetProperty("message", out var m) ? m.ToString() : error.GetRawText();
                    throw new JsonRpcException(method, code, message);
                }

                if (!root.TryGetProperty("result", out var result))
                {
                    throw new JsonRpcException(method, (int)response.StatusCode, "the answer has neither a result nor an error.");
                }

                try
                {
                    return parse(result);
                }
                catch (Exception exception) when (exception is InvalidOperationException or FormatException or KeyNotFoundException or OverflowException)
                {
                    throw new FormatException($"JSON-RPC '{method}' returned a result this client cannot read ({exception.Message}): {Excerpt(result)}", exception);
                }
            }
        }
    }

    private static string Excerpt(JsonElement element)
    {
        var text = element.GetRawText();
        return text.Length <= 500 ? text : text[..500] + "…";
    }

    private byte[] Serialize(long id, string method, Action<Utf8JsonWriter> writeParams)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc", _protocolVersion);
            writer.WriteNumber("id", id);
            writer.WriteString("method", method);
            writer.WritePropertyName("params");
            writer.WriteStartArray();
            writeParams(writer);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Basic authentication header for user:password.</summary>
    public static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Utf8.UTF8.GetBytes($"{user}:{password}")));
}
