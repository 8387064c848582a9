using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Xunit.Abstractions;

namespace CryptoPay.OrleansTests.Storage;

/// <summary>
/// The grain storage serializer the silo configures (System.Text.Json), beside Orleans' binary one and
/// the Newtonsoft default it replaces, on a record shaped like an invoice (docs/ORLEANS.md has the figures).
/// </summary>
public sealed class StorageSerializerTests(ITestOutputHelper output)
{
    private const int RoundTrips = 5_000;

    [Fact]
    public async Task The_configured_serializer_keeps_written_zeros_survives_a_type_rename_and_writes_no_type_names()
    {
        await using var cluster = await OrleansTestCluster.StartEmbeddedAsync();
        var services = cluster.Silos[0].SiloHost.Services;
        var configured = services.GetRequiredService<IGrainStorageSerializer>();
        var binary = new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>());
        var state = InvoiceLikeState.Sample();

        Assert.IsType<SystemTextJsonGrainStorageSerializer>(configured);
        foreach (var serializer in new[] { configured, binary })
        {
            var payload = serializer.Serialize(state);
            var reread = serializer.Deserialize<InvoiceLikeState>(payload)!;
            var renamed = serializer.Deserialize<RenamedInvoiceLikeState>(payload)!;

            Assert.Equal(0, reread.RequiredConfirmations);
            Assert.Equal(state.Describe(), reread.Describe());
            Assert.Equal(state.Describe(), renamed.Describe());
            Assert.DoesNotContain("InvoiceLikeState", Encoding.Latin1.GetString(payload.ToArray()), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Round_trip_cost_of_each_storage_serializer()
    {
        await using var cluster = await OrleansTestCluster.StartEmbeddedAsync();
        var services = cluster.Silos[0].SiloHost.Services;
        var candidates = new (string Name, IGrainStorageSerializer Serializer)[]
        {
            ("System.Text.Json (configured)", services.GetRequiredService<IGrainStorageSerializer>()),
            ("Orleans binary", new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>())),
            ("Newtonsoft (Orleans default)", ActivatorUtilities.CreateInstance<JsonGrainStorageSerializer>(services, ActivatorUtilities.CreateInstance<OrleansJsonSerializer>(services))),
        };
        var state = InvoiceLikeState.Sample();

        foreach (var (name, serializer) in candidates)
        {
            var payload = serializer.Serialize(state);
            var zeroKept = serializer.Deserialize<InvoiceLikeState>(payload)!.RequiredConfirmations == 0;
            for (var i = 0; i < RoundTrips / 10; i++)
            {
                serializer.Deserialize<InvoiceLikeState>(serializer.Serialize(state));
            }

            var clock = Stopwatch.StartNew();
            for (var i = 0; i < RoundTrips; i++)
            {
                serializer.Deserialize<InvoiceLikeState>(serializer.Serialize(state));
            }

            var perRoundTrip = clock.Elapsed.TotalMicroseconds / RoundTrips;
            output.WriteLine($"{name}: {payload.ToMemory().Length} bytes, {perRoundTrip:0.0} µs per write+read, written 0 kept: {zeroKept}");
            Assert.True(perRoundTrip > 0);
        }
    }
}

public enum InvoiceLikeStatus
{
    Pending,
    Paid,
    Expired,
}

/// <summary>The shape of a stored invoice: ids, money as decimal and integer strings, times, a list and a map.</summary>
[GenerateSerializer]
[Alias("test.invoice-like")]
public sealed class InvoiceLikeState
{
    [Id(0)] public string Id { get; set; } = "";
    [Id(1)] public Guid MerchantId { get; set; }
    [Id(2)] public decimal Amount { get; set; }
    [Id(3)] public string Currency { get; set; } = "USD";
    [Id(4)] public InvoiceLikeStatus Status { get; set; }
    [Id(5)] public DateTimeOffset CreatedAt { get; set; }
    [Id(6)] public DateTimeOffset ExpiresAt { get; set; }
    [Id(7)] public int RequiredConfirmations { get; set; } = 6;
    [Id(8)] public List<PaymentLike> Payments { get; set; } = [];
    [Id(9)] public Dictionary<string, string> Metadata { get; set; } = [];
    [Id(10)] public string? OrderId { get; set; }

    public static InvoiceLikeState Sample() => new()
    {
        Id = "inv:3f2a9c1e6b7d4e0f8a1b2c3d4e5f6a7b",
        MerchantId = Guid.Parse("0b8f7e64-4d3c-4b2a-9f1e-2d3c4b5a6978"),
        Amount = 25.00m,
        Status = InvoiceLikeStatus.Paid,
        CreatedAt = new DateTimeOffset(2026, 12, 3, 17, 0, 0, TimeSpan.Zero),
        ExpiresAt = new DateTimeOffset(2026, 12, 3, 17, 15, 0, TimeSpan.Zero),
        RequiredConfirmations = 0,
        Payments =
        [
            new("4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b", 0, "2500000000", 2),
            new("0e3e2357e806b6cdb1f70b54c3a3a17b6714ee1f0e68bebb44a74b1efd512098", 1, "1", 0),
        ],
        Metadata = { ["order"] = "1001", ["customer"] = "c-42" },
        OrderId = "1001",
    };

    public string Describe() => InvoiceLike.Describe(Id, MerchantId, Amount, Currency, Status, CreatedAt, ExpiresAt, RequiredConfirmations, Payments, Metadata, OrderId);
}

/// <summary>The same stored shape after a class rename: stored state must still load.</summary>
[GenerateSerializer]
[Alias("test.invoice-like-renamed")]
public sealed class RenamedInvoiceLikeState
{
    [Id(0)] public string Id { get; set; } = "";
    [Id(1)] public Guid MerchantId { get; set; }
    [Id(2)] public decimal Amount { get; set; }
    [Id(3)] public string Currency { get; set; } = "USD";
    [Id(4)] public InvoiceLikeStatus Status { get; set; }
    [Id(5)] public DateTimeOffset CreatedAt { get; set; }
    [Id(6)] public DateTimeOffset ExpiresAt { get; set; }
    [Id(7)] public int RequiredConfirmations { get; set; } = 6;
    [Id(8)] public List<PaymentLike> Payments { get; set; } = [];
    [Id(9)] public Dictionary<string, string> Metadata { get; set; } = [];
    [Id(10)] public string? OrderId { get; set; }

    public string Describe() => InvoiceLike.Describe(Id, MerchantId, Amount, Currency, Status, CreatedAt, ExpiresAt, RequiredConfirmations, Payments, Metadata, OrderId);
}

internal static class InvoiceLike
{
    /// <summary>Every field of an invoice-shaped state on one line, to compare two states of different classes.</summary>
    public static string Describe(params object?[] fields) =>
        string.Join("|", fields.Select(field => field switch
        {
            DateTimeOffset time => time.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            IEnumerable<PaymentLike> payments => string.Join(",", payments),
            IDictionary<string, string> map => string.Join(",", map.OrderBy(p => p.Key, StringComparer.Ordinal)),
            _ => Convert.ToString(field, System.Globalization.CultureInfo.InvariantCulture),
        }));
}

[GenerateSerializer]
[Alias("test.payment-like")]
public sealed record PaymentLike([property: Id(0)] string TxId, [property: Id(1)] int Vout, [property: Id(2)] string AmountUnits, [property: Id(3)] int Confirmations);
