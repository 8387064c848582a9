using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using NBitcoin;
using Network = CryptoPay.Chains.Networks.Network;

namespace CryptoPay.Chains.Tests.Hd;

public sealed class Bip84VectorTests
{
    // BIP84 test vectors: mnemonic "abandon ×11 about", its root zprv and account 0.
    private const string RootZprv = "zprvAWgYBBk7JR8Gjrh4UJQ2uJdG1r3WNRRfURiABBE3RvMXYSrRJL62XuezvGdPvG6GFBZduosCc1YP5wixPox7zhZLfiUm8aunE96BBa4Kei5";
    private const string AccountZprv = "zprvAdG4iTXWBoARxkkzNpNh8r6Qag3irQB8PzEMkAFeTRXxHpbF9z4QgEvBRmfvqWvGp42t42nvgGpNgYSJA9iefm1yYNZKEm7z6qUWCroSQnE";
    private const string AccountZpub = "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";

    // BIP84 test vectors: (path below the account, WIF private key, compressed public key, address).
    public static TheoryData<string, string, string, string> AccountAddresses => new()
    {
        { "0/0", "KyZpNDKnfs94vbrwhJneDi77V6jF64PWPF8x5cdJb8ifgg2DUc9d", "0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c", "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu" },
        { "0/1", "Kxpf5b8p3qX56DKEe5NqWbNUP9MnqoRFzZwHRtsFqhzuvUJsYZCy", "03e775fd51f0dfb8cd865d9ff1cca2a158cf651fe997fdc9fee9c1d3b5e995ea77", "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g" },
        { "1/0", "KxuoxufJL5csa1Wieb2kp29VNdn92Us8CoaUG3aGtPtcF3AzeXvF", "03025324888e429ab8e3dbaf1f7802648b9cd01e9b418485c5fa4c1b9b5700e1a6", "bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el" },
    };

    // SLIP-0132 "Bitcoin Test Vectors" for the same mnemonic: account keys per purpose and the first address.
    public static TheoryData<string, string, string, string> Slip132Accounts => new()
    {
        { "m/44'/0'/0'", "xprv9xpXFhFpqdQK3TmytPBqXtGSwS3DLjojFhTGht8gwAAii8py5X6pxeBnQ6ehJiyJ6nDjWGJfZ95WxByFXVkDxHXrqu53WCRGypk2ttuqncb", "xpub6BosfCnifzxcFwrSzQiqu2DBVTshkCXacvNsWGYJVVhhawA7d4R5WSWGFNbi8Aw6ZRc1brxMyWMzG3DSSSSoekkudhUd9yLb6qx39T9nMdj", "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA" },
        { "m/49'/0'/0'", "yprvAHwhK6RbpuS3dgCYHM5jc2ZvEKd7Bi61u9FVhYMpgMSuZS613T1xxQeKTffhrHY79hZ5PsskBjcc6C2V7DrnsMsNaGDaWev3GLRQRgV7hxF", "ypub6Ww3ibxVfGzLrAH1PNcjyAWenMTbbAosGNB6VvmSEgytSER9azLDWCxoJwW7Ke7icmizBMXrzBx9979FfaHxHcrArf3zbeJJJUZPf663zsP", "37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf" },
        { "m/84'/0'/0'", AccountZprv, AccountZpub, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu" },
    };

    [Fact]
    public void Root_node_derives_the_published_account_keys()
    {
        var root = ExtendedKey.Parse(RootZprv);
        var account = root.Derive("m/84'/0'/0'");

        Assert.Equal(ExtendedKeyVersion.Zpub, root.Version);
        Assert.Equal(AccountZprv, account.ToString());
        Assert.Equal(AccountZpub, account.Neuter().ToString());
        Assert.Equal(RootZprv, root.ToString());
    }

    [Theory]
    [MemberData(nameof(AccountAddresses))]
    public void Account_children_have_the_published_keys_and_addresses(string relativePath, string wif, string publicKeyHex, string address)
    {
        var child = ExtendedKey.Parse(AccountZprv).Derive(relativePath);

        Assert.Equal(wif, child.PrivateExtKey!.PrivateKey.GetWif(NBitcoin.Network.Main).ToString());
        Assert.Equal(publicKeyHex, Convert.ToHexStringLower(child.PublicKey));
        Assert.Equal(address, Address(child.PublicKey, ScriptPubKeyType.Segwit));

        // The same public key is reachable from the zpub alone.
        Assert.Equal(publicKeyHex, Convert.ToHexStringLower(ExtendedKey.Parse(AccountZpub).Derive(relativePath).PublicKey));
    }

    [Fact]
    public void Address_deriver_on_the_account_zpub_gives_the_published_receive_addresses()
    {
        var deriver = AddressDeriver.Create(Network.Btc, AccountZpub);

        Assert.Equal("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", deriver.DeriveReceiveAddress(0));
        Assert.Equal("bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g", deriver.DeriveReceiveAddress(1));
    }

    [Fact]
    public void The_zpub_relabelled_as_xpub_derives_the_same_addresses()
    {
        var asXpub = ExtendedKey.Parse(AccountZpub).Serialize(ExtendedKeyVersion.Xpub);

        Assert.StartsWith("xpub", asXpub, StringComparison.Ordinal);
        Assert.Equal(
            "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu",
            AddressDeriver.Create(Network.Btc, asXpub).DeriveReceiveAddress(0));
    }

    [Theory]
    [MemberData(nameof(Slip132Accounts))]
    public void Slip132_account_keys_and_first_addresses_match(string accountPath, string accountPrv, string accountPub, string firstAddress)
    {
        var root = ExtendedKey.Parse(RootZprv);
        var account = ExtendedKey.Parse(accountPrv);
        var derived = root.Derive(accountPath).WithVersion(account.Version);

        Assert.Equal(accountPrv, derived.ToString());
        Assert.Equal(accountPub, derived.Neuter().ToString());

        var firstKey = account.Derive("0/0").PublicKey;
        var address = account.Version.Script switch
        {
            ExtendedKeyScript.NativeSegwit => Address(firstKey, ScriptPubKeyType.Segwit),
            ExtendedKeyScript.NestedSegwit => Address(firstKey, ScriptPubKeyType.SegwitP2SH),
            _ => Address(firstKey, ScriptPubKeyType.Legacy),
        };
        Assert.Equal(firstAddress, address);
    }

    private static string Address(ReadOnlySpan<byte> publicKey, ScriptPubKeyType type) =>
        new PubKey(publicKey).GetAddress(type, NBitcoin.Network.Main).ToString();
}
