using System.Text.Json;
using System.Text.Json.Nodes;
using CryptoPay.Api.Access;
using CryptoPay.Api.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace CryptoPay.Api.Docs;

/// <summary>
/// Completes each operation from its endpoint's metadata: who may call it (<see cref="ApiAccess"/>: security and the
/// 401/403/429 the gate answers), Idempotency-Key (400/409/422), its body (400/413/415, JSON only), its route id (404),
/// the query parameters and problems it documents (<see cref="OperationDocs"/>), and its request example. Every 4xx
/// carries the problem schema.
/// </summary>
internal sealed class OperationDocsTransformer : IOpenApiOperationTransformer
{
    private const string ProblemMediaType = "application/problem+json";

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var access = metadata.OfType<ApiAccess>().LastOrDefault() ?? new ApiAccess(AccessKind.Public);
        var method = context.Description.HttpMethod ?? "GET";
        var problems = new SortedDictionary<int, List<string>>();
        void Add(int status, string reason) => (problems.TryGetValue(status, out var list) ? list : problems[status] = []).Add(reason);

        operation.Parameters ??= [];
        foreach (var query in metadata.OfType<QueryParameterDoc>())
        {
            if (operation.Parameters.FirstOrDefault(p => p.In == ParameterLocation.Query && p.Name == query.Name) is { } bound)
            {
                operation.Parameters.Remove(bound);
            }

            operation.Parameters.Add(new OpenApiParameter { Name = query.Name, In = ParameterLocation.Query, Description = query.Description, Schema = Schema(query) });
        }

        if (operation.Parameters.Any(p => p.In == ParameterLocation.Query))
        {
            Add(StatusCodes.Status400BadRequest, "VALIDATION_FAILED: a query parameter is not one of its values or out of its range; `errors` names it.");
        }

        var description = operation.Description is { Length: > 0 } text ? text + "\n\n" : "";
        switch (access.Kind)
        {
            case AccessKind.Merchant:
                operation.Description = description + $"Needs a merchant API key with the `{access.Scope}` scope; it acts in the key's mode (live or test).";
                operation.Security = Requirements(context.Document, access.Scope!);
                Add(StatusCodes.Status401Unauthorized, "UNAUTHORIZED: no key, or a key that is unknown or revoked, or whose merchant is not active.");
                Add(StatusCodes.Status403Forbidden, $"FORBIDDEN: the key lacks the `{access.Scope}` scope, or may not be used from this IP address.");
                Add(StatusCodes.Status429TooManyRequests, "RATE_LIMITED: the key made more requests this minute than its limit; retry after `Retry-After` seconds.");
                break;
            case AccessKind.Admin:
                operation.Description = description + "Operator endpoint: needs the operator admin key (Admin:ApiKey), not a merchant key.";
                operation.Security = Requirements(context.Document, "admin");
                Add(StatusCodes.Status401Unauthorized, "UNAUTHORIZED: the request does not carry the operator admin key.");
                break;
            default:
                operation.Description = description + "Public: no key needed.";
                break;
        }

