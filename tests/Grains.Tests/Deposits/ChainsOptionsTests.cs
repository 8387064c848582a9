using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Merchants;
using Microsoft.Extensions.Configuration;

namespace CryptoPay.Grains.Tests.Deposits;

/// <summary>Each bad "Chains" setting is refused with one line naming its key; good settings give the live catalog.</summary>
public sealed class ChainsOptionsTests
{
    private const string BipTestRoot = "zprvAWgYBBk7JR8Gjrh4UJQ2uJdG1r3WNRRfURiABBE3RvMXYSrRJL62XuezvGdPvG6GFBZduosCc1YP5wixPox7zhZLfiUm8aunE96BBa4Kei5";
    private static readonly ExtendedKey Root = ExtendedKey.Parse(BipTestRoot);
    private static readonly string EthXpub = Root.Derive("m/44'/60'/0'").Neuter().Serialize(ExtendedKeyVersion.Xpub);
    private static readonly string LtcTpub = Root.Derive("m/84'/1'/0'").Neuter().Serialize(ExtendedKeyVersion.Tpub);

    private static ChainNetworkOptions Ltc() => new() { Chain = "regtest", RpcUrl = "http://127.0.0.1:19443", RpcUser = "u", RpcPassword = "p", AccountKey = LtcTpub };

    private static ChainNetworkOptions Eth() => new()
    {
        Chain = "mainnet",
        RpcUrl = "https://eth.example/rpc",
        AccountKey = EthXpub,
        Tokens = { ["USDT"] = "0xdAC17F958D2ee523a2206206994597C13D831ec7" },
    };

