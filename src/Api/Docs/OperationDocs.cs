using Microsoft.AspNetCore.Builder;

namespace CryptoPay.Api.Docs;

/// <summary>A query parameter the handler reads by hand, for the OpenAPI document (<see cref="OperationDocsTransformer"/>).</summary>
public sealed record QueryParameterDoc(
    string Name, string Description, string Type, string? Format, IReadOnlyList<string>? Values, int? Minimum, int? Maximum, object? Default);

/// <summary>A problem the handler itself can answer, beyond those its access, body and route imply.</summary>
public sealed record ProblemDoc(int Status, string Description);

/// <summary>A request body example in JSON, shown with the operation's request body.</summary>
public sealed record RequestExampleDoc(string Json);

/// <summary>Endpoint metadata that completes an operation's OpenAPI description; one transformer reads it all.</summary>
public static class OperationDocs
{
    /// <summary>Documents a query parameter: <paramref name="type"/> is a JSON Schema type ("string", "integer", "boolean").</summary>
    public static TBuilder Query<TBuilder>(
        this TBuilder builder, string name, string description, string type = "string", string? format = null,
        IReadOnlyList<string>? values = null, int? minimum = null, int? maximum = null, object? @default = null)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new QueryParameterDoc(name, description, type, format, values, minimum, maximum, @default));

    /// <summary>Documents a problem the handler answers, e.g. <c>.Problem(409, "ORDER_ID_EXISTS: …")</c>.</summary>
    public static TBuilder Problem<TBuilder>(this TBuilder builder, int status, string description) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ProblemDoc(status, description));

    public static TBuilder RequestExample<TBuilder>(this TBuilder builder, string json) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequestExampleDoc(json));
}
