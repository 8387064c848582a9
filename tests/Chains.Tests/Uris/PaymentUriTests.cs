using System.Numerics;
using CryptoPay.Chains.Uris;

namespace CryptoPay.Chains.Tests.Uris;

public sealed class PaymentUriTests
{
    private const string BtcAddress = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu";
    private const string LtcAddress = "ltc1qjmxnz78nmc8nq77wuxh25n2es7rzm5c2rkk4wh";
    private const string EvmAddress = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94";
    private const string UsdtOnEth = "0xdAC17F958D2ee523a2206206994597C13D831ec7";
    private const string TronAddress = "TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH";
    private const string UsdtOnTron = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";

    [Fact]
    public void Bip21_writes_the_amount_in_coins_exactly_and_without_trailing_zeros()
    {
        Assert.Equal($"bitcoin:{BtcAddress}?amount=0.0015321", PaymentUri.Bip21("bitcoin", BtcAddress, 153_210, 8));
        Assert.Equal($"litecoin:{LtcAddress}?amount=1", PaymentUri.Bip21("litecoin", LtcAddress, 100_000_000, 8));
        Assert.Equal($"litecoin:{LtcAddress}?amount=20.3", PaymentUri.Bip21("litecoin", LtcAddress, 2_030_000_000, 8));
        Assert.Equal($"bitcoin:{BtcAddress}?amount=0.00000001", PaymentUri.Bip21("bitcoin", BtcAddress, 1, 8));
    }

    [Fact]
    public void Bip21_escapes_label_and_message()
    {
        Assert.Equal(
            $"bitcoin:{BtcAddress}?amount=0.5&label=Shop%20%26%20Co&message=Order%20%2342",
            PaymentUri.Bip21("bitcoin", BtcAddress, 50_000_000, 8, "Shop & Co", "Order #42"));
    }

    [Theory]
    [InlineData("153210", 8, "0.0015321")]
    [InlineData("2100000000000000", 8, "21000000")]
    [InlineData("0", 8, "0")]
    [InlineData("1", 18, "0.000000000000000001")]
    [InlineData("1234567890123456789", 18, "1.234567890123456789")]
    [InlineData("115792089237316195423570985008687907853269984665640564039457584007913129639935", 18, "115792089237316195423570985008687907853269984665640564039457.584007913129639935")]
    [InlineData("1500000", 6, "1.5")]
    [InlineData("42", 0, "42")]
    public void Coin_amounts_are_exact_decimal_strings(string units, int decimals, string expected) =>
        Assert.Equal(expected, PaymentUri.CoinAmount(BigInteger.Parse(units, System.Globalization.CultureInfo.InvariantCulture), decimals));

    [Fact]
    public void Negative_amounts_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PaymentUri.CoinAmount(-1, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => PaymentUri.Eip681Native(EvmAddress, 1, -1));
    }

    [Fact]
    public void Eip681_native_transfer_names_the_chain_and_the_value_in_wei()
    {
        Assert.Equal($"ethereum:{EvmAddress}@1?value=1500000000000000000", PaymentUri.Eip681Native(EvmAddress, 1, BigInteger.Parse("1500000000000000000", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal($"ethereum:{EvmAddress}@56?value=1", PaymentUri.Eip681Native(EvmAddress, 56, 1));
        Assert.Equal($"ethereum:{EvmAddress}?value=7", PaymentUri.Eip681Native(EvmAddress, null, 7));
    }

    [Fact]
    public void Eip681_token_transfer_calls_the_contract_with_recipient_and_units()
    {
        Assert.Equal(
            $"ethereum:{UsdtOnEth}@1/transfer?address={EvmAddress}&uint256=25500000",
            PaymentUri.Eip681Token(UsdtOnEth, 1, EvmAddress, 25_500_000));
    }

    [Fact]
    public void Tron_uri_carries_the_amount_in_tokens_and_the_trc20_contract()
    {
        Assert.Equal($"tron:{TronAddress}?amount=25.5&token={UsdtOnTron}", PaymentUri.Tron(TronAddress, 25_500_000, 6, UsdtOnTron));
        Assert.Equal($"tron:{TronAddress}?amount=0.000001", PaymentUri.Tron(TronAddress, 1, 6, null));
    }
}
