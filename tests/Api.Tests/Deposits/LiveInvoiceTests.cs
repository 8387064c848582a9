using System.Text.Json;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Merchants;
using CryptoPay.TestSupport.Postgres;
using Microsoft.Extensions.DependencyInjection;
using NBitcoin.DataEncoders;

namespace CryptoPay.Api.Tests.Deposits;

public sealed class MemoryLiveInvoiceTests : LiveInvoiceTests
{
    protected override Task<string?> CreateDatabaseAsync() => Task.FromResult<string?>(null);
}

[Collection("postgres")]
public sealed class PostgresLiveInvoiceTests(PostgresFixture postgres) : LiveInvoiceTests
{
    protected override async Task<string?> CreateDatabaseAsync() => await postgres.CreateDatabaseAsync();

    // Over PostgreSQL a second silo shares the store: concurrent creations are spread over both.
    protected override bool TwoSilos => true;
}

/// <summary>
/// Live invoices on configured regtest/mainnet networks over real HTTP: fresh derived addresses, never reused,
/// chosen on the checkout endpoint when several methods apply, payment URIs, and merchant confirmation overrides.
/// Account keys come from the published BIP84 test mnemonic ("abandon ×11 about").
/// </summary>
public abstract class LiveInvoiceTests : IAsyncLifetime
{
    // BIP84's published root key and its testnet account m/84'/1'/0' (vpub), whose first receive address is the
    // published tb1q6rz28mcfaxtmd6v789l9rrlrusdprr9pqcpvkl; on Litecoin regtest the same program reads rltc1….
    private const string BipTestRoot = "zprvAWgYBBk7JR8Gjrh4UJQ2uJdG1r3WNRRfURiABBE3RvMXYSrRJL62XuezvGdPvG6GFBZduosCc1YP5wixPox7zhZLfiUm8aunE96BBa4Kei5";
    private const string LtcVpub = "vpub5Y6cjg78GGuNLsaPhmYsiw4gYX3HoQiRBiSwDaBXKUafCt9bNwWQiitDk5VZ5BVxYnQdwoTyXSs2JHRPAgjAvtbBrf8ZhDYe2jWAqvZVnsc";
    private const string PublishedTestnetAddress0 = "tb1q6rz28mcfaxtmd6v789l9rrlrusdprr9pqcpvkl";

    // The same mnemonic's first Ethereum account m/44'/60'/0'/0/0, as every wallet shows it.
    private const string PublishedEthAddress0 = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94";
    private const string UsdtOnEth = "0xdAC17F958D2ee523a2206206994597C13D831ec7";

    private static readonly string EthXpub = ExtendedKey.Parse(BipTestRoot).Derive("m/44'/60'/0'").Neuter().Serialize(ExtendedKeyVersion.Xpub);
    private static readonly AddressDeriver Ltc = AddressDeriver.Create(Network.Litecoin(NetworkChain.Regtest), LtcVpub);

    private readonly List<GatewayHost> hosts = [];

    protected virtual bool TwoSilos => false;

    private GatewayHost Host => hosts[0];

    protected abstract Task<string?> CreateDatabaseAsync();

    public static Dictionary<string, string?> ChainSettings() => new()
    {
        ["Chains:Networks:ltc:Chain"] = "regtest",
        ["Chains:Networks:ltc:RpcUrl"] = "http://127.0.0.1:19443",
        ["Chains:Networks:ltc:RpcUser"] = "cryptopay",
        ["Chains:Networks:ltc:RpcPassword"] = "secret",
        ["Chains:Networks:ltc:AccountKey"] = LtcVpub,
        ["Chains:Networks:ltc:AddressLookahead"] = "20",
        ["Chains:Networks:eth:RpcUrl"] = "http://127.0.0.1:8545",
        ["Chains:Networks:eth:AccountKey"] = EthXpub,
        ["Chains:Networks:eth:Tokens:USDT"] = UsdtOnEth,
    };

    public async Task InitializeAsync()
    {
        var database = await CreateDatabaseAsync();
        hosts.Add(await GatewayHost.StartAsync(database, ChainSettings()));
        if (TwoSilos)
        {
            hosts.Add(await GatewayHost.StartAsync(database, ChainSettings()));
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var host in hosts)
        {
            await host.DisposeAsync();
        }
    }

