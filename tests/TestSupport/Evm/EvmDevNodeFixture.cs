using Xunit;

namespace CryptoPay.TestSupport.Evm;

/// <summary>
/// One <see cref="EvmDevNode"/> per xunit collection (chain id 1337). The test assembly declares
/// <c>[CollectionDefinition("evm")] public sealed class EvmCollection : ICollectionFixture&lt;EvmDevNodeFixture&gt;;</c>.
/// </summary>
public sealed class EvmDevNodeFixture : IAsyncLifetime
{
    public const long ChainId = 1337;

    private EvmDevNode? _node;

    public EvmDevNode Node => _node ?? throw new InvalidOperationException("The EVM node fixture has not been initialized by xunit yet.");

    public async Task InitializeAsync() => _node = await EvmDevNode.StartAsync(ChainId);

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }
}
