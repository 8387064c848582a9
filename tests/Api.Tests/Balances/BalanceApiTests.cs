using System.Text.Json;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.Grains.Ledger;
using CryptoPay.TestSupport.Postgres;
using Microsoft.Extensions.DependencyInjection;

namespace CryptoPay.Api.Tests.Balances;

public sealed class MemoryBalanceApiTests : BalanceApiTests
{
    protected override Task<string?> CreateDatabaseAsync() => Task.FromResult<string?>(null);
}

[Collection("postgres")]
public sealed class PostgresBalanceApiTests(PostgresFixture postgres) : BalanceApiTests
{
    protected override async Task<string?> CreateDatabaseAsync() => await postgres.CreateDatabaseAsync();
}

/// <summary>GET /v1/balances through real HTTP after sandbox payments confirm; the ledger invariants hold after each test.</summary>
public abstract class BalanceApiTests : IAsyncLifetime
{
    private GatewayHost host = null!;

    protected abstract Task<string?> CreateDatabaseAsync();

    public async Task InitializeAsync() => host = await GatewayHost.StartAsync(await CreateDatabaseAsync());

    public async Task DisposeAsync()
    {
        try
        {
            await host.RunDueWorkAsync();
            await LedgerInvariants.CheckAsync(host.Services.GetRequiredService<ILedgerQuery>());
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    private static JsonElement Balances((int Status, JsonElement Body, HttpResponseMessage Response) answer)
    {
        Assert.True(answer.Status == 200, answer.Body.ToString());
        return answer.Body.GetProperty("balances");
    }

    [Fact]
    public async Task A_confirmed_sandbox_invoice_credits_the_test_balance_once_per_output()
    {
        var (merchantId, liveKey, testKey) = await host.CreateMerchantAsync();
        var test = host.ClientWith(testKey);
        Assert.Empty(Balances(await test.GetJsonAsync("/v1/balances")).EnumerateObject());

        var id = (await test.PostJsonAsync("/v1/invoices", """{"amount":"25.50","currency":"USD","payment_methods":["usdt_sandbox"]}""")).Body.Str("id");
        Assert.Equal(200, (await test.PostJsonAsync($"/v1/sandbox/invoices/{id}/pay", """{"amount":"10"}""")).Status);
        Assert.Equal(200, (await test.PostJsonAsync($"/v1/sandbox/invoices/{id}/pay", """{"amount":"15.5"}""")).Status);
        await host.RunDueWorkAsync();
        Assert.Equal("confirming", (await test.GetJsonAsync($"/v1/invoices/{id}")).Body.Str("status"));
        // Detected, not confirmed: pending only, nothing available yet.
        var detected = Balances(await test.GetJsonAsync("/v1/balances")).GetProperty("USDT-SANDBOX");
        Assert.Equal(("0.000000", "25.500000"), (detected.Str("available"), detected.Str("pending")));

        await host.AdvanceAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("confirmed", (await test.GetJsonAsync($"/v1/invoices/{id}")).Body.Str("status"));
        var usdt = Balances(await test.GetJsonAsync("/v1/balances")).GetProperty("USDT-SANDBOX");
        Assert.Equal(("25.500000", "0.000000"), (usdt.Str("available"), usdt.Str("pending")));

        // More blocks and redelivered work change nothing: each output is credited once.
        await host.AdvanceAsync(TimeSpan.FromMinutes(5));
        Assert.Equal("25.500000", Balances(await test.GetJsonAsync("/v1/balances")).GetProperty("USDT-SANDBOX").Str("available"));

        Assert.Empty(Balances(await host.ClientWith(liveKey).GetJsonAsync("/v1/balances")).EnumerateObject());
        var (_, _, otherTestKey) = await host.CreateMerchantAsync("""{"name":"Other"}""");
        Assert.Empty(Balances(await host.ClientWith(otherTestKey).GetJsonAsync("/v1/balances")).EnumerateObject());

        using var admin = host.ClientWith(GatewayHost.AdminKey);
        var invoicesOnly = (await admin.PostJsonAsync($"/v1/merchants/{merchantId}/api-keys", """{"mode":"test","scopes":["invoices:read"]}""")).Body.Str("key");
        var refused = await host.ClientWith(invoicesOnly).GetJsonAsync("/v1/balances");
        Assert.Equal((403, "FORBIDDEN"), (refused.Status, refused.Body.Str("code")));
        Assert.Equal(401, (await host.Http.GetJsonAsync("/v1/balances")).Status);
    }
}
