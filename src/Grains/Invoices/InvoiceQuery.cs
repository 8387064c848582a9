using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Hosting;
using System.Globalization;
using System.Text;
using System.Text.Json;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Storage;
using Npgsql;
using NpgsqlTypes;

namespace CryptoPay.Grains.Invoices;

public enum InvoiceSort
{
    CreatedAt,
    UpdatedAt,
    Amount,
}

public sealed record InvoiceFilter
{
    public Guid MerchantId { get; init; }

    public Mode Mode { get; init; }

    public InvoiceStatus? Status { get; init; }

    /// <summary>Only invoices in one of these statuses (a profile's status can stand for several of ours); null: any.</summary>
    public IReadOnlyList<InvoiceStatus>? Statuses { get; init; }

    public string? Currency { get; init; }

    public string? Network { get; init; }

    public string? OrderId { get; init; }

    public string? CustomerId { get; init; }

    public DateTimeOffset? CreatedAfter { get; init; }

    public DateTimeOffset? CreatedBefore { get; init; }

    public InvoiceSort SortBy { get; init; }

    public bool Descending { get; init; } = true;

    public int Page { get; init; } = 1;

    public int PageSize { get; init; } = 20;
}

public sealed record InvoicePage(IReadOnlyList<InvoiceState> Items, long Total);

/// <summary>The invoices of one status: how many, what they asked for and what was paid to them.</summary>
public sealed record StatusTotal(InvoiceStatus Status, long Count, decimal Amount, decimal PaidAmount);

/// <summary>
/// Counts and sums per status, in the merchant's reporting currency at each invoice's creation rate: the amount invoiced
/// and the amount paid (each invoice's payments at its locked rates, rounded to the reporting currency like its amount).
/// </summary>
public sealed record InvoiceTotals(string ReportingCurrency, IReadOnlyList<StatusTotal> ByStatus);

/// <summary>An invoice with time-driven work: its id and the earlier of its wake time and its pending effects' retry time.</summary>
public readonly record struct DueInvoice(Guid Id, DateTimeOffset DueAt);

/// <summary>Lists and totals of invoices, served from the invoices projection, never by loading grains.</summary>
public interface IInvoiceQuery
{
    Task<InvoicePage> ListAsync(InvoiceFilter filter, CancellationToken ct);

    Task<InvoiceTotals> TotalsAsync(Guid merchantId, Mode mode, string reportingCurrency, CancellationToken ct);

    /// <summary>
    /// Invoices whose stored wake time (<c>wake_at</c>) or retry time of pending effects (<c>invoice_pending_effects</c>)
    /// is at or before <paramref name="dueBy"/> (null: any such time), earliest first, at most <paramref name="limit"/>.
    /// </summary>
    Task<IReadOnlyList<DueInvoice>> DueAsync(DateTimeOffset? dueBy, int limit, CancellationToken ct);
}

public static class InvoiceQueries
{
    /// <summary>The query matching the projected storage the silo runs on.</summary>
    public static IInvoiceQuery For(ProjectedGrainStorage storage) =>
        StoreQueries.For<IInvoiceQuery>(storage, source => new PostgresInvoiceQuery(source), memory => new MemoryInvoiceQuery(memory));
}

/// <summary>The in-memory projection rows, filtered and sorted like the SQL.</summary>
public sealed class MemoryInvoiceQuery(MemoryProjectedGrainStorage storage) : IInvoiceQuery
{
    private static readonly int MerchantColumn = Column("merchant_id");
    private static readonly int ModeColumn = Column("mode");

    public Task<InvoicePage> ListAsync(InvoiceFilter filter, CancellationToken ct)
    {
        IEnumerable<InvoiceState> rows = Rows(filter.MerchantId, filter.Mode)
            .Where(i => filter.Status is null || i.Status == filter.Status)
            .Where(i => filter.Statuses is null || filter.Statuses.Contains(i.Status))
            .Where(i => filter.Currency is null || i.Spec.Currency == filter.Currency)
            .Where(i => filter.Network is null || i.PaymentMethods.Exists(m => m.Network == filter.Network))
            .Where(i => filter.OrderId is null || i.Spec.OrderId == filter.OrderId)
            .Where(i => filter.CustomerId is null || i.Spec.CustomerId == filter.CustomerId)
            .Where(i => filter.CreatedAfter is null || i.Spec.CreatedAt >= filter.CreatedAfter)
            .Where(i => filter.CreatedBefore is null || i.Spec.CreatedAt < filter.CreatedBefore);
        var matching = rows.ToList();
        Func<InvoiceState, IComparable> key = filter.SortBy switch
        {
            InvoiceSort.UpdatedAt => i => i.UpdatedAt,
            InvoiceSort.Amount => i => i.Spec.AmountReporting,
            _ => i => i.Spec.CreatedAt,
        };
        var ordered = filter.Descending
            ? matching.OrderByDescending(key).ThenByDescending(i => i.Id)
            : matching.OrderBy(key).ThenBy(i => i.Id);
        var page = ordered.Skip((filter.Page - 1) * filter.PageSize).Take(filter.PageSize).ToList();
        return Task.FromResult(new InvoicePage(page, matching.Count));
    }