    public static TheoryData<string, Action<ChainsOptions>, string> BadSettings => new()
    {
        { "unknown network", o => o.Networks["doge"] = Ltc(), "Chains:Networks:doge is not a known network" },
        { "upper-case id", o =>
            {
                o.Networks.Remove("ltc");
                o.Networks["LTC"] = Ltc();
            }, "Chains:Networks:LTC: network ids are lower-case; write Chains:Networks:ltc" },
        { "sandbox", o => o.Networks["sandbox"] = Ltc(), "Chains:Networks:sandbox: the sandbox is simulated" },
        { "chain", o => o.Networks["ltc"].Chain = "moonnet", "Chains:Networks:ltc:Chain is 'moonnet'" },
        { "no rpc", o => o.Networks["ltc"].RpcUrl = null, "Chains:Networks:ltc:RpcUrl is not set" },
        { "relative rpc", o => o.Networks["ltc"].RpcUrl = "/rpc", "Chains:Networks:ltc:RpcUrl is '/rpc'" },
        { "ftp rpc", o => o.Networks["ltc"].RpcUrl = "ftp://node:21", "Chains:Networks:ltc:RpcUrl is 'ftp://node:21'" },
        { "user only", o => o.Networks["ltc"].RpcPassword = null, "Chains:Networks:ltc:RpcPassword is not set" },
        { "utxo without credentials", o => (o.Networks["ltc"].RpcUser, o.Networks["ltc"].RpcPassword) = (null, null), "Chains:Networks:ltc:RpcUser is not set; ltc's node (Bitcoin Core JSON-RPC) needs RpcUser and RpcPassword" },
        { "no key", o => o.Networks["ltc"].AccountKey = null, "Chains:Networks:ltc:AccountKey is not set" },
        { "garbage key", o => o.Networks["ltc"].AccountKey = "tpubnotakey", "Chains:Networks:ltc:AccountKey is not an extended key" },
        { "testnet key on mainnet", o => o.Networks["ltc"].Chain = "mainnet", "Chains:Networks:ltc:AccountKey is a tpub for testnet but Chain is mainnet" },
        { "mainnet key on regtest", o => o.Networks["ltc"].AccountKey = Root.Derive("m/84'/2'/0'").Neuter().Serialize(ExtendedKeyVersion.Zpub), "Chains:Networks:ltc:AccountKey is a zpub for mainnet but Chain is regtest" },
        { "private on mainnet", o => o.Networks["eth"].AccountKey = Root.Derive("m/44'/60'/0'").Serialize(ExtendedKeyVersion.Xpub), "Chains:Networks:eth:AccountKey is a private key (xprv)" },
        { "nested segwit", o => o.Networks["ltc"].AccountKey = Root.Derive("m/49'/1'/0'").Neuter().Serialize(ExtendedKeyVersion.Upub), "Chains:Networks:ltc:AccountKey is a upub" },
        { "not account depth", o => o.Networks["eth"].AccountKey = Root.Derive("m/44'/60'/0'/0").Neuter().Serialize(ExtendedKeyVersion.Xpub), "Chains:Networks:eth:AccountKey is at depth 4" },
        { "zero confirmations", o => o.Networks["ltc"].Confirmations = 0, "Chains:Networks:ltc:Confirmations is 0" },
        { "too many confirmations", o => o.Networks["ltc"].Confirmations = 1001, "Chains:Networks:ltc:Confirmations is 1001" },
        { "token on utxo", o => o.Networks["ltc"].Tokens["USDT"] = "0xdAC17F958D2ee523a2206206994597C13D831ec7", "Chains:Networks:ltc:Tokens:USDT is set, but ltc has no tokens" },
        { "unknown token", o => o.Networks["eth"].Tokens["DAI"] = "0x6B175474E89094C44Da98b954EedeAC495271d0F", "Chains:Networks:eth:Tokens:DAI: eth offers no 'DAI' token" },
        { "bad contract", o => o.Networks["eth"].Tokens["USDC"] = "0x1234", "Chains:Networks:eth:Tokens:USDC is not an EVM contract address" },
        { "fast poll", o => o.Networks["ltc"].PollInterval = TimeSpan.FromMilliseconds(500), "Chains:Networks:ltc:PollInterval is 00:00:00.5000000" },
        { "no lookahead", o => o.Networks["ltc"].AddressLookahead = 0, "Chains:Networks:ltc:AddressLookahead is 0" },
        { "huge lookahead", o => o.Networks["ltc"].AddressLookahead = 10_001, "Chains:Networks:ltc:AddressLookahead is 10001" },
        { "shallow reorg depth", o => o.Networks["eth"].ReorgDepth = 11, "Chains:Networks:eth:ReorgDepth is 11, below the 12 confirmations required" },
        { "reorg below override", o => (o.Networks["ltc"].Confirmations, o.Networks["ltc"].ReorgDepth) = (30, 20), "Chains:Networks:ltc:ReorgDepth is 20, below the 30" },
        { "negative start", o => o.Networks["ltc"].StartHeight = -1, "Chains:Networks:ltc:StartHeight is -1" },
        { "chain id on utxo", o => o.Networks["ltc"].ChainId = 1, "Chains:Networks:ltc:ChainId is set, but ltc has no EIP-155 chain id" },
        { "payout wallet on evm", o => o.Networks["eth"].PayoutWallet = "hot", "Chains:Networks:eth:PayoutWallet is set, but eth pays from a key: set Chains:Networks:eth:PayoutKey" },
        { "empty payout wallet", o => o.Networks["ltc"].PayoutWallet = " ", "Chains:Networks:ltc:PayoutWallet is empty" },
        { "payout key on utxo", o => o.Networks["ltc"].PayoutKey = new string('a', 64), "Chains:Networks:ltc:PayoutKey is set, but ltc pays from a node wallet: set Chains:Networks:ltc:PayoutWallet" },
        { "short payout key", o => o.Networks["eth"].PayoutKey = "0x1234", "Chains:Networks:eth:PayoutKey is not a private key; expected 64 hex digits" },
        { "payout key not hex", o => o.Networks["eth"].PayoutKey = new string('g', 64), "Chains:Networks:eth:PayoutKey is not a private key" },
    };

