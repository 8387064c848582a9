using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace CryptoPay.Api.Docs;

/// <summary>
/// The web JSON defaults describe every integer as "integer or numeric string"; this API writes integers as JSON numbers
/// and its bodies (JsonBody) accept only numbers there, so the string alternative is dropped.
/// </summary>
internal sealed class IntegerSchemaTransformer : IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (schema.Type is { } type && (type.HasFlag(JsonSchemaType.Integer) || type.HasFlag(JsonSchemaType.Number)) && type.HasFlag(JsonSchemaType.String))
        {
            schema.Type = type & ~JsonSchemaType.String;
            schema.Pattern = null;
        }

        return Task.CompletedTask;
    }
}
