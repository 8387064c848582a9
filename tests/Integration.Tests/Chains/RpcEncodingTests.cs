using System.Numerics;
using CryptoPay.Chains.Rpc;
using Nethereum.Hex.HexTypes;
using Newtonsoft.Json.Linq;

namespace CryptoPay.Integration.Tests.Chains;

/// <summary>The exact conversions the clients rely on, with values known from the specifications.</summary>
public sealed class RpcEncodingTests
{
    [Fact]
    public void The_erc20_transfer_topic_and_selector_are_the_well_known_values()
    {
        Assert.Equal("0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef", Erc20.TransferTopic);
        Assert.Equal("0xa9059cbb", Erc20.TransferSelector);
    }

    [Fact]
    public void Transfer_calldata_is_the_selector_then_two_32_byte_words()
    {
        var data = Erc20.EncodeTransfer("0x90F8bf6A479f320ead074411a4B0e7944Ea8c9C1", BigInteger.Pow(2, 255));
        Assert.Equal(
            "0xa9059cbb" + "00000000000000000000000090f8bf6a479f320ead074411a4b0e7944ea8c9c1"
            + "8000000000000000000000000000000000000000000000000000000000000000",
            data);
        Assert.Throws<ArgumentOutOfRangeException>(() => Erc20.EncodeTransfer("0x90F8bf6A479f320ead074411a4B0e7944Ea8c9C1", BigInteger.Pow(2, 256)));
    }

    [Theory]
    [InlineData("0x0", "0")]
    [InlineData("0x1bc16d674ec80000", "2000000000000000000")]
    [InlineData("0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "115792089237316195423570985008687907853269984665640564039457584007913129639935")]
    public void Hex_quantities_round_trip_exactly(string hex, string value)
    {
        var parsed = new HexBigInteger(hex).Value;
        Assert.Equal(BigInteger.Parse(value, System.Globalization.CultureInfo.InvariantCulture), parsed);
        Assert.Equal(hex, new HexBigInteger(parsed).HexValue);
    }

    [Theory]
    [InlineData("0.00000001", 1)]
    [InlineData("20999999.97690000", 2_099_999_997_690_000)]
    [InlineData("0.1", 10_000_000)]
    [InlineData("1e-05", 1_000)]
    public void Bitcoin_amounts_become_exact_satoshis(string json, long satoshis)
    {
        Assert.Equal(satoshis, BitcoinAmount.ToSatoshis(JToken.Parse(json)));
    }

    [Theory]
    [InlineData("67108863.99999999", 6_710_886_399_999_999)]
    [InlineData("67108864.00000000", null)] // from 2^26 coins a double no longer tells every satoshi apart
    public void Json_numbers_are_read_exactly_below_2_to_the_26_coins_and_refused_above(string json, long? satoshis)
    {
        if (satoshis is { } exact)
        {
            Assert.Equal(exact, BitcoinAmount.ToSatoshis(JToken.Parse(json)));
        }
        else
        {
            Assert.Throws<FormatException>(() => BitcoinAmount.ToSatoshis(JToken.Parse(json)));
        }
    }

    [Fact]
    public void An_amount_finer_than_a_satoshi_is_refused()
    {
        Assert.Throws<FormatException>(() => BitcoinAmount.ToSatoshis(JToken.Parse("0.000000001")));
    }
}
