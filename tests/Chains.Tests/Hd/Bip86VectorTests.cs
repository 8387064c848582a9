using CryptoPay.Chains.Addresses;
using CryptoPay.Chains.Hd;
using NBitcoin;
using Network = CryptoPay.Chains.Networks.Network;

namespace CryptoPay.Chains.Tests.Hd;

public sealed class Bip86VectorTests
{
    // BIP86 test vectors: mnemonic "abandon ×11 about", root keys and account 0 of m/86'/0'/0'.
    private const string RootXprv = "xprv9s21ZrQH143K3GJpoapnV8SFfukcVBSfeCficPSGfubmSFDxo1kuHnLisriDvSnRRuL2Qrg5ggqHKNVpxR86QEC8w35uxmGoggxtQTPvfUu";
    private const string RootXpub = "xpub661MyMwAqRbcFkPHucMnrGNzDwb6teAX1RbKQmqtEF8kK3Z7LZ59qafCjB9eCRLiTVG3uxBxgKvRgbubRhqSKXnGGb1aoaqLrpMBDrVxga8";
    private const string AccountXprv = "xprv9xgqHN7yz9MwCkxsBPN5qetuNdQSUttZNKw1dcYTV4mkaAFiBVGQziHs3NRSWMkCzvgjEe3n9xV8oYywvM8at9yRqyaZVz6TYYhX98VjsUk";
    private const string AccountXpub = "xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ";

    // BIP86: (path below the account, internal key, output key, address).
    public static TheoryData<string, string, string, string> AccountAddresses => new()
    {
        { "0/0", "cc8a4bc64d897bddc5fbc2f670f7a8ba0b386779106cf1223c6fc5d7cd6fc115", "a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c", "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr" },
        { "0/1", "83dfe85a3151d2517290da461fe2815591ef69f2b18a2ce63f01697a8b313145", "a82f29944d65b86ae6b5e5cc75e294ead6c59391a1edc5e016e3498c67fc7bbb", "bc1p4qhjn9zdvkux4e44uhx8tc55attvtyu358kutcqkudyccelu0was9fqzwh" },
        { "1/0", "399f1b2f4393f29a18c937859c5dd8a77350103157eb880f02e8c08214277cef", "882d74e5d0572d5a816cef0041a96b6c1de832f6f9676d9605c44d5e9a97d3dc", "bc1p3qkhfews2uk44qtvauqyr2ttdsw7svhkl9nkm9s9c3x4ax5h60wqwruhk7" },
    };

    [Fact]
    public void Root_derives_the_published_account_keys()
    {
        var root = ExtendedKey.Parse(RootXprv);

        Assert.Equal(RootXpub, root.Neuter().ToString());
        Assert.Equal(AccountXprv, root.Derive("m/86'/0'/0'").ToString());
        Assert.Equal(AccountXpub, root.Derive("m/86'/0'/0'").Neuter().ToString());
    }

    [Theory]
    [MemberData(nameof(AccountAddresses))]
    public void Account_children_have_the_published_taproot_keys_and_addresses(string relativePath, string internalKey, string outputKey, string address)
    {
        var key = new PubKey(ExtendedKey.Parse(AccountXpub).Derive(relativePath).PublicKey);

        Assert.Equal(internalKey, key.TaprootInternalKey.ToString());
        Assert.Equal(outputKey, key.GetTaprootFullPubKey().OutputKey.ToString());
        var derived = key.GetAddress(ScriptPubKeyType.TaprootBIP86, NBitcoin.Network.Main).ToString();
        Assert.Equal(address, derived);
        Assert.Equal(AddressKind.P2tr, AddressValidator.Validate(Network.Btc, address).Kind);
        Assert.Equal("5120" + outputKey, Convert.ToHexStringLower(AddressValidator.Validate(Network.Btc, address).ScriptPubKey.Span));
    }
}