    public Task<InvoiceTotals> TotalsAsync(Guid merchantId, Mode mode, string reportingCurrency, CancellationToken ct)
    {
        var totals = Rows(merchantId, mode)
            .Where(i => i.Spec.ReportingCurrency == reportingCurrency)
            .GroupBy(i => i.Status)
            .Select(g => new StatusTotal(g.Key, g.Count(), g.Sum(i => i.Spec.AmountReporting), g.Sum(i => i.PaidAmountReporting)))
            .OrderBy(t => t.Status)
            .ToList();
        return Task.FromResult(new InvoiceTotals(reportingCurrency, totals));
    }

    public Task<IReadOnlyList<DueInvoice>> DueAsync(DateTimeOffset? dueBy, int limit, CancellationToken ct)
    {
        var due = storage.Rows(InvoiceProjection.Table)
            .Select(row => (row.Key, At: row.Columns[WakeColumn] as DateTimeOffset?))
            .Concat(storage.PendingEffects(InvoiceProjection.PendingEffectsTable).Select(p => (p.Key, At: (DateTimeOffset?)p.RetryAt)))
            .Where(row => row.At is { } at && (dueBy is null || at <= dueBy))
            .GroupBy(row => row.Key, (key, times) => new DueInvoice(Guid.Parse(key), times.Min(t => t.At)!.Value))
            .OrderBy(row => row.DueAt)
            .Take(limit)
            .ToList();
        return Task.FromResult<IReadOnlyList<DueInvoice>>(due);
    }

    private static readonly int WakeColumn = Column("wake_at");

    /// <summary>The merchant's invoices in this mode.</summary>
    private IEnumerable<InvoiceState> Rows(Guid merchantId, Mode mode)
    {
        var modeName = InvoiceProjection.Name(mode);
        return storage.Rows(InvoiceProjection.Table)
            .Where(row => (Guid)row.Columns[MerchantColumn]! == merchantId && (string)row.Columns[ModeColumn]! == modeName)
            .Select(row => row.Read<GrainRecord<InvoiceState>>().State)
            .ToList();
    }

    private static int Column(string name) => InvoiceProjection.Projection.Columns.ToList().FindIndex(c => c.Name == name);
}

/// <summary>Plain SQL over the indexed invoices table: named filters, ORDER BY, LIMIT/OFFSET and a count.</summary>
public sealed class PostgresInvoiceQuery(NpgsqlDataSource dataSource) : IInvoiceQuery
{
    public async Task<InvoicePage> ListAsync(InvoiceFilter filter, CancellationToken ct)
    {
        var query = new StatePageQuery("invoices", "i").Where(
            "i.merchant_id = @merchant_id AND i.mode = @mode",
            ("merchant_id", filter.MerchantId, NpgsqlDbType.Uuid), ("mode", InvoiceProjection.Name(filter.Mode), NpgsqlDbType.Text));
        if (filter.Status is { } status)
        {
            query.Where("i.status = @status", ("status", InvoiceProjection.Name(status), NpgsqlDbType.Text));
        }

        if (filter.Statuses is { } statuses)
        {
            query.Where("i.status = ANY(@statuses)", ("statuses", statuses.Select(InvoiceProjection.Name).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text));
        }

        if (filter.Currency is { } currency)
        {
            query.Where("i.currency = @currency", ("currency", currency, NpgsqlDbType.Text));
        }

        if (filter.Network is { } network)
        {
            query.Where("i.networks @> @networks", ("networks", JsonSerializer.Serialize(new[] { network }), NpgsqlDbType.Jsonb));
        }

        if (filter.OrderId is { } orderId)
        {
            query.Where("i.order_id = @order_id", ("order_id", orderId, NpgsqlDbType.Text));
        }

        if (filter.CustomerId is { } customerId)
        {
            query.Where("i.customer_id = @customer_id", ("customer_id", customerId, NpgsqlDbType.Text));
        }

        if (filter.CreatedAfter is { } after)
        {
            query.Where("i.created_at >= @created_after", ("created_after", after.ToUniversalTime(), NpgsqlDbType.TimestampTz));
        }

        if (filter.CreatedBefore is { } before)
        {
            query.Where("i.created_at < @created_before", ("created_before", before.ToUniversalTime(), NpgsqlDbType.TimestampTz));
        }

        var column = filter.SortBy switch
        {
            InvoiceSort.UpdatedAt => "updated_at",
            InvoiceSort.Amount => "amount_reporting",
            _ => "created_at",
        };
        var direction = filter.Descending ? "DESC" : "ASC";
        var (items, total) = await query.ReadAsync<InvoiceState>(dataSource, $"i.{column} {direction}, i.grain_key {direction}", filter.Page, filter.PageSize, ct).ConfigureAwait(false);
        return new InvoicePage(items, total);
    }

