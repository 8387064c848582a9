using System.Text.Json.Nodes;
using CryptoPay.Api.Errors;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace CryptoPay.Api.Docs;

/// <summary>
/// The document as a whole: title and introduction, the tags in reading order with their descriptions, the two ways
/// to present a key (security schemes), and the problem body every 4xx answer carries.
/// </summary>
internal sealed class ApiDocumentTransformer : IOpenApiDocumentTransformer
{
    public const string BearerScheme = "bearer_key";
    public const string HeaderScheme = "x_api_key";
    public const string ProblemSchema = "Problem";

    /// <summary>The tags in the order the docs page shows them.</summary>
    private static readonly (string Name, string Description)[] Tags =
    [
        ("Invoices", "Create invoices, follow their status and list them. The status, events and payment-method operations are public: the checkout page calls them."),
        ("Payment links", "Links that open a fresh invoice each time a customer follows them."),
        ("Balances", "What the merchant was credited, per asset, in the key's mode: available, reserved for withdrawals, and pending."),
        ("Withdrawals", "Withdrawals from a live balance: amount + network fee reserved at request, review above a USD threshold (operator endpoints, admin key), cancellation; paid on chain in settlement batches."),
        ("Settlements", "Settlement batches: each window a network's queued withdrawals are paid in one transaction (btc/ltc) or one commitment transaction and a transfer each (eth/bsc), committing a Merkle root over the batch on chain; proofs of payout anyone can check with their own node (docs/PROOFS.md). Automatic settlement: per live balance, a destination and a schedule; each window the available balance is requested as a withdrawal listing the deposits it pays out (payment_ids)."),
        ("Beneficiaries", "Saved withdrawal destinations, validated for their network."),
        ("Webhooks", "Endpoints that receive signed events (Standard Webhooks), their delivery log, redelivery and test events."),
        ("Sandbox", "Test mode only: simulate a customer's payment on the sandbox chain."),
        ("Currencies and rates", "Public catalog of currencies, networks and payment methods, and the exchange rates invoices are priced at."),
        ("Merchants", "Operator endpoints, called with the operator admin key: merchants and their API keys."),
        .. Compatibility.CompatibilityEndpoints.Profiles.Select(p => (p.Title, p.Summary)),
    ];

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "CryptoPay API",
            Version = "v1",
            Description =
                "JSON over HTTP with snake_case fields under /v1. Amounts are exact decimal strings (\"100.00\"); timestamps are RFC 3339 UTC.\n\n" +
                "Authenticate with `Authorization: Bearer <key>` or `x-api-key: <key>`. A key is `cp_live_…` or `cp_test_…`: its mode is part of it, " +
                "and test data never meets live data. Operator endpoints take the admin key instead.\n\n" +
                "Errors are RFC 9457 `application/problem+json` bodies {type, title, status, detail, code, errors, request_id}; " +
                "`code` is one of: " + string.Join(", ", ErrorCodes.All) + ". " +
                "Any request can also answer 405 METHOD_NOT_ALLOWED (a known path with another method, listed in `Allow`), " +
                "414 URI_TOO_LONG, 431 REQUEST_HEADERS_TOO_LARGE and 5xx problems.",
        };

        var used = document.Paths.Values.SelectMany(p => p.Operations?.Values.AsEnumerable() ?? []).SelectMany(o => o.Tags?.AsEnumerable() ?? []).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var profiles = Compatibility.CompatibilityEndpoints.Profiles.Select(p => (Name: p.Title, Description: $"The {p.Name} profile: its document's paths, fields and errors under {p.Prefix} (docs/COMPATIBILITY.md)."));
        document.Tags = new HashSet<OpenApiTag>(Tags.Concat(profiles).Where(t => used.Contains(t.Name)).Select(t => new OpenApiTag { Name = t.Name, Description = t.Description }));

        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal)
        {
            [BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "`Authorization: Bearer cp_test_…` (a merchant key), or the operator admin key on operator endpoints.",
            },
            [HeaderScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = "x-api-key",
                Description = "The same key in an `x-api-key` header.",
            },
        };
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal);
        document.Components.Schemas[ProblemSchema] = Problem();
        return Task.CompletedTask;
    }

    private static OpenApiSchema Problem() => new()
    {
        Type = JsonSchemaType.Object,
        Description = "An RFC 9457 problem with a stable machine `code` and the `request_id` to quote to support.",
        Required = new HashSet<string>(StringComparer.Ordinal) { "type", "title", "status", "code", "request_id" },
        Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uri", Description = "A URI naming the problem kind." },
            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A short summary of the status." },
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Description = "The HTTP status." },
            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "What went wrong with this request, for a human." },
            ["code"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Description = "The stable machine code.",
                Enum = [.. ErrorCodes.All.Select(c => (JsonNode)JsonValue.Create(c))],
            },
            ["errors"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "Per field (or query parameter), what is wrong with it.",
                AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
            },
            ["request_id"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "This request's id, also in the X-Request-Id header." },
        },
        Examples =
        [
            new JsonObject
            {
                ["type"] = "https://cryptopay.dev/problems/invalid-amount-format",
                ["title"] = "Bad request",
                ["status"] = 400,
                ["detail"] = "amount: must be a decimal number.",
                ["code"] = ErrorCodes.InvalidAmountFormat,
                ["errors"] = new JsonObject { ["amount"] = new JsonArray("must be a decimal number.") },
                ["request_id"] = "0HNA1B2C3D4E5:00000001",
            },
        ],
    };
}
