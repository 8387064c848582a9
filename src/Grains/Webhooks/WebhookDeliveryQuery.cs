using CryptoPay.Grains.Hosting;
using System.Text.Json;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Storage;
using Npgsql;
using NpgsqlTypes;

namespace CryptoPay.Grains.Webhooks;

/// <summary>
/// The <c>webhook_deliveries</c> table: each delivery grain's stored state with typed columns, one write, so the
/// delivery log is indexed SQL. Lists leave out the event body (the log shows attempts, not payloads).
/// </summary>
public static class WebhookDeliveryProjection
{
    public const string Table = "webhook_deliveries";
    public const string StateName = "webhook-delivery";

    public static TableProjection<GrainRecord<WebhookDeliveryState>> Projection { get; } = new TableProjection<GrainRecord<WebhookDeliveryState>>(StateName, Table)
        .Column("merchant_id", ColumnType.Uuid, r => r.State.Spec!.MerchantId)
        .Column("mode", ColumnType.Text, r => InvoiceProjection.Name(r.State.Spec!.Mode))
        .Column("endpoint_id", ColumnType.Text, r => r.State.Spec!.EndpointId)
        .Column("event_id", ColumnType.Text, r => r.State.Spec!.EventId)
        .Column("status", ColumnType.Text, r => InvoiceProjection.Name(r.State.Status))
        .Column("created_at", ColumnType.TimestampTz, r => r.State.Spec!.CreatedAt)
        .Column("attempt_at", ColumnType.TimestampTz, r => r.State.AttemptAt);
}

public sealed record WebhookDeliveryFilter(Guid MerchantId, Mode Mode, string? EndpointId, string? EventId, WebhookDeliveryStatus? Status, int Limit);

/// <summary>Lists of deliveries, newest first, from the projection, never by loading grains.</summary>
public interface IWebhookDeliveryQuery
{
    Task<IReadOnlyList<WebhookDeliveryState>> ListAsync(WebhookDeliveryFilter filter, CancellationToken ct);

    /// <summary>
    /// The keys of at most <paramref name="limit"/> deliveries whose attempt time (<see cref="WebhookDeliveryState.AttemptAt"/>)
    /// is at or before <paramref name="now"/>, earliest first: retries due and attempts whose lease ran out.
    /// </summary>
    Task<IReadOnlyList<string>> DueAsync(DateTimeOffset now, int limit, CancellationToken ct);

    /// <summary>The deliveries still under way (an attempt time set: pending or being sent), cluster-wide.</summary>
    Task<WebhookBacklog> BacklogAsync(CancellationToken ct);
}

/// <summary>How many deliveries are under way and when the oldest of them was created (null: none).</summary>
public sealed record WebhookBacklog(long Count, DateTimeOffset? OldestCreatedAt);

public static class WebhookDeliveryQueries
{
    public static IWebhookDeliveryQuery For(ProjectedGrainStorage storage) =>
        StoreQueries.For<IWebhookDeliveryQuery>(storage, source => new PostgresWebhookDeliveryQuery(source), memory => new MemoryWebhookDeliveryQuery(memory));
}

public sealed class MemoryWebhookDeliveryQuery(MemoryProjectedGrainStorage storage) : IWebhookDeliveryQuery
{
    public Task<IReadOnlyList<WebhookDeliveryState>> ListAsync(WebhookDeliveryFilter filter, CancellationToken ct)
    {
        var rows = storage.Rows(WebhookDeliveryProjection.Table)
            .Select(r => WithoutBody(r.Read<GrainRecord<WebhookDeliveryState>>().State))
            .Where(d => d.Spec!.MerchantId == filter.MerchantId && d.Spec.Mode == filter.Mode)
            .Where(d => filter.EndpointId is null || d.Spec!.EndpointId == filter.EndpointId)
            .Where(d => filter.EventId is null || d.Spec!.EventId == filter.EventId)
            .Where(d => filter.Status is null || d.Status == filter.Status)
            .OrderByDescending(d => d.Spec!.CreatedAt).ThenByDescending(d => d.Spec!.Id, StringComparer.Ordinal)
            .Take(filter.Limit)
            .ToList();
        return Task.FromResult<IReadOnlyList<WebhookDeliveryState>>(rows);
    }

