using System.Net;
using System.Net.Http.Headers;
using System.Text;
using CryptoPay.Silo.Hosting;
using CryptoPay.TestSupport.Processes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace CryptoPay.OrleansTests.Hosting;

/// <summary>The Orleans Dashboard at /dashboard on a web host with an embedded silo, behind the operator admin key.</summary>
public sealed class DashboardTests
{
    private const string AdminKey = "operator-secret";

    [Fact]
    public async Task The_dashboard_answers_only_to_the_operator_admin_key()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var orleansPorts = LoopbackPort.PickFree(2);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Admin:ApiKey"] = AdminKey,
            ["Orleans:SiloPort"] = orleansPorts[0].ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = orleansPorts[1].ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        builder.UseCryptoPayOrleans();
        await using var app = builder.Build();
        app.MapCryptoPayDashboard();
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        var anonymous = await http.GetAsync("/dashboard/version");
        var wrongKey = await SendAsync(http, "/dashboard/version", new AuthenticationHeaderValue("Bearer", "not-the-key"));
        var bearer = await SendAsync(http, "/dashboard/version", new AuthenticationHeaderValue("Bearer", AdminKey));
        var browser = await SendAsync(http, "/dashboard/", new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"operator:{AdminKey}"))));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Basic", anonymous.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
        Assert.Contains("version", await bearer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, browser.StatusCode);
        Assert.Equal("text/html", browser.Content.Headers.ContentType?.MediaType);
        await app.StopAsync();
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, string path, AuthenticationHeaderValue authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = authorization } };
        return await http.SendAsync(request);
    }
}
