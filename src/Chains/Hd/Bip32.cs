namespace CryptoPay.Chains.Hd;

/// <summary>BIP32 child numbers: indexes from 2^31 are hardened. Paths themselves are <see cref="NBitcoin.KeyPath"/>.</summary>
public static class Bip32
{
    public const uint HardenedOffset = 0x80000000;

    public static bool IsHardened(uint index) => index >= HardenedOffset;
}