    private static void AssertProblem((int Status, JsonElement Body, HttpResponseMessage Response) answer, int status, string code)
    {
        Assert.True(answer.Status == status, $"expected {status} {code}, got {answer.Status}: {answer.Body}");
        Assert.Equal(code, answer.Body.Str("code"));
    }

    private static JsonElement Method(JsonElement invoice, string id) =>
        invoice.GetProperty("payment_methods").EnumerateArray().Single(m => m.Str("method") == id);

    private static async Task<JsonElement> CreatedAsync(HttpClient client, string body)
    {
        var created = await client.PostJsonAsync("/v1/invoices", body);
        Assert.True(created.Status == 201, created.Body.ToString());
        return created.Body;
    }

    [Fact]
    public void The_expected_ltc_address_is_the_published_bip84_testnet_address_on_litecoin_regtest()
    {
        var program = Encoders.Bech32("tb").Decode(PublishedTestnetAddress0, out var witnessVersion);
        Assert.Equal(Encoders.Bech32("rltc").Encode(witnessVersion, program), Ltc.DeriveReceiveAddress(0));
    }

    [Fact]
    public async Task A_live_ltc_invoice_gets_index_0_then_index_1_and_the_directory_knows_whose_they_are()
    {
        var (merchantId, liveKey, _) = await Host.CreateMerchantAsync();
        using var live = Host.ClientWith(liveKey);

        var first = await CreatedAsync(live, """{"amount":"0.5","currency":"LTC","network":"ltc"}""");
        var second = await CreatedAsync(live, """{"amount":"0.00153210","currency":"LTC","payment_methods":["ltc_ltc"]}""");

        var ltc0 = Ltc.DeriveReceiveAddress(0);
        var ltc1 = Ltc.DeriveReceiveAddress(1);
        var method = Assert.Single(first.GetProperty("payment_methods").EnumerateArray());
        Assert.Equal((ltc0, $"litecoin:{ltc0}?amount=0.5", 6), (method.Str("address"), method.Str("payment_uri"), method.GetProperty("confirmations").GetProperty("required").GetInt32()));
        var next = Method(second, "ltc_ltc");
        Assert.Equal((ltc1, $"litecoin:{ltc1}?amount=0.0015321"), (next.Str("address"), next.Str("payment_uri")));

        // GET shows the same address, and the watcher's directory maps each address to its invoice.
        Assert.Equal(ltc0, Method((await live.GetJsonAsync($"/v1/invoices/{first.Str("id")}")).Body, "ltc_ltc").Str("address"));
        var directory = Host.Services.GetRequiredService<IDepositAddressDirectory>();
        var found = (await directory.FindAsync("ltc", [ltc0, ltc1.ToUpperInvariant()], default)).OrderBy(d => d.Index).ToList();
        Assert.Equal(2, found.Count);
        Assert.Equal((Guid.Parse(first.Str("id")), Guid.Parse(merchantId), Mode.Live, "ltc_ltc", "LTC", 0L, 6), (found[0].InvoiceId, found[0].MerchantId, found[0].Mode, found[0].Method, found[0].Asset, found[0].Index, found[0].RequiredConfirmations));
        Assert.Equal((Guid.Parse(second.Str("id")), 1L), (found[1].InvoiceId, found[1].Index));

        // The checkout page of a single-method invoice shows the address and its URI.
        var page = await Host.Http.GetStringAsync($"/pay/{first.Str("id")}");
        Assert.Contains(ltc0, page, StringComparison.Ordinal);
        Assert.Contains(System.Text.Encodings.Web.HtmlEncoder.Default.Encode($"litecoin:{ltc0}?amount=0.5"), page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fifty_concurrent_live_invoices_get_fifty_distinct_addresses_with_no_index_reused()
    {
        var (_, liveKey, _) = await Host.CreateMerchantAsync();
        var clients = hosts.Select(h => h.ClientWith(liveKey)).ToList();

        var invoices = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            CreatedAsync(clients[i % clients.Count], """{"amount":"0.01","currency":"LTC","network":"ltc"}""")));

        var addresses = invoices.Select(i => Method(i, "ltc_ltc").Str("address")).ToList();
        Assert.Equal(50, addresses.Distinct().Count());
        var expected = Enumerable.Range(0, 50).Select(i => Ltc.DeriveReceiveAddress((uint)i)).ToHashSet();
        Assert.All(addresses, a => Assert.Contains(a, expected));
        var found = await Host.Services.GetRequiredService<IDepositAddressDirectory>().FindAsync("ltc", addresses, default);
        Assert.Equal(invoices.Select(i => Guid.Parse(i.Str("id"))).Order(), found.Select(d => d.InvoiceId).Order());
        Assert.Equal(50, (await Host.Grains.GetGrain<IAddressPoolGrain>(AddressPoolKeys.Of("ltc", Mode.Live)).Get()).NextIndex);
        clients.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task A_multi_method_live_invoice_allocates_on_choice_once_even_when_choices_race()
    {
        var (_, liveKey, _) = await Host.CreateMerchantAsync();
        using var live = Host.ClientWith(liveKey);
        var invoice = await CreatedAsync(live, """{"amount":"0.25","currency":"ETH","network":"eth"}""");
        Assert.Equal(["eth_eth"], invoice.GetProperty("payment_methods").EnumerateArray().Select(m => m.Str("method")));
        var eth0 = Method(invoice, "eth_eth").Str("address");
        Assert.Equal(PublishedEthAddress0, eth0);
        Assert.Equal($"ethereum:{PublishedEthAddress0}@1?value=250000000000000000", Method(invoice, "eth_eth").Str("payment_uri"));

        // Priced in USD with no choice: the merchant's methods that this gateway configured, no address yet.
        var multi = await CreatedAsync(live, """{"amount":"30","currency":"USD"}""");
        var id = multi.Str("id");
        Assert.Equal(["ltc_ltc", "eth_eth", "usdt_eth"], multi.GetProperty("payment_methods").EnumerateArray().Select(m => m.Str("method")));
        Assert.All(multi.GetProperty("payment_methods").EnumerateArray(), m =>
            Assert.Equal((JsonValueKind.Null, JsonValueKind.Null), (m.GetProperty("address").ValueKind, m.GetProperty("payment_uri").ValueKind)));

        using var anonymous = new HttpClient { BaseAddress = Host.Http.BaseAddress };
        var choices = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            (i % 2 == 0 || hosts.Count == 1 ? anonymous : hosts[1].Http).PostJsonAsync($"/v1/invoices/{id}/payment-method", """{"method":"usdt_eth"}""")));
        Assert.All(choices, c => Assert.True(c.Status == 200, c.Body.ToString()));
        var chosen = Assert.Single(choices.Select(c => c.Body.Str("address")).Distinct());
        var units = Method(multi, "usdt_eth").Str("amount_units");
        Assert.Equal($"ethereum:{UsdtOnEth}@1/transfer?address={chosen}&uint256={units}", choices[0].Body.Str("payment_uri"));
        Assert.Equal(12, choices[0].Body.GetProperty("required_confirmations").GetInt32());

