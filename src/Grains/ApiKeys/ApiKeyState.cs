using System.Net;
using System.Text.Json.Serialization;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Merchants;
using Orleans;

namespace CryptoPay.Grains.ApiKeys;

public static class ApiKeyScopes
{
    public const string InvoicesRead = "invoices:read";
    public const string InvoicesWrite = "invoices:write";
    public const string BalancesRead = "balances:read";
    public const string WithdrawalsWrite = "withdrawals:write";
    public const string WebhooksWrite = "webhooks:write";

    public static IReadOnlyList<string> All { get; } = [InvoicesRead, InvoicesWrite, BalancesRead, WithdrawalsWrite, WebhooksWrite];

    /// <summary>
    /// What a key gets when none are asked for. Not withdrawals:write: until settlement batches pay withdrawals out (issue 14,
    /// phase 2) a merchant is granted it explicitly, by the operator issuing a key with that scope.
    /// </summary>
    public static IReadOnlyList<string> Default { get; } = [InvoicesRead, InvoicesWrite, BalancesRead, WebhooksWrite];
}

/// <summary>An API key as callers see it (<see cref="IApiKeyGrain.Get"/>); the secret itself is never stored, only its hash.</summary>
[GenerateSerializer]
[Alias("cryptopay.api-key-state")]
public sealed record ApiKeyState
{
    [Id(0)]
    public Guid Id { get; set; }

    [Id(1)]
    public Guid MerchantId { get; set; }

    [Id(2)]
    public Mode Mode { get; set; }

    [Id(3)]
    public string Hash { get; set; } = "";

    [Id(4)]
    public string Prefix { get; set; } = "";

    [Id(5)]
    public List<string> Scopes { get; set; } = [];

    /// <summary>IP addresses or CIDR ranges the key may be used from; empty allows any.</summary>
    [Id(6)]
    public List<string> AllowedIps { get; set; } = [];

    [Id(7)]
    public DateTimeOffset CreatedAt { get; set; }

    [Id(8)]
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>The shape the key was issued in (<see cref="KeyFormats"/>); keys from before formats existed are ours.</summary>
    [Id(9)]
    public string Format { get; set; } = KeyFormats.CryptoPay;

    /// <summary>A label the merchant gave the key (the Invoice API's project name), unique among its merchant's keys.</summary>
    [Id(10)]
    public string? Name { get; set; }

    [Id(11)]
    public string? Description { get; set; }

    [JsonIgnore]
    public bool Exists => Id != Guid.Empty;

    [JsonIgnore]
    public ApiKeySummary Summary => new(Id, Mode, Prefix, Scopes, AllowedIps, CreatedAt, RevokedAt) { Format = Format, Name = Name };

    public bool AllowsAddress(IPAddress? remote)
    {
        if (AllowedIps.Count == 0)
        {
            return true;
        }

        if (remote is null)
        {
            return false;
        }

        var address = remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote;
        return AllowedIps.Exists(entry => IPNetwork.TryParse(entry.Contains('/', StringComparison.Ordinal) ? entry : entry + (entry.Contains(':', StringComparison.Ordinal) ? "/128" : "/32"), out var network) && network.Contains(address));
    }
}

[GenerateSerializer]
[Alias("cryptopay.api-key-issue")]
public sealed record ApiKeyIssue(
    [property: Id(0)] Guid MerchantId,
    [property: Id(1)] Mode Mode,
    [property: Id(2)] string Hash,
    [property: Id(3)] string Prefix,
    [property: Id(4)] IReadOnlyList<string> Scopes,
    [property: Id(5)] IReadOnlyList<string> AllowedIps)
{
    [Id(6)]
    public string Format { get; init; } = KeyFormats.CryptoPay;

    [Id(7)]
    public string? Name { get; init; }

    [Id(8)]
    public string? Description { get; init; }
}

/// <summary>What <see cref="ApiKeyGrain"/> stores: the key and its changes its merchant has not acknowledged yet.</summary>
[GenerateSerializer]
[Alias("cryptopay.api-key-grain-state")]
public sealed class ApiKeyGrainState
{
    [Id(0)]
    public ApiKeyState Key { get; set; } = new();

    [Id(1)]
    public EffectOutbox<MerchantKeyEffect> Outbox { get; set; } = new();
}
