using CryptoPay.Runtime.Grains;

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

public sealed record ApiKeySummary(Guid Id, Mode Mode, string Prefix, IReadOnlyList<string> Scopes, IReadOnlyList<string> AllowedIps, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

public sealed record MerchantSettings(string Name, string ReportingCurrency, int? RateLimitPerMinute, IReadOnlyList<string> EnabledPaymentMethods)
{
    /// <summary>Per-network confirmation overrides (<c>btc</c> → 3); validated by the caller (live network, 1..1000).</summary>
    public IReadOnlyDictionary<string, int>? Confirmations { get; init; }
}

/// <summary>An operator's change to a merchant; null fields stay as they are.</summary>
public sealed record MerchantChanges
{
    /// <summary>Replaces the overrides named here; a network mapped to null drops its override (back to the operator's setting).</summary>
    public IReadOnlyDictionary<string, int?>? Confirmations { get; init; }
}

public sealed record MerchantState
{
    public Guid Id { get; set; }

    public string Name { get; set; } = "";

    public MerchantStatus Status { get; set; }

    public string ReportingCurrency { get; set; } = "USD";

    public int? RateLimitPerMinute { get; set; }

    public List<string> EnabledPaymentMethods { get; set; } = [];

    /// <summary>Confirmations this merchant requires per network, overriding the operator's setting (new invoices only).</summary>
    public Dictionary<string, int> Confirmations { get; set; } = new(StringComparer.Ordinal);

    public List<ApiKeySummary> Keys { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public bool Exists => Id != Guid.Empty;
}

[GrainType("merchant")]
public interface IMerchantGrain : IGrainWithGuidKey
{
    /// <summary>Creates the merchant; a repeated call returns the merchant as it is.</summary>
    Task<MerchantState> Create(MerchantSettings settings);

    Task<MerchantState?> Get();

    /// <summary>Applies an operator's change; null when the merchant does not exist.</summary>
    Task<MerchantState?> Update(MerchantChanges changes);

    Task KeyIssued(ApiKeySummary key);

    Task KeyRevoked(Guid keyId, DateTimeOffset revokedAt);
}

public sealed class MerchantGrain : Grain<MerchantState>, IMerchantGrain
{
    public Task<MerchantState> Create(MerchantSettings settings)
    {
        if (!State.Exists)
        {
            State = new MerchantState
            {
                Id = GetPrimaryKey(),
                Name = settings.Name,
                Status = MerchantStatus.Active,
                ReportingCurrency = settings.ReportingCurrency,
                RateLimitPerMinute = settings.RateLimitPerMinute,
                EnabledPaymentMethods = [.. settings.EnabledPaymentMethods],
                Confirmations = new Dictionary<string, int>(settings.Confirmations ?? new Dictionary<string, int>(), StringComparer.Ordinal),
                CreatedAt = Now,
                UpdatedAt = Now,
            };
        }

        return Task.FromResult(State);
    }

    public Task<MerchantState?> Get() => Task.FromResult(State.Exists ? State : null);

    public Task<MerchantState?> Update(MerchantChanges changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (!State.Exists)
        {
            return Task.FromResult<MerchantState?>(null);
        }

        foreach (var (network, confirmations) in changes.Confirmations ?? new Dictionary<string, int?>())
        {
            if (confirmations is { } value)
            {
                State.Confirmations[network] = value;
            }
            else
            {
                State.Confirmations.Remove(network);
            }
        }

        State.UpdatedAt = Now;
        return Task.FromResult<MerchantState?>(State);
    }

    public Task KeyIssued(ApiKeySummary key)
    {
        if (State.Exists && !State.Keys.Exists(k => k.Id == key.Id))
        {
            State.Keys.Add(key);
            State.UpdatedAt = Now;
        }

        return Task.CompletedTask;
    }

    public Task KeyRevoked(Guid keyId, DateTimeOffset revokedAt)
    {
        var index = State.Keys.FindIndex(k => k.Id == keyId);
        if (index >= 0 && State.Keys[index].RevokedAt is null)
        {
            State.Keys[index] = State.Keys[index] with { RevokedAt = revokedAt };
            State.UpdatedAt = Now;
        }

        return Task.CompletedTask;
    }
}
