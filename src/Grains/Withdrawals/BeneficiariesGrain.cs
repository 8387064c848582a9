using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Withdrawals;

/// <summary>A saved withdrawal destination: an address validated for its network when it was saved.</summary>
[GenerateSerializer]
[Alias("cryptopay.beneficiary")]
public sealed record Beneficiary
{
    [Id(0)]
    public Guid Id { get; init; }

    [Id(1)]
    public string Network { get; init; } = "";

    /// <summary>Normalised by the network's address validator.</summary>
    [Id(2)]
    public string Address { get; init; } = "";

    [Id(3)]
    public string? Label { get; init; }

    [Id(4)]
    public DateTimeOffset CreatedAt { get; init; }
}

[GenerateSerializer]
[Alias("cryptopay.beneficiaries-state")]
public sealed record BeneficiariesState
{
    [Id(0)]
    public List<Beneficiary> Beneficiaries { get; set; } = [];
}

/// <summary>
/// The saved destinations of one merchant in one mode, in one grain (like its webhook endpoints): a handful per merchant,
/// listed with one call, so no projection table.
/// </summary>
[Alias("cryptopay.beneficiaries")]
public interface IBeneficiariesGrain : IGrainWithStringKey
{
    /// <summary>Saves a beneficiary; the same id again answers the one saved; null when the list is full.</summary>
    Task<Beneficiary?> Create(Beneficiary beneficiary);

    Task<IReadOnlyList<Beneficiary>> List();

    Task<Beneficiary?> Get(Guid id);

    Task<bool> Delete(Guid id);
}

[GrainType("beneficiaries")]
public sealed class BeneficiariesGrain(
    [PersistentState("beneficiaries")] IPersistentState<GrainRecord<BeneficiariesState>> record,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    ILogger<BeneficiariesGrain> logger)
    : EffectGrain<BeneficiariesState>(record, clock, logger), IBeneficiariesGrain
{
    public const int MaxBeneficiaries = 200;

    public static string KeyFor(Guid merchantId, Mode mode) => $"ben:{merchantId:N}.{InvoiceProjection.Name(mode)}";

    public async Task<Beneficiary?> Create(Beneficiary beneficiary)
    {
        ArgumentNullException.ThrowIfNull(beneficiary);
        if (State.Beneficiaries.Find(b => b.Id == beneficiary.Id) is { } existing)
        {
            return existing;
        }

        if (State.Beneficiaries.Count >= MaxBeneficiaries)
        {
            return null;
        }

        State.Beneficiaries.Add(beneficiary);
        await SaveAsync();
        return beneficiary;
    }

    public Task<IReadOnlyList<Beneficiary>> List() => Task.FromResult<IReadOnlyList<Beneficiary>>(State.Beneficiaries);

    public Task<Beneficiary?> Get(Guid id) => Task.FromResult(State.Beneficiaries.Find(b => b.Id == id));

    public async Task<bool> Delete(Guid id)
    {
        if (State.Beneficiaries.RemoveAll(b => b.Id == id) == 0)
        {
            return false;
        }

        await SaveAsync();
        return true;
    }
}
