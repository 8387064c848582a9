using System.Globalization;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.TestSupport.Postgres;
using static CryptoPay.Api.Tests.Hosting.HttpJson;

namespace CryptoPay.Api.Tests.Invoices;

public sealed class MemoryArchivedImportDateTests : ArchivedImportDateTests
{
    protected override Task<string?> CreateDatabaseAsync() => Task.FromResult<string?>(null);
}

[Collection("postgres")]
public sealed class PostgresArchivedImportDateTests(PostgresFixture postgres) : ArchivedImportDateTests
{
    protected override async Task<string?> CreateDatabaseAsync() => await postgres.CreateDatabaseAsync();
}

/// <summary>POST /v1/invoices/archived reads every created_at form API.md lists, to the 100 ns a timestamp holds.</summary>
public abstract class ArchivedImportDateTests : IAsyncLifetime
{
    private GatewayHost host = null!;

    protected abstract Task<string?> CreateDatabaseAsync();

    public async Task InitializeAsync() => host = await GatewayHost.StartAsync(await CreateDatabaseAsync());

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Every_documented_created_at_form_is_imported_as_that_instant()
    {
        using var live = host.ClientWith((await host.CreateMerchantAsync()).LiveKey);
        foreach (var (createdAt, instant) in new[]
                 {
                     ("2024-03-04T05:06:07Z", "2024-03-04T05:06:07.0000000Z"),
                     ("2024-03-04T05:06:07.1Z", "2024-03-04T05:06:07.1000000Z"),
                     ("2024-03-04T05:06:07.123+02:00", "2024-03-04T03:06:07.1230000Z"),
                     ("2024-03-04T05:06:07.1234567Z", "2024-03-04T05:06:07.1234567Z"),
                     ("2024-03-04T05:06:07.12345678Z", "2024-03-04T05:06:07.1234567Z"),
                     ("2024-03-04T05:06:07.123456789-01:30", "2024-03-04T06:36:07.1234567Z"),
                     ("2024-03-04", "2024-03-04T00:00:00.0000000Z"),
                     ("2024-03-04 05:06:07", "2024-03-04T05:06:07.0000000Z"),
                     ("04/03/2024 05:06:07", "2024-03-04T05:06:07.0000000Z"),
                 })
        {
            var answer = await live.PostJsonAsync("/v1/invoices/archived", $$"""{"amount":"1","currency":"USD","created_at":"{{createdAt}}"}""");
            Assert.True(answer.Status == 201, $"{createdAt}: {answer.Status} {answer.Body}");
            var expected = DateTimeOffset.Parse(instant, CultureInfo.InvariantCulture);
            Assert.Equal(expected, DateTimeOffset.Parse(answer.Body.Str("created_at"), CultureInfo.InvariantCulture));
            var stored = (await live.GetJsonAsync($"/v1/invoices/{answer.Body.Str("id")}")).Body.Str("created_at");
            Assert.Equal(expected, DateTimeOffset.Parse(stored, CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task Forms_outside_the_list_are_refused_and_nothing_is_imported()
    {
        using var live = host.ClientWith((await host.CreateMerchantAsync()).LiveKey);
        foreach (var createdAt in new[] { "2024-03-04T05:06:07.1234567891Z", "2024-03-04T05:06:07.Z", "04/03/2024", "13/13/2024 05:06:07", "4/3/2024 05:06:07" })
        {
            var answer = await live.PostJsonAsync("/v1/invoices/archived", $$"""{"amount":"1","currency":"USD","created_at":"{{createdAt}}"}""");
            AssertProblem(answer, 400, "VALIDATION_FAILED");
            Assert.True(answer.Body.GetProperty("errors").TryGetProperty("created_at", out _), $"{createdAt}: {answer.Body}");
        }

        Assert.Equal(0, (await live.GetJsonAsync("/v1/invoices")).Body.GetProperty("pagination").GetProperty("total").GetInt32());
    }
}
