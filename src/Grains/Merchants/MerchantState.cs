using System.Text.Json.Serialization;
using CryptoPay.Grains.Effects;
using Orleans;

namespace CryptoPay.Grains.Merchants;

public enum MerchantStatus
{
    Active,
    Suspended,
}

/// <summary>Live and test data never mix: the mode is part of every key, invoice and index.</summary>
public enum Mode
{
    Live,
    Test,
}

[GenerateSerializer]
[Alias("cryptopay.api-key-summary")]
public sealed record ApiKeySummary(
    [property: Id(0)] Guid Id,
    [property: Id(1)] Mode Mode,
    [property: Id(2)] string Prefix,
    [property: Id(3)] IReadOnlyList<string> Scopes,
    [property: Id(4)] IReadOnlyList<string> AllowedIps,
    [property: Id(5)] DateTimeOffset CreatedAt,
    [property: Id(6)] DateTimeOffset? RevokedAt)
{
    [Id(7)]
    public string Format { get; init; } = ApiKeys.KeyFormats.CryptoPay;

    [Id(8)]
    public string? Name { get; init; }
}

[GenerateSerializer]
[Alias("cryptopay.merchant-settings")]
public sealed record MerchantSettings(
    [property: Id(0)] string Name,
    [property: Id(1)] string ReportingCurrency,
    [property: Id(2)] int? RateLimitPerMinute,
    [property: Id(3)] IReadOnlyList<string>? EnabledPaymentMethods)
{
    /// <summary>Per-network confirmation overrides (<c>btc</c> → 3); validated by the caller (live network, 1..1000).</summary>
    [Id(4)]
    public IReadOnlyDictionary<string, int>? Confirmations { get; init; }
}

/// <summary>An operator's change to a merchant; null fields stay as they are.</summary>
[GenerateSerializer]
[Alias("cryptopay.merchant-changes")]
public sealed record MerchantChanges
{
    /// <summary>Replaces the overrides named here; a network mapped to null drops its override (back to the operator's setting).</summary>
    [Id(0)]
    public IReadOnlyDictionary<string, int?>? Confirmations { get; init; }
}

/// <summary>A merchant as callers see it (<see cref="IMerchantGrain.Get"/>).</summary>
[GenerateSerializer]
[Alias("cryptopay.merchant-state")]
public sealed record MerchantState
{
    [Id(0)]
    public Guid Id { get; set; }

    [Id(1)]
    public string Name { get; set; } = "";

    [Id(2)]
    public MerchantStatus Status { get; set; }

    [Id(3)]
    public string ReportingCurrency { get; set; } = "USD";

    [Id(4)]
    public int? RateLimitPerMinute { get; set; }

    [Id(5)]
    public List<string> EnabledPaymentMethods { get; set; } = [];

    /// <summary>Confirmations this merchant requires per network, overriding the operator's setting (new invoices only).</summary>
    [Id(6)]
    public Dictionary<string, int> Confirmations { get; set; } = new(StringComparer.Ordinal);

    [Id(7)]
    public List<ApiKeySummary> Keys { get; set; } = [];

    [Id(8)]
    public DateTimeOffset CreatedAt { get; set; }

    [Id(9)]
    public DateTimeOffset UpdatedAt { get; set; }

    [JsonIgnore]
    public bool Exists => Id != Guid.Empty;
}

/// <summary>What <see cref="MerchantGrain"/> stores: the merchant and the ids of the key effects it applied.</summary>
[GenerateSerializer]
[Alias("cryptopay.merchant-grain-state")]
public sealed class MerchantGrainState
{
    [Id(0)]
    public MerchantState Merchant { get; set; } = new();

    /// <summary>Ids of the <see cref="MerchantKeyEffect"/>s applied: two per key, kept for the merchant's life.</summary>
    [Id(1)]
    public AppliedEffects AppliedKeyEffects { get; set; } = new();

    /// <summary>The names of the merchant's keys (<see cref="MerchantGrain.KeyNameOf"/>) → the key holding each: a name is reserved before its key is issued.</summary>
    [Id(2)]
    public Dictionary<string, Guid> KeyNames { get; set; } = new(StringComparer.Ordinal);
}

public enum MerchantKeyChange
{
    Issued,
    Revoked,
}

/// <summary>
/// An API key's change as its merchant lists it, sent by the key's grain through its outbox (docs/ORLEANS.md,
/// "Effects exactly once"); the merchant applies each id once.
/// </summary>
[GenerateSerializer]
[Alias("cryptopay.merchant-key-effect")]
public sealed record MerchantKeyEffect(
    [property: Id(0)] string Id,
    [property: Id(1)] Guid MerchantId,
    [property: Id(2)] MerchantKeyChange Change,
    [property: Id(3)] ApiKeySummary Key) : IGrainEffect
{
    public static MerchantKeyEffect Issued(Guid merchantId, ApiKeySummary key) =>
        new($"key-issued:{key.Id:N}", merchantId, MerchantKeyChange.Issued, key);

    public static MerchantKeyEffect Revoked(Guid merchantId, ApiKeySummary key) =>
        new($"key-revoked:{key.Id:N}", merchantId, MerchantKeyChange.Revoked, key);
}
