using System.Text.RegularExpressions;
using CryptoPay.ProcessSupport;

namespace CryptoPay.Silo.Tests.Hosting;

/// <summary>The silo executable with "Chains" settings: a good configuration serves live methods, each bad setting stops start-up.</summary>
public sealed partial class ChainsStartupTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(90);

    // Published keys of the BIP84 test mnemonic: the testnet account m/84'/1'/0' and the Ethereum account m/44'/60'/0'.
    private const string LtcVpub = "vpub5Y6cjg78GGuNLsaPhmYsiw4gYX3HoQiRBiSwDaBXKUafCt9bNwWQiitDk5VZ5BVxYnQdwoTyXSs2JHRPAgjAvtbBrf8ZhDYe2jWAqvZVnsc";
    private const string AccountZpub = "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";
    private const string AccountZprv = "zprvAdG4iTXWBoARxkkzNpNh8r6Qag3irQB8PzEMkAFeTRXxHpbF9z4QgEvBRmfvqWvGp42t42nvgGpNgYSJA9iefm1yYNZKEm7z6qUWCroSQnE";

    private static Dictionary<string, string?> Good()
    {
        var environment = SiloExecutable.Environment();
        environment["Chains__Networks__ltc__Chain"] = "regtest";
        environment["Chains__Networks__ltc__RpcUrl"] = "http://127.0.0.1:19443";
        environment["Chains__Networks__ltc__RpcUser"] = "user";
        environment["Chains__Networks__ltc__RpcPassword"] = "secret";
        environment["Chains__Networks__ltc__AccountKey"] = LtcVpub;
        environment["Chains__Networks__btc__RpcUrl"] = "https://btc.example:8332";
        environment["Chains__Networks__btc__RpcUser"] = "btc";
        environment["Chains__Networks__btc__RpcPassword"] = "secret";
        environment["Chains__Networks__btc__AccountKey"] = AccountZpub;
        environment["Chains__Networks__btc__Confirmations"] = "3";
        environment["Chains__Networks__eth__Enabled"] = "false";
        environment["Chains__Networks__eth__Tokens__USDT"] = "0xdAC17F958D2ee523a2206206994597C13D831ec7";
        return environment;
    }

    [Fact]
    public async Task A_good_configuration_starts_and_offers_the_configured_live_methods()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        await using var silo = await SiloExecutable.StartAsync(Good(), timeout.Token);

        var (status, catalog) = await silo.Http.GetJsonAsync("/v1/currencies?mode=live", timeout.Token);

        Assert.Equal(200, status);
        var methods = catalog.GetProperty("payment_methods").EnumerateArray().ToDictionary(m => m.GetProperty("method").GetString()!, m => m.GetProperty("confirmations_required").GetInt32());
        Assert.Equal(new Dictionary<string, int> { ["btc_btc"] = 3, ["ltc_ltc"] = 6 }, methods);
    }

    [Theory]
    [InlineData("Chains__Networks__doge__RpcUrl", "http://127.0.0.1:1", "Chains:Networks:doge is not a known network")]
    [InlineData("Chains__Networks__ltc__Chain", "moonnet", "Chains:Networks:ltc:Chain is 'moonnet'")]
    [InlineData("Chains__Networks__ltc__Chain", "mainnet", "Chains:Networks:ltc:AccountKey is a vpub for testnet but Chain is mainnet")]
    [InlineData("Chains__Networks__ltc__RpcUrl", "127.0.0.1:19443", "Chains:Networks:ltc:RpcUrl is '127.0.0.1:19443'")]
    [InlineData("Chains__Networks__ltc__AccountKey", "vpub-not-a-key", "Chains:Networks:ltc:AccountKey is not an extended key")]
    [InlineData("Chains__Networks__btc__AccountKey", AccountZprv, "Chains:Networks:btc:AccountKey is a private key (zprv)")]
    [InlineData("Chains__Networks__btc__RpcUser", "", "Chains:Networks:btc:RpcUser is not set")]
    [InlineData("Chains__Networks__ltc__Confirmations", "0", "Chains:Networks:ltc:Confirmations is 0")]
    [InlineData("Chains__Networks__ltc__PollInterval", "00:00:00.100", "Chains:Networks:ltc:PollInterval is 00:00:00.1000000")]
    [InlineData("Chains__Networks__ltc__PollInterval", "often", "'often' at 'Chains:Networks:ltc:PollInterval'")]
    [InlineData("Chains__Networks__ltc__Confirmation", "3", "Chains:Networks:ltc:Confirmation is not a setting")]
    [InlineData("Chains__Networks__ltc__AddressLookahead", "20000", "Chains:Networks:ltc:AddressLookahead is 20000")]
    [InlineData("Chains__Networks__btc__ReorgDepth", "2", "Chains:Networks:btc:ReorgDepth is 2, below the 3 confirmations required")]
    [InlineData("Chains__Networks__eth__Tokens__USDT", "0x1234", "Chains:Networks:eth:Tokens:USDT is not an EVM contract address")]
    [InlineData("Chains__Networks__eth__Tokens__WBTC", "0xdAC17F958D2ee523a2206206994597C13D831ec7", "Chains:Networks:eth:Tokens:WBTC: eth offers no 'WBTC' token")]
    public async Task A_bad_chains_setting_stops_start_up_with_one_line_naming_the_key(string variable, string value, string expected)
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var environment = Good();
        environment[variable] = value;
        await using var silo = SiloProcess.Launch(SiloExecutable.Path, ["--urls", "http://127.0.0.1:0"], environment);

        var exitCode = await silo.WaitForExitAsync(SiloExecutable.ExitTimeout, timeout.Token);

        Assert.True(exitCode == 1, $"exit code {exitCode} for {variable}={value}\n{silo.Output}");
        var line = Assert.Single(silo.ErrorLines, l => l.Trim().Length > 0);
        Assert.StartsWith("CryptoPay.Silo: start-up failed: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain(silo.OutputLines.Concat(silo.ErrorLines), l => StackFrame().IsMatch(l));
    }

    [GeneratedRegex(@"^\s+at \S")]
    private static partial Regex StackFrame();
}
