using CryptoPay.Chains.Hd;

namespace CryptoPay.Chains.Tests.Hd;

public sealed class KeyPathTests
{
    [Theory]
    [InlineData("m/84'/0'/0'/0/5", "m/84'/0'/0'/0/5")]
    [InlineData("m/84h/0H/0'/0/5", "m/84'/0'/0'/0/5")]
    [InlineData("0/5", "m/0/5")]
    [InlineData("m", "m")]
    [InlineData("m/2147483647'", "m/2147483647'")]
    public void Parses_and_formats(string text, string formatted)
    {
        Assert.Equal(formatted, KeyPath.Parse(text).ToString());
    }

    [Fact]
    public void Hardened_steps_carry_the_high_bit()
    {
        Assert.Equal([84u | KeyPath.HardenedOffset, KeyPath.HardenedOffset, KeyPath.HardenedOffset, 0u, 5u], KeyPath.Parse("m/84'/0'/0'/0/5").Indexes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("m/")]
    [InlineData("m//1")]
    [InlineData("m/2147483648")]
    [InlineData("m/-1")]
    [InlineData("m/1x")]
    [InlineData("m/ 1")]
    [InlineData("M/1")]
    public void Rejects_malformed_paths(string text)
    {
        Assert.False(KeyPath.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
        Assert.Throws<FormatException>(() => KeyPath.Parse(text));
    }

    [Fact]
    public void Equal_paths_are_equal()
    {
        Assert.Equal(KeyPath.Parse("m/44'/60'/0'"), KeyPath.Parse("m/44h/60h/0h"));
        Assert.Equal(KeyPath.Parse("m/44'/60'/0'").GetHashCode(), KeyPath.Parse("m/44h/60h/0h").GetHashCode());
        Assert.NotEqual(KeyPath.Parse("m/44'/60'/0'"), KeyPath.Parse("m/44/60/0"));
    }
}
