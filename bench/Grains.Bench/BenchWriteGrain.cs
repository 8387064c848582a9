using Orleans;
using Orleans.Runtime;
using System.Text.Json.Serialization;
using CryptoPay.Grains.Storage;

namespace CryptoPay.Grains.Bench;

/// <summary>A grain whose one call is exactly one state write through the default grain storage (ADO.NET on PostgreSQL).</summary>
[Alias("cryptopay.bench.write")]
public interface IBenchWriteGrain : IGrainWithStringKey
{
    /// <summary>Sets the counter and the payload and writes the state once.</summary>
    [Alias("write")]
    Task Write(long counter, string payload);
}

/// <summary>
/// State shaped like a small grain record: a few scalars and a text body of a chosen size (an invoice's state is a
/// few hundred bytes to ~2 KB of JSON). Stored with the silo's System.Text.Json storage serializer.
/// </summary>
[GenerateSerializer]
[Alias("cryptopay.bench.write-state")]
public sealed class BenchWriteState
{
    [Id(0)]
    [JsonPropertyName("counter")]
    public long Counter { get; set; }

    [Id(1)]
    [JsonPropertyName("updated_at")]
    public DateTimeOffset UpdatedAt { get; set; }

    [Id(2)]
    [JsonPropertyName("status")]
    public string Status { get; set; } = "pending";

    [Id(3)]
    [JsonPropertyName("payload")]
    public string Payload { get; set; } = "";
}

/// <summary>The state name is the bench's own (ADO.NET storage keys rows by state name and grain key).</summary>
public sealed class BenchWriteGrain([PersistentState("bench-write-state")] IPersistentState<BenchWriteState> state) : Grain, IBenchWriteGrain
{
    public async Task Write(long counter, string payload)
    {
        state.State.Counter = counter;
        state.State.UpdatedAt = DateTimeOffset.UtcNow;
        state.State.Payload = payload;
        await state.WriteStateAsync();
    }
}

/// <summary>
/// The same call on the projected storage (<c>src/Grains/Storage</c>) that the hot grain types use (invoices, webhook
/// deliveries, ledger outputs, balances): its own table with a typed column, concurrent writes committed together.
/// Measured side by side with <see cref="BenchWriteGrain"/> on ADO.NET (ARCHITECTURE.md).
/// </summary>
[Alias("cryptopay.bench.projected-write")]
public interface IBenchProjectedWriteGrain : IGrainWithStringKey
{
    [Alias("write")]
    Task Write(long counter, string payload);
}

public sealed class BenchProjectedWriteGrain(
    [PersistentState(BenchProjectedWriteGrain.StateName, BenchProjectedWriteGrain.StorageName)] IPersistentState<BenchWriteState> state)
    : Grain, IBenchProjectedWriteGrain
{
    public const string StateName = "bench-projected-write";
    public const string StorageName = "bench-projected";

    /// <summary>The bench's table; the bench creates it (<see cref="CreateTable"/>).</summary>
    public static readonly TableProjection<BenchWriteState> Projection = new TableProjection<BenchWriteState>(StateName, "bench_projected_rows")
        .Column("status", ColumnType.Text, s => s.Status)
        .Column("updated_at", ColumnType.TimestampTz, s => s.UpdatedAt);

    public const string CreateTable =
        "CREATE TABLE bench_projected_rows (grain_key text PRIMARY KEY, version bigint NOT NULL, state jsonb NOT NULL, status text NOT NULL, updated_at timestamptz NOT NULL)";

    public async Task Write(long counter, string payload)
    {
        state.State.Counter = counter;
        state.State.UpdatedAt = DateTimeOffset.UtcNow;
        state.State.Payload = payload;
        await state.WriteStateAsync();
    }
}