    private static ChainsOptions Good() => new() { Networks = { ["ltc"] = Ltc(), ["eth"] = Eth() } };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void A_bad_setting_is_refused_with_one_line_naming_its_key(string _, Action<ChainsOptions> spoil, string expected)
    {
        var options = Good();
        spoil(options);

        var error = Assert.Throws<ChainsConfigurationException>(options.Validate);

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("Chains:Networks:ltc:PollInterval", "often", "Chains:Networks:ltc:PollInterval")]
    [InlineData("Chains:Networks:ltc:Confirmation", "3", "Chains:Networks:ltc:Confirmation is not a setting")]
    [InlineData("Chains:Network:ltc:RpcUrl", "http://127.0.0.1:1", "Chains:Network is not a setting")]
    public void Binding_refuses_values_that_do_not_convert_and_settings_that_do_not_exist(string key, string value, string expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Chains:Networks:ltc:Chain"] = "regtest", [key] = value })
            .Build();

        var error = Assert.ThrowsAny<InvalidOperationException>(() => ChainsOptions.Bind(configuration));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Binding_reads_every_network_and_its_tokens()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Chains:Networks:eth:RpcUrl"] = "https://eth.example/rpc",
                ["Chains:Networks:eth:AccountKey"] = EthXpub,
                ["Chains:Networks:eth:Tokens:USDT"] = "0xdAC17F958D2ee523a2206206994597C13D831ec7",
                ["Chains:Networks:eth:PollInterval"] = "00:00:15",
                ["Chains:Networks:ltc:Enabled"] = "false",
            })
            .Build();

        var options = ChainsOptions.Bind(configuration);
        options.Validate();

        Assert.Equal((TimeSpan.FromSeconds(15), "0xdAC17F958D2ee523a2206206994597C13D831ec7", false), (options.Networks["eth"].PollInterval, options.Networks["eth"].Tokens["usdt"], options.Networks["ltc"].Enabled));
        Assert.Equal(["eth"], new LiveNetworks(options).Enabled.Select(n => n.Id));
    }

    [Fact]
    public void A_disabled_network_needs_no_node_or_key_but_its_other_settings_are_still_checked()
    {
        var options = new ChainsOptions { Networks = { ["btc"] = new ChainNetworkOptions { Enabled = false } } };
        options.Validate();
        Assert.Empty(new LiveNetworks(options).Enabled);

        options.Networks["btc"].Confirmations = 0;
        Assert.Throws<ChainsConfigurationException>(options.Validate);
    }

    [Fact]
    public void On_regtest_a_private_master_key_is_accepted_and_its_account_key_derived()
    {
        var options = new ChainsOptions { Networks = { ["ltc"] = Ltc() } };
        options.Networks["ltc"].AccountKey = Root.Serialize(ExtendedKeyVersion.Tpub);
        options.Validate();

        var network = new LiveNetworks(options).Find("ltc")!;
        Assert.False(network.Deriver.AccountKey.IsPrivate);
        Assert.Equal(AddressDeriver.Create(Network.Litecoin(NetworkChain.Regtest), LtcTpub).DeriveReceiveAddress(0), network.Deriver.DeriveReceiveAddress(0));
    }

    [Fact]
    public void Good_settings_give_the_live_methods_confirmations_and_token_contracts()
    {
        var options = Good();
        options.Networks["eth"].Confirmations = 20;
        options.Validate();
        var live = new LiveNetworks(options);

        Assert.Equal(["ltc_ltc", "eth_eth", "usdt_eth"], live.MethodsFor(Mode.Live).Select(m => m.Id));
        Assert.All(live.MethodsFor(Mode.Test), m => Assert.True(m.IsSandbox));
        Assert.Equal("0xdAC17F958D2ee523a2206206994597C13D831ec7", live.TokenContract("eth", "usdt"));
        Assert.Null(live.TokenContract("eth", "USDC"));

        var ltc = Assets.FindMethod("ltc_ltc")!;
        var eth = Assets.FindMethod("eth_eth")!;
        var merchant = new MerchantState { Confirmations = { ["ltc"] = 3 } };
        Assert.Equal((3, 20, 6, 1), (live.RequiredConfirmations(ltc, merchant), live.RequiredConfirmations(eth, merchant), live.RequiredConfirmations(ltc, null),
            live.RequiredConfirmations(Assets.FindMethod("usdt_sandbox")!, merchant)));
        Assert.Equal(1, live.Find("eth")!.Network.EvmChainId);
    }
}
