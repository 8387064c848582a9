using CryptoPay.Chains.Crypto;
using CryptoPay.Chains.Encoding;

namespace CryptoPay.Chains.Tests.Crypto;

public sealed class HashesTests
{
    // FIPS 180-2 appendix B.1 ("abc"), the RIPEMD-160 paper's test values, and Keccak-256 known answers
    // (empty string: Ethereum's empty code hash; "abc" from the Keccak team's reference outputs).
    public static TheoryData<string, string, string> KnownAnswers => new()
    {
        { "sha256", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { "sha256", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "ripemd160", "", "9c1185a5c5e9fc54612808977ee8f548b2258d31" },
        { "ripemd160", "abc", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc" },
        { "keccak256", "", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470" },
        { "keccak256", "abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45" },
    };

    [Theory]
    [MemberData(nameof(KnownAnswers))]
    public void Hashes_match_known_answers(string algorithm, string input, string expectedHex)
    {
        var data = System.Text.Encoding.ASCII.GetBytes(input);
        var actual = algorithm switch
        {
            "sha256" => Hashes.Sha256(data),
            "ripemd160" => Hashes.Ripemd160(data),
            _ => Hashes.Keccak256(data),
        };

        Assert.Equal(expectedHex, Hex.Encode(actual));
    }

    [Fact]
    public void Double_sha256_and_hash160_compose_the_primitives()
    {
        var data = System.Text.Encoding.ASCII.GetBytes("abc");

        Assert.Equal(Hashes.Sha256(Hashes.Sha256(data)), Hashes.DoubleSha256(data));
        Assert.Equal(Hashes.Ripemd160(Hashes.Sha256(data)), Hashes.Hash160(data));
    }

    [Fact]
    public void Hash160_of_the_generator_key_is_bip173s_example_program()
    {
        // BIP173 "Examples": P2WPKH of 0279BE66…798 has program 751e76e8199196d454941c45d1b3a323f1433bd6.
        var generator = Convert.FromHexString("0279BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798");

        Assert.Equal("751e76e8199196d454941c45d1b3a323f1433bd6", Hex.Encode(Hashes.Hash160(generator)));
    }
}