    public Task<IReadOnlyList<string>> DueAsync(DateTimeOffset now, int limit, CancellationToken ct)
    {
        var column = AttemptAtColumn;
        var keys = storage.Rows(WebhookDeliveryProjection.Table)
            .Select(r => (r.Key, At: r.Columns[column] as DateTimeOffset?))
            .Where(r => r.At is { } at && at <= now)
            .OrderBy(r => r.At)
            .Take(limit)
            .Select(r => r.Key)
            .ToList();
        return Task.FromResult<IReadOnlyList<string>>(keys);
    }

    public Task<WebhookBacklog> BacklogAsync(CancellationToken ct)
    {
        var column = AttemptAtColumn;
        var underWay = storage.Rows(WebhookDeliveryProjection.Table)
            .Where(r => r.Columns[column] is not null)
            .Select(r => r.Read<GrainRecord<WebhookDeliveryState>>().State.Spec!.CreatedAt)
            .ToList();
        return Task.FromResult(new WebhookBacklog(underWay.Count, underWay.Count == 0 ? null : underWay.Min()));
    }

    private static readonly int AttemptAtColumn =
        WebhookDeliveryProjection.Projection.Columns.Select((c, i) => (c.Name, i)).Single(c => c.Name == "attempt_at").i;

    /// <summary>The log shows attempts, not payloads, as the SQL's does.</summary>
    private static WebhookDeliveryState WithoutBody(WebhookDeliveryState delivery) =>
        delivery with { Spec = delivery.Spec! with { Body = "" } };
}

public sealed class PostgresWebhookDeliveryQuery(NpgsqlDataSource dataSource) : IWebhookDeliveryQuery
{
    public async Task<IReadOnlyList<WebhookDeliveryState>> ListAsync(WebhookDeliveryFilter filter, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT jsonb_set(state->'state', '{spec,body}', '\"\"') FROM webhook_deliveries WHERE merchant_id = @merchant_id AND mode = @mode " +
            "AND (@endpoint_id::text IS NULL OR endpoint_id = @endpoint_id) AND (@event_id::text IS NULL OR event_id = @event_id) " +
            "AND (@status::text IS NULL OR status = @status) ORDER BY created_at DESC, grain_key DESC LIMIT @limit");
        command.Parameters.Add(new NpgsqlParameter("merchant_id", NpgsqlDbType.Uuid) { Value = filter.MerchantId });
        command.Parameters.Add(new NpgsqlParameter("mode", NpgsqlDbType.Text) { Value = InvoiceProjection.Name(filter.Mode) });
        command.Parameters.Add(new NpgsqlParameter("endpoint_id", NpgsqlDbType.Text) { Value = (object?)filter.EndpointId ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("event_id", NpgsqlDbType.Text) { Value = (object?)filter.EventId ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("status", NpgsqlDbType.Text) { Value = filter.Status is { } s ? InvoiceProjection.Name(s) : DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("limit", NpgsqlDbType.Integer) { Value = filter.Limit });
        var items = new List<WebhookDeliveryState>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            items.Add(JsonSerializer.Deserialize<WebhookDeliveryState>(reader.GetString(0), StateJson.Options)!);
        }

        return items;
    }

    public async Task<IReadOnlyList<string>> DueAsync(DateTimeOffset now, int limit, CancellationToken ct)
    {
        // Served by the partial index webhook_deliveries_by_attempt (rows delivered or failed have no attempt time).
        await using var command = dataSource.CreateCommand(
            "SELECT grain_key FROM webhook_deliveries WHERE attempt_at <= $1 ORDER BY attempt_at LIMIT $2");
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit, NpgsqlDbType = NpgsqlDbType.Integer });
        var keys = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    public async Task<WebhookBacklog> BacklogAsync(CancellationToken ct)
    {
        // The partial index webhook_deliveries_by_attempt holds exactly the rows under way.
        await using var command = dataSource.CreateCommand("SELECT count(*), min(created_at) FROM webhook_deliveries WHERE attempt_at IS NOT NULL");
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await reader.ReadAsync(ct).ConfigureAwait(false);
        return new WebhookBacklog(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1));
    }
}
