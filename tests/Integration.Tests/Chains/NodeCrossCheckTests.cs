using CryptoPay.Chains.Addresses;
using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using CryptoPay.TestSupport.Evm;
using CryptoPay.TestSupport.Litecoin;
using NBitcoin;
using NBitcoin.DataEncoders;
using NBitcoin.RPC;
using Newtonsoft.Json.Linq;
using Network = CryptoPay.Chains.Networks.Network;

namespace CryptoPay.Integration.Tests.Chains;

/// <summary>
/// Our derivation and validation against litecoind's own: the node is an independent implementation of BIP32,
/// descriptors, bech32 and base58check, so agreement on these lists is evidence NBitcoin is configured right for
/// Litecoin (network parameters built here, SLIP-132 version bytes swapped here).
/// </summary>
[Collection("litecoin")]
public sealed class LitecoinCrossCheckTests(LitecoinFixture fixture)
{
    private static readonly Network Regtest = Network.Litecoin(NetworkChain.Regtest);
    private readonly LitecoinRegtestNode _node = fixture.Node;

    [Fact]
    public async Task Derived_addresses_equal_litecoinds_deriveaddresses_for_the_same_descriptor()
    {
        var accountKey = TestAccounts.AccountKey(Regtest, ExtendedKeyVersion.Vpub);
        var descriptor = $"wpkh({accountKey.Serialize(ExtendedKeyVersion.Tpub)}/0/*)";
        var rpc = RawClient();

        var checksummed = (await rpc.SendCommandAsync("getdescriptorinfo", descriptor)).Result.Value<string>("descriptor")!;
        var nodeAddresses = (await rpc.SendCommandAsync("deriveaddresses", checksummed, new[] { 0, 99 })).Result.Select(a => a.Value<string>()).ToArray();

        var deriver = new AddressDeriver(Regtest, accountKey);
        Assert.Equal(100, nodeAddresses.Length);
        Assert.Equal(nodeAddresses, Enumerable.Range(0, 100).Select(i => deriver.DeriveReceiveAddress((uint)i)).ToArray());
    }

    [Fact]
    public async Task Litecoinds_validateaddress_agrees_with_our_validator_on_valid_and_invalid_addresses()
    {
        var wallet = RawClient().SetWalletContext(LitecoinRegtestNode.WalletName);
        var derived = TestAccounts.Deriver(Regtest, ExtendedKeyVersion.Vpub).DeriveReceiveAddress(0);
        var someKey = new Key().PubKey;
        string[] addresses =
        [
            derived,
            derived.ToUpperInvariant(),
            await NewAddressAsync(wallet, "bech32"),
            await NewAddressAsync(wallet, "legacy"),
            await NewAddressAsync(wallet, "p2sh-segwit"),
            someKey.ScriptPubKey.WitHash.GetAddress(LitecoinNetworks.Regtest).ToString(), // P2WSH
            someKey.GetAddress(ScriptPubKeyType.TaprootBIP86, LitecoinNetworks.Regtest).ToString(),
            "mkpZhYtJu2r87Js3pDiWJDmPte2NRZ8bJV", // P2PKH: test chains share Bitcoin testnet's 0x6f
            "2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2", // P2SH with the Bitcoin-era 0xc4 byte litecoind still reads
            derived[..^1] + (derived[^1] == 'q' ? 'p' : 'q'), // broken checksum
            derived[..6] + char.ToUpperInvariant(derived[6]) + derived[7..], // mixed case
            "ltc1qjmxnz78nmc8nq77wuxh25n2es7rzm5c2rkk4wh", // mainnet
            Encoders.Bech32("tltc").Encode(0, someKey.WitHash.ToBytes()), // testnet
            Encoders.Bech32("bcrt").Encode(0, someKey.WitHash.ToBytes()), // Bitcoin regtest
            "LdP8Qox1VAhCzLJNqrr74YovaWYyNBUWvL", // mainnet P2PKH
            "0x9858EfFD232B4033E47d90003D41EC34EcaEda94",
            "rltc1",
        ];

        foreach (var address in addresses)
        {
            var node = (await RawClient().SendCommandAsync("validateaddress", address)).Result;
            var ours = AddressValidator.Validate(Regtest, address);

            Assert.True(node.Value<bool>("isvalid") == ours.IsValid, $"{address}: litecoind says {node.Value<bool>("isvalid")}, we say {ours.IsValid} ({ours.Reason})");
            if (ours.IsValid)
            {
                Assert.Equal(node.Value<string>("scriptPubKey"), Convert.ToHexStringLower(ours.ScriptPubKey.Span));
            }
        }
    }

    [Fact]
    public async Task A_future_witness_version_is_valid_to_litecoind_but_refused_by_us_on_purpose()
    {
        // BIP350 keeps v2+ programs valid for forward compatibility; coins sent there today are anyone-can-spend.
        var future = Encoders.Bech32("rltc").Encode(2, new byte[16]);

        Assert.True((await RawClient().SendCommandAsync("validateaddress", future)).Result.Value<bool>("isvalid"));
        Assert.Contains("witness version 2", AddressValidator.Validate(Regtest, future).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_regtest_network_we_built_has_litecoinds_genesis_block_and_reads_its_addresses()
    {
        var rpc = RawClient();

        Assert.Equal(LitecoinNetworks.Regtest.GenesisHash, await rpc.GetBlockHashAsync(0));
        // NBitcoin's typed RPC parses the node's new address with the network built here.
        var address = await rpc.SetWalletContext(LitecoinRegtestNode.WalletName).GetNewAddressAsync(
            new GetNewAddressRequest { AddressType = AddressType.Bech32 });
        Assert.StartsWith("rltc1q", address.ToString(), StringComparison.Ordinal);
    }

    private RPCClient RawClient()
    {
        var (user, password) = _node.RpcLogin;
        return new RPCClient($"{user}:{password}", _node.Rpc.Endpoint, LitecoinNetworks.Regtest);
    }

    private static async Task<string> NewAddressAsync(RPCClient wallet, string type) =>
        (await wallet.SendCommandAsync("getnewaddress", "", type)).Result.Value<string>()!;
}

/// <summary>Our EVM derivation against ganache's own: the accounts it funds from its documented deterministic mnemonic.</summary>
[Collection("evm")]
public sealed class EvmCrossCheckTests(EvmDevNodeFixture fixture)
{
    // `ganache --wallet.deterministic` derives its accounts m/44'/60'/0'/0/i from this mnemonic (ganache's documentation).
    private const string GanacheDeterministicMnemonic = "myth like bonus scare over problem client lizard pioneer submit female collect";

    [Fact]
    public async Task Addresses_derived_from_ganaches_mnemonic_equal_its_accounts()
    {
        var seed = new Mnemonic(GanacheDeterministicMnemonic, Wordlist.English).DeriveSeed();
        var network = Network.Ethereum(NetworkChain.Regtest);
        var account = ExtendedKey.FromSeed(seed, ExtendedKeyVersion.Xpub).Derive(network.AccountPath()).Neuter();
        var deriver = new AddressDeriver(network, account);

        var accounts = await fixture.Node.Rpc.GetAccountsAsync();

        Assert.Equal(10, accounts.Count);
        Assert.Equal(accounts, Enumerable.Range(0, accounts.Count).Select(i => deriver.DeriveReceiveAddress((uint)i)).ToArray());
    }
}
