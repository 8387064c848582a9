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

public sealed record MerchantSettings(string Name, string ReportingCurrency, int? RateLimitPerMinute, IReadOnlyList<string> EnabledPaymentMethods);

public sealed record MerchantState
{
    public Guid Id { get; set; }

    public string Name { get; set; } = "";

    public MerchantStatus Status { get; set; }

    public string ReportingCurrency { get; set; } = "USD";

    public int? RateLimitPerMinute { get; set; }

    public List<string> EnabledPaymentMethods { get; set; } = [];

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
                CreatedAt = Now,
                UpdatedAt = Now,
            };
        }

        return Task.FromResult(State);
    }

    public Task<MerchantState?> Get() => Task.FromResult(State.Exists ? State : null);

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
