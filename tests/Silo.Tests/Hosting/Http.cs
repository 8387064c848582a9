using System.Diagnostics;
using System.Text.Json;

namespace CryptoPay.Silo.Tests.Hosting;

internal static class Http
{
    public static async Task<(int Status, JsonElement Body)> GetJsonAsync(this HttpClient client, string path, CancellationToken ct)
    {
        using var response = await client.GetAsync(path, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            using var document = JsonDocument.Parse(text);
            return ((int)response.StatusCode, document.RootElement.Clone());
        }
        catch (JsonException error)
        {
            throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode} with a body that is not JSON: {text}", error);
        }
    }

    /// <summary>Polls until <paramref name="done"/> holds for the answer; fails naming the last answer.</summary>
    public static async Task<JsonElement> PollJsonAsync(
        this HttpClient client, string path, Func<int, JsonElement, bool> done, TimeSpan timeout, CancellationToken ct)
    {
        var waited = Stopwatch.StartNew();
        var last = "no answer";
        while (true)
        {
            try
            {
                var (status, body) = await client.GetJsonAsync(path, ct);
                if (done(status, body))
                {
                    return body;
                }

                last = $"{status} {body}";
            }
            catch (HttpRequestException error)
            {
                last = error.Message;
            }

            if (waited.Elapsed > timeout)
            {
                throw new TimeoutException($"GET {path} did not reach the expected answer within {timeout.TotalSeconds:0} s; last: {last}");
            }

            await Task.Delay(200, ct);
        }
    }
}