        // Choosing again answers the same address; GET and the page show it; the other methods still have none.
        Assert.Equal(chosen, (await anonymous.PostJsonAsync($"/v1/invoices/{id}/payment-method", """{"method":"usdt_eth"}""")).Body.Str("address"));
        var after = (await live.GetJsonAsync($"/v1/invoices/{id}")).Body;
        Assert.Equal(chosen, Method(after, "usdt_eth").Str("address"));
        Assert.Equal(JsonValueKind.Null, Method(after, "ltc_ltc").GetProperty("address").ValueKind);
        Assert.Contains(chosen, await anonymous.GetStringAsync($"/pay/{id}?method=usdt_eth"), StringComparison.Ordinal);

        // The invoice keeps the first address; the directory says which invoice and method it pays.
        var deposit = Assert.Single(await Host.Services.GetRequiredService<IDepositAddressDirectory>().FindAsync("eth", [chosen], default));
        Assert.Equal((Guid.Parse(id), "usdt_eth", "USDT"), (deposit.InvoiceId, deposit.Method, deposit.Asset));
        Assert.NotEqual(eth0, chosen);

        // Choosing on the page (a plain GET form) allocates for another method.
        var page = await anonymous.GetStringAsync($"/pay/{id}?method=ltc_ltc");
        var ltc = Method((await live.GetJsonAsync($"/v1/invoices/{id}")).Body, "ltc_ltc").Str("address");
        Assert.StartsWith("rltc1q", ltc, StringComparison.Ordinal);
        Assert.Contains(ltc, page, StringComparison.Ordinal);

