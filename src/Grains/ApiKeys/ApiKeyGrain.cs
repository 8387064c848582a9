using System.Net;
using CryptoPay.Grains.Merchants;
using CryptoPay.Runtime.Grains;

namespace CryptoPay.Grains.ApiKeys;

public static class ApiKeyScopes
{
    public const string InvoicesRead = "invoices:read";
    public const string InvoicesWrite = "invoices:write";
    public const string BalancesRead = "balances:read";
    public const string WithdrawalsWrite = "withdrawals:write";
    public const string WebhooksWrite = "webhooks:write";

    public static IReadOnlyList<string> All { get; } = [InvoicesRead, InvoicesWrite, BalancesRead, WithdrawalsWrite, WebhooksWrite];
}

public sealed record ApiKeyState
{
    public Guid Id { get; set; }

    public Guid MerchantId { get; set; }

    public Mode Mode { get; set; }

    public string Hash { get; set; } = "";

    public string Prefix { get; set; } = "";

    public List<string> Scopes { get; set; } = [];

    /// <summary>IP addresses or CIDR ranges the key may be used from; empty allows any.</summary>
    public List<string> AllowedIps { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    public bool Exists => Id != Guid.Empty;

    public ApiKeySummary Summary => new(Id, Mode, Prefix, Scopes, AllowedIps, CreatedAt, RevokedAt);

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

public sealed record ApiKeyIssue(Guid MerchantId, Mode Mode, string Hash, string Prefix, IReadOnlyList<string> Scopes, IReadOnlyList<string> AllowedIps);

/// <summary>One API key, keyed by the id derived from its secret's hash; the secret itself is never stored.</summary>
[GrainType("api-key")]
public interface IApiKeyGrain : IGrainWithGuidKey
{
    Task<ApiKeyState> Issue(ApiKeyIssue issue);

    Task<ApiKeyState?> Get();

    /// <summary>Revokes the key; returns false when there is no such key.</summary>
    Task<bool> Revoke();
}

public sealed class ApiKeyGrain : Grain<ApiKeyState>, IApiKeyGrain
{
    public async Task<ApiKeyState> Issue(ApiKeyIssue issue)
    {
        if (!State.Exists)
        {
            State = new ApiKeyState
            {
                Id = GetPrimaryKey(),
                MerchantId = issue.MerchantId,
                Mode = issue.Mode,
                Hash = issue.Hash,
                Prefix = issue.Prefix,
                Scopes = [.. issue.Scopes],
                AllowedIps = [.. issue.AllowedIps],
                CreatedAt = Now,
            };
            await Send<IMerchantGrain>(issue.MerchantId).KeyIssued(State.Summary);
        }

        return State;
    }

    public Task<ApiKeyState?> Get() => Task.FromResult(State.Exists ? State : null);

    public async Task<bool> Revoke()
    {
        if (!State.Exists)
        {
            return false;
        }

        if (State.RevokedAt is null)
        {
            State.RevokedAt = Now;
            await Send<IMerchantGrain>(State.MerchantId).KeyRevoked(State.Id, Now);
        }

        return true;
    }
}