        if (access.Idempotent)
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "Idempotency-Key",
                In = ParameterLocation.Header,
                Description = "Up to 255 characters. A retry with the same key, path and body within 24 h replays the first answer (with `Idempotent-Replayed: true`) instead of acting twice.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 255 },
            });
            Add(StatusCodes.Status400BadRequest, "VALIDATION_FAILED: the Idempotency-Key is over 255 characters or holds control characters.");
            Add(StatusCodes.Status409Conflict, "IDEMPOTENCY_IN_PROGRESS: a request with this Idempotency-Key is still running; retry after `Retry-After` seconds with the same key and body.");
            Add(StatusCodes.Status422UnprocessableEntity, "IDEMPOTENCY_KEY_REUSED: this Idempotency-Key was used with a different path or body.");
        }

        if (operation.RequestBody?.Content is { } content)
        {
            // Endpoints accept */* only so that the router leaves media types to the gate, which answers 415 as a problem.
            content.Remove("*/*");
            if (metadata.OfType<RequestExampleDoc>().LastOrDefault() is { } example && content.TryGetValue("application/json", out var json))
            {
                json.Example = JsonNode.Parse(example.Json);
            }

            Add(StatusCodes.Status400BadRequest, "VALIDATION_FAILED, or the code of the first broken rule (INVALID_AMOUNT_FORMAT, UNSUPPORTED_CURRENCY, …): malformed JSON, a wrong type or a broken rule; `errors` names each field.");
            Add(StatusCodes.Status413PayloadTooLarge, $"VALIDATION_FAILED: the body is over {JsonBody.MaxBytes / 1024} KiB.");
        }

        if (Routing.RequestShape.CarriesBody(method))
        {
            Add(StatusCodes.Status415UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE: a body must be sent as `Content-Type: application/json` in UTF-8.");
        }

        if (context.Description.RelativePath?.Contains("{id}", StringComparison.Ordinal) == true)
        {
            Add(StatusCodes.Status404NotFound, access.Kind == AccessKind.Merchant
                ? "NOT_FOUND: no such object in this key's merchant and mode (another merchant's object is not found either)."
                : "NOT_FOUND: no object with that id.");
        }

        foreach (var problem in metadata.OfType<ProblemDoc>())
        {
            Add(problem.Status, problem.Description);
        }

        operation.Responses ??= [];
        // A compatibility profile answers its errors in its document's body, with our codes.
        var profile = metadata.OfType<Compatibility.CompatibilityProfile>().FirstOrDefault();
        foreach (var (status, reasons) in problems)
        {
            var response = new OpenApiResponse
            {
                Description = (profile is null ? "" : $"As {profile.ErrorShape}: ") + string.Join(" ", reasons.Distinct()),
                Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                {
                    [profile is null ? ProblemMediaType : "application/json"] = profile is null
                        ? new OpenApiMediaType { Schema = new OpenApiSchemaReference(ApiDocumentTransformer.ProblemSchema, context.Document) }
                        : new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.Object } },
                },
            };
            if (status == StatusCodes.Status429TooManyRequests || (status == StatusCodes.Status409Conflict && access.Idempotent))
            {
                response.Headers = new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal)
                {
                    ["Retry-After"] = new OpenApiHeader { Description = "With RATE_LIMITED or IDEMPOTENCY_IN_PROGRESS: seconds to wait before retrying.", Schema = new OpenApiSchema { Type = JsonSchemaType.Integer } },
                };
            }

            operation.Responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = response;
        }

        return Task.CompletedTask;
    }

    /// <summary>Either way of presenting the key; the role (a scope, or "admin") is listed as OpenAPI 3.1 allows for any scheme.</summary>
    private static List<OpenApiSecurityRequirement> Requirements(OpenApiDocument? document, string role) =>
    [
        new() { [new OpenApiSecuritySchemeReference(ApiDocumentTransformer.BearerScheme, document)] = [role] },
        new() { [new OpenApiSecuritySchemeReference(ApiDocumentTransformer.HeaderScheme, document)] = [role] },
    ];

    private static OpenApiSchema Schema(QueryParameterDoc query)
    {
        var schema = new OpenApiSchema
        {
            Type = query.Type switch
            {
                "integer" => JsonSchemaType.Integer,
                "boolean" => JsonSchemaType.Boolean,
                "string" => JsonSchemaType.String,
                var other => throw new ArgumentException($"Query parameter {query.Name}: '{other}' is not a documented type.", nameof(query)),
            },
            Format = query.Format,
            Minimum = query.Minimum?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Maximum = query.Maximum?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Default = query.Default is null ? null : JsonSerializer.SerializeToNode(query.Default),
        };
        if (query.Values is { } values)
        {
            schema.Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v))];
        }

        return schema;
    }
}
