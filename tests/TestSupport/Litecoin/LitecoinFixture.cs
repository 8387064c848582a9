using Xunit;

namespace CryptoPay.TestSupport.Litecoin;

/// <summary>
/// One <see cref="LitecoinRegtestNode"/> per xunit collection. The test assembly declares
/// <c>[CollectionDefinition("litecoin")] public sealed class LitecoinCollection : ICollectionFixture&lt;LitecoinFixture&gt;;</c>.
/// Tests of one collection run one at a time, so one of them may reorganise the chain.
/// </summary>
public sealed class LitecoinFixture : IAsyncLifetime
{
    private LitecoinRegtestNode? _node;

    public LitecoinRegtestNode Node =>
        _node ?? throw new InvalidOperationException("The litecoind fixture has not been initialized by xunit yet.");

    public async Task InitializeAsync() => _node = await LitecoinRegtestNode.StartAsync();

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }
}
