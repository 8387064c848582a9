using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;

namespace CryptoPay.Integration.Tests.Chains;

/// <summary>Deposit-address derivers for the tests, from a fixed seed, exactly as an operator's account xpub would be used.</summary>
internal static class TestAccounts
{
    private static readonly byte[] Seed = Convert.FromHexString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

    /// <summary>The BIP84/BIP44 account key of <paramref name="network"/>, neutered, in <paramref name="version"/>.</summary>
    public static ExtendedKey AccountKey(Network network, ExtendedKeyVersion version) =>
        ExtendedKey.FromSeed(Seed, version).Derive(network.AccountPath()).Neuter();

    /// <summary>The private key of receive address account/0/<paramref name="index"/>, as a payout hot wallet holds it.</summary>
    public static NBitcoin.Key PrivateKey(Network network, uint index) =>
        ExtendedKey.FromSeed(Seed).Derive(network.AccountPath()).Derive(0).Derive(index).PrivateExtKey!.PrivateKey;

    public static AddressDeriver Deriver(Network network, ExtendedKeyVersion version) => new(network, AccountKey(network, version));
}
