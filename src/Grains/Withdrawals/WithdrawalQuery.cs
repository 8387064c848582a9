using System.Text;
using System.Text.Json;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Storage;
using Npgsql;
using NpgsqlTypes;

namespace CryptoPay.Grains.Withdrawals;

/// <summary>Which withdrawals to list: one merchant's in one mode, or (operator) every merchant's; newest first.</summary>
public sealed record WithdrawalFilter
{
    /// <summary>Null: every merchant (the operator's review queue).</summary>
    public Guid? MerchantId { get; init; }

    public Mode Mode { get; init; }

    public WithdrawalStatus? Status { get; init; }

    /// <summary>The asset as balances name it (<c>USDT-TRON</c>).</summary>
    public string? Asset { get; init; }

    public string? Network { get; init; }

    /// <summary>Oldest first (a settlement batch takes the longest-waiting withdrawals); newest first otherwise.</summary>
    public bool OldestFirst { get; init; }

    public int Page { get; init; } = 1;

    public int PageSize { get; init; } = 20;
}

public sealed record WithdrawalPage(IReadOnlyList<WithdrawalState> Items, long Total);

/// <summary>Lists of withdrawals, served from the withdrawals projection, never by loading grains.</summary>
public interface IWithdrawalQuery
{
    Task<WithdrawalPage> ListAsync(WithdrawalFilter filter, CancellationToken ct);

    /// <summary>Every withdrawal with a journal (for the ledger invariants).</summary>
    Task<IReadOnlyList<WithdrawalState>> AllAsync(CancellationToken ct);
}

public static class WithdrawalQueries
{
    public static IWithdrawalQuery For(ProjectedGrainStorage storage) =>
        StoreQueries.For<IWithdrawalQuery>(storage, source => new PostgresWithdrawalQuery(source), memory => new MemoryWithdrawalQuery(memory));
}

public sealed class MemoryWithdrawalQuery(MemoryProjectedGrainStorage storage) : IWithdrawalQuery
{
    public Task<WithdrawalPage> ListAsync(WithdrawalFilter filter, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var matching = Rows()
            .Where(w => w.Exists)
            .Where(w => filter.MerchantId is null || (w.Spec!.MerchantId == filter.MerchantId && w.Spec.Mode == filter.Mode))
            .Where(w => filter.Status is null || w.Status == filter.Status)
            .Where(w => filter.Asset is null || w.Spec!.Asset == filter.Asset)
            .Where(w => filter.Network is null || w.Spec!.Network == filter.Network)
            .OrderBy(w => w.Spec!.CreatedAt).ThenBy(w => WithdrawalIds.Key(w.Spec!.Id), StringComparer.Ordinal)
            .ToList();
        if (!filter.OldestFirst)
        {
            matching.Reverse();
        }

        return Task.FromResult(new WithdrawalPage([.. matching.Skip((filter.Page - 1) * filter.PageSize).Take(filter.PageSize)], matching.Count));
    }

    public Task<IReadOnlyList<WithdrawalState>> AllAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<WithdrawalState>>(Rows());

    private List<WithdrawalState> Rows() =>
        [.. storage.Rows(WithdrawalProjection.Table).Select(r => r.Read<GrainRecord<WithdrawalState>>().State)];
}

/// <summary>Plain SQL over the indexed withdrawals table.</summary>
public sealed class PostgresWithdrawalQuery(NpgsqlDataSource dataSource) : IWithdrawalQuery
{
    private static readonly string[] Hidden = [WithdrawalProjection.Name(WithdrawalStatus.Reserving), WithdrawalProjection.Name(WithdrawalStatus.Refused)];

    public async Task<WithdrawalPage> ListAsync(WithdrawalFilter filter, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var query = new StatePageQuery("withdrawals", "w").Where("w.status <> ALL(@hidden)", ("hidden", Hidden, NpgsqlDbType.Array | NpgsqlDbType.Text));
        if (filter.MerchantId is { } merchantId)
        {
            query.Where("w.merchant_id = @merchant_id AND w.mode = @mode",
                ("merchant_id", merchantId, NpgsqlDbType.Uuid), ("mode", LedgerKeys.ModeName(filter.Mode), NpgsqlDbType.Text));
        }

        if (filter.Status is { } status)
        {
            query.Where("w.status = @status", ("status", WithdrawalProjection.Name(status), NpgsqlDbType.Text));
        }

        if (filter.Asset is { } asset)
        {
            query.Where("w.asset = @asset", ("asset", asset, NpgsqlDbType.Text));
        }

        if (filter.Network is { } network)
        {
            query.Where("w.network = @network", ("network", network, NpgsqlDbType.Text));
        }

        var order = filter.OldestFirst ? "w.created_at, w.grain_key" : "w.created_at DESC, w.grain_key DESC";
        var (items, total) = await query.ReadAsync<WithdrawalState>(dataSource, order, filter.Page, filter.PageSize, ct).ConfigureAwait(false);
        return new WithdrawalPage(items, total);
    }

    public async Task<IReadOnlyList<WithdrawalState>> AllAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT state->'state' FROM withdrawals");
        return await ReadAsync(command, ct).ConfigureAwait(false);
    }

    internal static async Task<List<WithdrawalState>> ReadAsync(NpgsqlCommand command, CancellationToken ct)
    {
        var rows = new List<WithdrawalState>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            rows.Add(JsonSerializer.Deserialize<WithdrawalState>(reader.GetString(0), StateJson.Options)!);
        }

        return rows;
    }
}
