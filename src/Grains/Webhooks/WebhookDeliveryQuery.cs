using CryptoPay.Grains.Hosting;
using System.Text.Json;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;
using CryptoPay.Runtime.Serialization;
using CryptoPay.Runtime.Storage;
using CryptoPay.Runtime.Storage.Memory;
using CryptoPay.Runtime.Storage.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace CryptoPay.Grains.Webhooks;

/// <summary>
/// The <c>webhook_deliveries</c> table: one row per delivery, written with its state, so the delivery log is indexed SQL.
/// The document leaves out the event body (the log shows attempts, not payloads; the grain keeps the body for retries),
/// which halves the JSON written per delivery.
/// </summary>
public static class WebhookDeliveryProjection
{
    public const string Table = "webhook_deliveries";

    public static readonly IReadOnlyList<string> ColumnNames = ["merchant_id", "mode", "endpoint_id", "event_id", "status", "created_at", "document"];

    public static JsonSerializerOptions Json { get; } = GrainJson.CreateOptions();

    public static StateProjection<WebhookDeliveryState> Projection { get; } = new StateProjection<WebhookDeliveryState>(Table)
        .Column("merchant_id", ProjectionColumnType.Uuid, s => s.Spec!.MerchantId)
        .Column("mode", ProjectionColumnType.Text, s => InvoiceProjection.Name(s.Spec!.Mode))
        .Column("endpoint_id", ProjectionColumnType.Text, s => s.Spec!.EndpointId)
        .Column("event_id", ProjectionColumnType.Text, s => s.Spec!.EventId)
        .Column("status", ProjectionColumnType.Text, s => InvoiceProjection.Name(s.Status))
        .Column("created_at", ProjectionColumnType.TimestampTz, s => s.Spec!.CreatedAt)
        .Column("document", ProjectionColumnType.Jsonb, s => JsonSerializer.Serialize(s with { Spec = s.Spec! with { Body = "" } }, Json));
}

public sealed record WebhookDeliveryFilter(Guid MerchantId, Mode Mode, string? EndpointId, string? EventId, WebhookDeliveryStatus? Status, int Limit);

/// <summary>Lists of deliveries, newest first, from the projection, never by loading grains.</summary>
public interface IWebhookDeliveryQuery
{
    Task<IReadOnlyList<WebhookDeliveryState>> ListAsync(WebhookDeliveryFilter filter, CancellationToken ct);
}

public static class WebhookDeliveryQueries
{
    public static IWebhookDeliveryQuery For(IGrainStore store) =>
        StoreQueries.For<IWebhookDeliveryQuery>(store, source => new PostgresWebhookDeliveryQuery(source), memory => new MemoryWebhookDeliveryQuery(memory), "webhook delivery");
}

public sealed class MemoryWebhookDeliveryQuery(MemoryGrainStore store) : IWebhookDeliveryQuery
{
    private static readonly int DocumentColumn = WebhookDeliveryProjection.ColumnNames.ToList().IndexOf("document");

    public Task<IReadOnlyList<WebhookDeliveryState>> ListAsync(WebhookDeliveryFilter filter, CancellationToken ct)
    {
        var rows = store.GetProjection(WebhookDeliveryProjection.Table).Values
            .Select(r => JsonSerializer.Deserialize<WebhookDeliveryState>((string)r[DocumentColumn]!, WebhookDeliveryProjection.Json)!)
            .Where(d => d.Spec!.MerchantId == filter.MerchantId && d.Spec.Mode == filter.Mode)
            .Where(d => filter.EndpointId is null || d.Spec!.EndpointId == filter.EndpointId)
            .Where(d => filter.EventId is null || d.Spec!.EventId == filter.EventId)
            .Where(d => filter.Status is null || d.Status == filter.Status)
            .OrderByDescending(d => d.Spec!.CreatedAt).ThenByDescending(d => d.Spec!.Id, StringComparer.Ordinal)
            .Take(filter.Limit)
            .ToList();
        return Task.FromResult<IReadOnlyList<WebhookDeliveryState>>(rows);
    }
}

public sealed class PostgresWebhookDeliveryQuery(NpgsqlDataSource dataSource) : IWebhookDeliveryQuery
{
    public async Task<IReadOnlyList<WebhookDeliveryState>> ListAsync(WebhookDeliveryFilter filter, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT document::text FROM webhook_deliveries WHERE merchant_id = @merchant_id AND mode = @mode " +
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
            items.Add(JsonSerializer.Deserialize<WebhookDeliveryState>(reader.GetString(0), WebhookDeliveryProjection.Json)!);
        }

        return items;
    }
}
