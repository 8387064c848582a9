using System.Security.Cryptography;
using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using CryptoPay.TestSupport.Evm;
using CryptoPay.TestSupport.Litecoin;
using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.Integration.Tests.LiveGateway;

/// <summary>One PostgreSQL server and both nodes for the live-gateway tests, which run one at a time (silo processes are heavy).</summary>
[CollectionDefinition("live-gateway")]
public sealed class LiveGatewayCollection : ICollectionFixture<PostgresFixture>, ICollectionFixture<LitecoinFixture>, ICollectionFixture<EvmDevNodeFixture>;

/// <summary>
/// A fresh operator account per test: every test's silos hand out index 0, 1, … of their own key, so no payment an
/// earlier test made on the shared node can match an address of a later one.
/// </summary>
internal sealed record OperatorAccount(string AccountKey, AddressDeriver Deriver)
{
    public static OperatorAccount Fresh(Network network, ExtendedKeyVersion version)
    {
        var key = ExtendedKey.FromSeed(RandomNumberGenerator.GetBytes(32), version).Derive(network.AccountPath()).Neuter();
        return new OperatorAccount(key.Serialize(version), new AddressDeriver(network, key));
    }
}
