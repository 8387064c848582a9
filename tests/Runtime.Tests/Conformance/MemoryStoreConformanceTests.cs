using CryptoPay.Runtime.Storage;
using CryptoPay.Runtime.Storage.Memory;

namespace CryptoPay.Runtime.Tests.Conformance;

public sealed class MemoryStoreConformanceTests : RuntimeConformanceTests
{
    protected override Task<IGrainStore> CreateStoreAsync() => Task.FromResult<IGrainStore>(new MemoryGrainStore());

    protected override Task<(long Value, string? Label)?> ReadProjectedCounterAsync(IGrainStore store, string key)
    {
        var rows = ((MemoryGrainStore)store).GetProjection("test_counters");
        return Task.FromResult<(long, string?)?>(rows.TryGetValue(key, out var row) ? ((long)row[0]!, (string?)row[1]) : null);
    }
}
