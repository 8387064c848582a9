using NBitcoin;
using NBitcoin.DataEncoders;

namespace CryptoPay.Chains.Tests.Bitcoin;

public sealed class SegwitAddressTests
{
    // BIP350 "Test vectors for v0-v16 native segregated witness addresses": valid addresses and their scriptPubKey.
    public static TheoryData<string, string> Bip350Valid => new()
    {
        { "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6" },
        { "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262" },
        { "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6" },
        { "BC1SW50QGDZ25J", "6002751e" },
        { "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323" },
        { "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy", "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433" },
        { "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c", "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433" },
        { "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798" },
    };

    // BIP173 "Test vectors": valid version-0 segwit addresses and their scriptPubKey (still valid after BIP350).
    public static TheoryData<string, string> Bip173ValidV0 => new()
    {
        { "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6" },
        { "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262" },
        { "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy", "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433" },
    };

    // BIP173 "Test vectors": valid v1+ addresses under BIP173 that BIP350 made invalid (bech32 instead of bech32m).
    public static TheoryData<string> Bip173V1PlusSupersededByBip350 => new()
    {
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
        "BC1SW50QA3JX3S",
        "bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj",
    };

    // BIP173 "Test vectors": invalid segwit addresses, with the BIP's reason.
    public static TheoryData<string, string> Bip173Invalid => new()
    {
        { "tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty", "Invalid human-readable part" },
        { "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "Invalid checksum" },
        { "BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2", "Invalid witness version" },
        { "bc1rw5uspcuh", "Invalid program length" },
        { "bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90", "Invalid program length" },
        { "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "Invalid program length for witness version 0 (per BIP141)" },
        { "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7", "Mixed case" },
        { "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du", "zero padding of more than 4 bits" },
        { "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv", "Non-zero padding in 8-to-5 conversion" },
        { "bc1gmk9yu", "Empty data section" },
    };

    // BIP350 "Test vectors for v0-v16 native segregated witness addresses": invalid addresses, with the BIP's reason.
    public static TheoryData<string, string> Bip350Invalid => new()
    {
        { "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut", "Invalid human-readable part" },
        { "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", "Invalid checksum (Bech32 instead of Bech32m)" },
        { "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf", "Invalid checksum (Bech32 instead of Bech32m)" },
        { "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL", "Invalid checksum (Bech32 instead of Bech32m)" },
        { "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", "Invalid checksum (Bech32m instead of Bech32)" },
        { "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47", "Invalid checksum (Bech32m instead of Bech32)" },
        { "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4", "Invalid character in checksum" },
        { "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R", "Invalid witness version" },
        { "bc1pw5dgrnzv", "Invalid program length (1 byte)" },
        { "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav", "Invalid program length (41 bytes)" },
        { "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "Invalid program length for witness version 0 (per BIP141)" },
        { "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq", "Mixed case" },
        { "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf", "zero padding of more than 4 bits" },
        { "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j", "Non-zero padding in 8-to-5 conversion" },
        { "bc1gmk9yu", "Empty data section" },
    };

    // BIP173 "Examples": the key 0279BE66…798 (the generator point) as P2WPKH, and `key OP_CHECKSIG` as P2WSH.
    public static TheoryData<string, string, string> Bip173Examples => new()
    {
        { "bc", "p2wpkh", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4" },
        { "tb", "p2wpkh", "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx" },
        { "bc", "p2wsh", "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3" },
        { "tb", "p2wsh", "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7" },
    };

    [Theory]
    [MemberData(nameof(Bip350Valid))]
    public void Bip350_valid_addresses_decode_to_the_published_script(string address, string scriptPubKeyHex) =>
        AssertDecodesTo(address, scriptPubKeyHex);

    [Theory]
    [MemberData(nameof(Bip173ValidV0))]
    public void Bip173_valid_v0_addresses_decode_to_the_published_script(string address, string scriptPubKeyHex) =>
        AssertDecodesTo(address, scriptPubKeyHex);

    [Theory]
    [MemberData(nameof(Bip173V1PlusSupersededByBip350))]
    public void Bip173_v1_plus_addresses_are_invalid_since_bip350(string address)
    {
        var error = Assert.ThrowsAny<FormatException>(() => Encoders.Bech32("bc").Decode(address, out _));
        Assert.Contains("BECH32M", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Bip173Invalid))]
    public void Bip173_invalid_addresses_are_rejected_for_both_bc_and_tb(string address, string reason) =>
        AssertRejected(address, reason);

    [Theory]
    [MemberData(nameof(Bip350Invalid))]
    public void Bip350_invalid_addresses_are_rejected_for_both_bc_and_tb(string address, string reason) =>
        AssertRejected(address, reason);

    [Theory]
    [MemberData(nameof(Bip173Examples))]
    public void Bip173_examples_encode_from_the_generator_public_key(string hrp, string kind, string expected)
    {
        var publicKey = new PubKey("0279BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798");
        var network = hrp == "bc" ? NBitcoin.Network.Main : NBitcoin.Network.TestNet;

        var address = kind == "p2wpkh"
            ? (BitcoinAddress)publicKey.WitHash.GetAddress(network)
            : publicKey.ScriptPubKey.WitHash.GetAddress(network); // `key OP_CHECKSIG` as P2WSH

        Assert.Equal(expected, address.ToString());
    }

    private static void AssertDecodesTo(string address, string scriptPubKeyHex)
    {
        var hrp = address[..2].ToLowerInvariant();

        var program = Encoders.Bech32(hrp).Decode(address, out var witnessVersion);

        var script = new Script(witnessVersion == 0 ? OpcodeType.OP_0 : (OpcodeType)(OpcodeType.OP_1 + witnessVersion - 1), Op.GetPushOp(program));
        Assert.Equal(scriptPubKeyHex, script.ToHex());
        Assert.Equal(address.ToLowerInvariant(), Encoders.Bech32(hrp).Encode(witnessVersion, program));
    }

    private static void AssertRejected(string address, string reason)
    {
        Assert.ThrowsAny<FormatException>(() => Encoders.Bech32("bc").Decode(address, out _));
        Assert.ThrowsAny<FormatException>(() => Encoders.Bech32("tb").Decode(address, out _));
        _ = reason;
    }
}