        AssertProblem(await anonymous.PostJsonAsync($"/v1/invoices/{id}/payment-method", """{"method":"btc_btc"}"""), 400, "UNSUPPORTED_NETWORK");
        Assert.Equal(200, (await live.PostJsonAsync($"/v1/invoices/{id}/cancel", "")).Status);
        AssertProblem(await anonymous.PostJsonAsync($"/v1/invoices/{id}/payment-method", """{"method":"eth_eth"}"""), 409, "INVALID_STATE_TRANSITION");
    }

    [Fact]
    public async Task Unconfigured_live_networks_are_refused_and_test_mode_is_unchanged()
    {
        var (_, liveKey, testKey) = await Host.CreateMerchantAsync();
        using var live = Host.ClientWith(liveKey);
        using var test = Host.ClientWith(testKey);

        AssertProblem(await live.PostJsonAsync("/v1/invoices", """{"amount":"1","currency":"USD","network":"btc"}"""), 400, "UNSUPPORTED_NETWORK");
        AssertProblem(await live.PostJsonAsync("/v1/invoices", """{"amount":"1","currency":"USD","payment_methods":["usdc_eth"]}"""), 400, "UNSUPPORTED_NETWORK");
        AssertProblem(await live.PostJsonAsync("/v1/invoices", """{"amount":"1","currency":"USDT","network":"tron"}"""), 400, "UNSUPPORTED_NETWORK");
        AssertProblem(await live.PostJsonAsync("/v1/invoices", """{"amount":"1","currency":"USD","network":"sandbox"}"""), 400, "UNSUPPORTED_NETWORK");

        // A merchant whose enabled methods are all unconfigured here cannot create live invoices by default.
        var (_, btcOnly, _) = await Host.CreateMerchantAsync("""{"name":"Btc shop","payment_methods":["btc_btc","usdt_sandbox"]}""");
        using var btcShop = Host.ClientWith(btcOnly);
        AssertProblem(await btcShop.PostJsonAsync("/v1/invoices", """{"amount":"1","currency":"USD"}"""), 400, "UNSUPPORTED_NETWORK");

        var sandbox = await CreatedAsync(test, """{"amount":"1","currency":"USD","payment_methods":["usdt_sandbox"]}""");
        var method = Method(sandbox, "usdt_sandbox");
        Assert.StartsWith("sbx_", method.Str("address"), StringComparison.Ordinal);
        Assert.Equal($"sandbox:{method.Str("address")}?asset=USDT&amount=1.000000", method.Str("payment_uri"));
        AssertProblem(await test.PostJsonAsync("/v1/invoices", """{"amount":"1","currency":"LTC","network":"ltc"}"""), 400, "UNSUPPORTED_NETWORK");
        Assert.Equal(0, (await Host.Grains.GetGrain<IAddressPoolGrain>(AddressPoolKeys.Of("ltc", Mode.Live)).Get()).NextIndex);
    }

    [Fact]
    public async Task Amounts_below_the_advertised_minimum_are_refused_or_leave_out_the_methods_they_do_not_reach()
    {
        var (_, liveKey, _) = await Host.CreateMerchantAsync("""{"name":"Small","payment_methods":["ltc_ltc","eth_eth","usdt_eth"]}""");
        using var live = Host.ClientWith(liveKey);
        var minimums = (await live.GetJsonAsync("/v1/currencies")).Body.GetProperty("payment_methods").EnumerateArray()
            .ToDictionary(m => m.Str("method"), m => m.Str("minimum"));
        Assert.Equal(("0.001", "0.001", "1"), (minimums["ltc_ltc"], minimums["eth_eth"], minimums["usdt_eth"]));

        // Asked for by name, a method the amount does not reach refuses the invoice; exactly the minimum is fine.
        AssertProblem(await live.PostJsonAsync("/v1/invoices", """{"amount":"0.50","currency":"USD","payment_methods":["usdt_eth"]}"""), 400, "AMOUNT_BELOW_MINIMUM");
        AssertProblem(await live.PostJsonAsync("/v1/invoices", """{"amount":"0.0009","currency":"LTC","network":"ltc"}"""), 400, "AMOUNT_BELOW_MINIMUM");
        AssertProblem(await live.PostJsonAsync("/v1/invoices", """{"amount":"2","currency":"USD","payment_methods":["ltc_ltc","eth_eth"]}"""), 400, "AMOUNT_BELOW_MINIMUM");
        Assert.Equal("0.00100000", Method(await CreatedAsync(live, """{"amount":"0.001","currency":"LTC","network":"ltc"}"""), "ltc_ltc").Str("amount"));

        // By default the offer leaves out what the amount does not reach (2 USD is 0.00066667 ETH), and refuses when nothing is left.
        var offered = await CreatedAsync(live, """{"amount":"2","currency":"USD"}""");
        Assert.Equal(["ltc_ltc", "usdt_eth"], offered.GetProperty("payment_methods").EnumerateArray().Select(m => m.Str("method")).Order(StringComparer.Ordinal));
        AssertProblem(await live.PostJsonAsync("/v1/invoices", """{"amount":"0.05","currency":"USD"}"""), 400, "AMOUNT_BELOW_MINIMUM");

        // Refusals allocate no address.
        Assert.Equal(1, (await Host.Grains.GetGrain<IAddressPoolGrain>(AddressPoolKeys.Of("ltc", Mode.Live)).Get()).NextIndex);
    }

    [Fact]
    public async Task A_new_merchant_gets_the_methods_this_gateway_offers_and_no_scope_without_an_endpoint()
    {
        using var admin = Host.ClientWith(GatewayHost.AdminKey);
        var created = await admin.PostJsonAsync("/v1/merchants", """{"name":"Defaults"}""");
        Assert.True(created.Status == 201, created.Body.ToString());

        // Live: the networks configured here (ltc, eth with USDT); test mode: the sandbox chain. Never btc, bsc or tron here.
        var methods = created.Body.GetProperty("payment_methods").EnumerateArray().Select(m => m.GetString()!).ToList();
        Assert.Equal(["eth_eth", "ltc_ltc", "usdt_eth"], methods.Where(m => !m.EndsWith("_sandbox", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Contains("usdt_sandbox", methods);
        Assert.Equal(methods, (await admin.GetJsonAsync($"/v1/merchants/{created.Body.Str("id")}")).Body.GetProperty("payment_methods").EnumerateArray().Select(m => m.GetString()!));

        // withdrawals:write comes with the withdrawal endpoints; a key issued today does not carry it.
        Assert.All(created.Body.GetProperty("api_keys").EnumerateArray(), key =>
            Assert.Equal(["balances:read", "invoices:read", "invoices:write", "webhooks:write"], key.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()!).Order(StringComparer.Ordinal)));
    }

    [Fact]
    public async Task A_merchant_confirmation_override_flows_into_required_confirmations()
    {
        using var admin = Host.ClientWith(GatewayHost.AdminKey);
        var (merchantId, liveKey, _) = await Host.CreateMerchantAsync("""{"name":"Careful","confirmations":{"ltc":2}}""");
        using var live = Host.ClientWith(liveKey);
        Assert.Equal(2, (await admin.GetJsonAsync($"/v1/merchants/{merchantId}")).Body.GetProperty("confirmations").GetProperty("ltc").GetInt32());

        var first = await CreatedAsync(live, """{"amount":"1","currency":"LTC","network":"ltc"}""");
        Assert.Equal(2, Method(first, "ltc_ltc").GetProperty("confirmations").GetProperty("required").GetInt32());

        var patched = await admin.SendJsonAsync(HttpMethod.Patch, $"/v1/merchants/{merchantId}", """{"confirmations":{"ltc":9,"eth":30}}""");
        Assert.True(patched.Status == 200, patched.Body.ToString());
        Assert.Equal((9, 30), (patched.Body.GetProperty("confirmations").GetProperty("ltc").GetInt32(), patched.Body.GetProperty("confirmations").GetProperty("eth").GetInt32()));
        await Host.AdvanceAsync(TimeSpan.FromSeconds(2)); // the API key cache keeps merchant data for up to a second

        var second = await CreatedAsync(live, """{"amount":"1","currency":"LTC","network":"ltc"}""");
        Assert.Equal(9, Method(second, "ltc_ltc").GetProperty("confirmations").GetProperty("required").GetInt32());
        var deposit = Assert.Single(await Host.Services.GetRequiredService<IDepositAddressDirectory>().FindAsync("ltc", [Method(second, "ltc_ltc").Str("address")], default));
        Assert.Equal(9, deposit.RequiredConfirmations);
        Assert.Equal(2, Method((await live.GetJsonAsync($"/v1/invoices/{first.Str("id")}")).Body, "ltc_ltc").GetProperty("confirmations").GetProperty("required").GetInt32());

        // null drops an override; bad networks and counts are refused with codes.
        var dropped = await admin.SendJsonAsync(HttpMethod.Patch, $"/v1/merchants/{merchantId}", """{"confirmations":{"eth":null}}""");
        Assert.False(dropped.Body.GetProperty("confirmations").TryGetProperty("eth", out _));
        AssertProblem(await admin.SendJsonAsync(HttpMethod.Patch, $"/v1/merchants/{merchantId}", """{"confirmations":{"doge":3}}"""), 400, "UNSUPPORTED_NETWORK");
        AssertProblem(await admin.SendJsonAsync(HttpMethod.Patch, $"/v1/merchants/{merchantId}", """{"confirmations":{"ltc":0}}"""), 400, "VALIDATION_FAILED");
        AssertProblem(await admin.SendJsonAsync(HttpMethod.Patch, $"/v1/merchants/{merchantId}", """{"confirmations":{"btc":1001}}"""), 400, "VALIDATION_FAILED");
        AssertProblem(await admin.SendJsonAsync(HttpMethod.Patch, $"/v1/merchants/{merchantId}", """{"confirmations":{"ltc":"3"}}"""), 400, "VALIDATION_FAILED");
        AssertProblem(await admin.PostJsonAsync("/v1/merchants", """{"name":"X","confirmations":{"sandbox":2}}"""), 400, "UNSUPPORTED_NETWORK");
        AssertProblem(await admin.SendJsonAsync(HttpMethod.Patch, $"/v1/merchants/{Guid.NewGuid()}", """{"confirmations":{"ltc":3}}"""), 404, "NOT_FOUND");
        AssertProblem(await live.SendJsonAsync(HttpMethod.Patch, $"/v1/merchants/{merchantId}", """{"confirmations":{"ltc":3}}"""), 401, "UNAUTHORIZED");
    }

    [Fact]
    public async Task Currencies_show_what_each_mode_can_use()
    {
        var (_, liveKey, testKey) = await Host.CreateMerchantAsync();
        using var live = Host.ClientWith(liveKey);
        using var test = Host.ClientWith(testKey);

        var forLive = (await live.GetJsonAsync("/v1/currencies")).Body;
        Assert.Equal("live", forLive.Str("mode"));
        Assert.Equal(["ltc_ltc", "eth_eth", "usdt_eth"], forLive.GetProperty("payment_methods").EnumerateArray().Select(m => m.Str("method")));
        Assert.Equal(["ltc", "eth"], forLive.GetProperty("networks").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal(UsdtOnEth, Method(forLive, "usdt_eth").Str("token_contract"));

        var forTest = (await Host.Http.GetJsonAsync("/v1/currencies?mode=test")).Body;
        Assert.All(forTest.GetProperty("payment_methods").EnumerateArray(), m => Assert.EndsWith("_sandbox", m.Str("method"), StringComparison.Ordinal));
        Assert.Equal("test", (await test.GetJsonAsync("/v1/currencies")).Body.Str("mode"));

        var all = (await Host.Http.GetJsonAsync("/v1/currencies")).Body;
        Assert.Equal(JsonValueKind.Null, all.GetProperty("mode").ValueKind);
        Assert.False(Method(all, "usdt_tron").GetProperty("enabled").GetBoolean());
        Assert.True(Method(all, "ltc_ltc").GetProperty("enabled").GetBoolean());
        AssertProblem(await Host.Http.GetJsonAsync("/v1/currencies?mode=prod"), 400, "VALIDATION_FAILED");
    }
}
