using CryptoPay.TestSupport.Evm;
using CryptoPay.TestSupport.Litecoin;

namespace CryptoPay.Integration.Tests.Chains;

[CollectionDefinition("litecoin")]
public sealed class LitecoinCollection : ICollectionFixture<LitecoinFixture>;

[CollectionDefinition("evm")]
public sealed class EvmCollection : ICollectionFixture<EvmDevNodeFixture>;