    public async Task<InvoiceTotals> TotalsAsync(Guid merchantId, Mode mode, string reportingCurrency, CancellationToken ct)
    {
        // The paid amount is read from the stored state (payments' units at each method's locked rate), rounded per invoice
        // to the reporting currency's decimals as InvoiceState.PaidAmountReporting does.
        await using var command = dataSource.CreateCommand("""
            SELECT i.status, count(*), coalesce(sum(i.amount_reporting), 0),
                   coalesce(sum(round(coalesce(p.paid, 0) * i.amount_reporting / nullif(i.amount, 0), @decimals)), 0)
            FROM invoices i
            LEFT JOIN LATERAL (
                SELECT sum((payment->>'amount_units')::numeric / 10::numeric ^ (method->>'decimals')::int * (method->>'rate')::numeric) AS paid
                FROM json_array_elements(i.state->'state'->'payment_methods') method
                CROSS JOIN json_array_elements(method->'payments') payment) p ON true
            WHERE i.merchant_id = @merchant_id AND i.mode = @mode AND i.reporting_currency = @reporting_currency
            GROUP BY i.status
            """);
        command.Parameters.Add(new NpgsqlParameter("decimals", NpgsqlDbType.Integer) { Value = Assets.ReportingDecimals(reportingCurrency) });
        command.Parameters.Add(new NpgsqlParameter("merchant_id", NpgsqlDbType.Uuid) { Value = merchantId });
        command.Parameters.Add(new NpgsqlParameter("mode", NpgsqlDbType.Text) { Value = InvoiceProjection.Name(mode) });
        command.Parameters.Add(new NpgsqlParameter("reporting_currency", NpgsqlDbType.Text) { Value = reportingCurrency });
        var totals = new List<StatusTotal>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var status = Enum.GetValues<InvoiceStatus>().First(s => InvoiceProjection.Name(s) == reader.GetString(0));
            totals.Add(new StatusTotal(status, reader.GetInt64(1), reader.GetDecimal(2), reader.GetDecimal(3)));
        }

        return new InvoiceTotals(reportingCurrency, [.. totals.OrderBy(t => t.Status)]);
    }

    public async Task<IReadOnlyList<DueInvoice>> DueAsync(DateTimeOffset? dueBy, int limit, CancellationToken ct)
    {
        // Due times are served by the partial index invoices_by_wake (final invoices have none), retries of pending
        // effects by invoice_pending_effects_by_retry; an invoice due for both is woken once.
        var (wakes, retries) = dueBy is null ? ("wake_at IS NOT NULL", "true") : ("wake_at <= $2", "retry_at <= $2");
        await using var command = dataSource.CreateCommand($"""
            SELECT grain_key, min(at) FROM (
                (SELECT grain_key, wake_at AS at FROM invoices WHERE {wakes} ORDER BY wake_at LIMIT $1)
                UNION ALL
                (SELECT grain_key, retry_at FROM {InvoiceProjection.PendingEffectsTable} WHERE {retries} ORDER BY retry_at LIMIT $1)
            ) due
            GROUP BY grain_key ORDER BY min(at) LIMIT $1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = limit, NpgsqlDbType = NpgsqlDbType.Integer });
        if (dueBy is { } by)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = by.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        }

        var due = new List<DueInvoice>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            due.Add(new DueInvoice(Guid.Parse(reader.GetString(0)), reader.GetFieldValue<DateTimeOffset>(1)));
        }

        return due;
    }
}
