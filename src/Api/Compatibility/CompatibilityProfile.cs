using System.Text.Json;
using CryptoPay.Api.Access;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Hosting;
using CryptoPay.Api.Json;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CryptoPay.Api.Compatibility;

/// <summary>An error as a profile renders it: the status, our machine code, the message, and per-field messages if any.</summary>
public sealed record ProfileError(int Status, string Code, string Message, IReadOnlyDictionary<string, string[]>? Errors);

/// <summary>
/// Endpoint metadata of one compatibility profile's routes (API.md, Compatibility profiles): its name, the prefix clients
/// use as their base URL, and the shape of its error body. Every problem an endpoint of the profile answers — from the
/// gate (key, scope, rate limit), the body reader or the endpoint itself — is written in that shape by
/// <see cref="ProfileProblemWriter"/>, so a profile never formats errors on its own.
/// </summary>
/// <param name="Summary">What the docs page says of the profile's group.</param>
/// <param name="ErrorShape">The error body's fields, as the docs name them (<c>{error, code}</c>).</param>
public sealed record CompatibilityProfile(string Name, string Prefix, string Title, string Summary, string ErrorShape, Func<ProfileError, object> ErrorBody)
{
    /// <summary>
    /// The profile's route group: tagged with its title for the OpenAPI document, carrying this metadata, and with a
    /// fallback so an unknown path under the prefix answers a 404 in the profile's error shape.
    /// </summary>
    public RouteGroupBuilder MapGroup(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Prefix).WithTags(Title).WithMetadata(this);
        group.MapFallback((HttpContext context) => ApiProblem.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"No endpoint at {context.Request.Method} {context.Request.Path}."))
            .WithMetadata(this).ExcludeFromDescription();
        return group;
    }

    /// <summary>
    /// The profile of the request's endpoint, or null outside the profiles. While an exception is handled the endpoint is
    /// cleared from the request, and kept in the exception handler's feature.
    /// </summary>
    public static CompatibilityProfile? Of(HttpContext context) =>
        (context.GetEndpoint() ?? context.Features.Get<IExceptionHandlerFeature>()?.Endpoint)?.Metadata.GetMetadata<CompatibilityProfile>();
}

/// <summary>Writes the problems of a profile's endpoints as the profile's error body (plain JSON, the document's shape).</summary>
internal sealed class ProfileProblemWriter : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => CompatibilityProfile.Of(context.HttpContext) is not null;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var profile = CompatibilityProfile.Of(context.HttpContext)!;
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        var code = problem.Extensions.TryGetValue("code", out var c) && c is string text ? text : ErrorCodes.ForStatus(status);
        var errors = problem.Extensions.TryGetValue("errors", out var e) ? e as IReadOnlyDictionary<string, string[]> ?? (e as IDictionary<string, string[]>)?.AsReadOnly() : null;
        var body = profile.ErrorBody(new ProfileError(status, code, problem.Detail ?? problem.Title ?? ApiProblem.TitleOf(status), errors));
        context.HttpContext.Response.StatusCode = status;
        return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(body, body.GetType(), ProfileJson.Options, "application/json; charset=utf-8"));
    }
}

/// <summary>The JSON of the profiles' bodies: our snake_case conventions (every document uses snake_case names).</summary>
public static class ProfileJson
{
    public static JsonSerializerOptions Options { get; } = ApiHostingExtensions.Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));
}

/// <summary>What the profiles share: reading their bodies and creating invoices through the one creation path.</summary>
public static class ProfileRequests
{
    /// <summary>
    /// Creates an invoice from a body composed in the <c>/v1</c> shape; problems name the profile's fields
    /// (<paramref name="fieldNames"/>: /v1 field → the document's). The id comes from the request's Idempotency-Key, if any.
    /// </summary>
    /// <param name="webhookFormat">The webhook format of deliveries to the invoice's callback_url (the profile's); null is ours.</param>
    public static async Task<(InvoiceState? Invoice, ProblemHttpResult? Problem)> CreateInvoiceAsync(
        HttpContext context, Dictionary<string, object?> v1Body, IReadOnlyDictionary<string, string>? fieldNames = null, bool archived = false, string? webhookFormat = null)
    {
        var body = JsonBody.Of(JsonSerializer.SerializeToElement(v1Body.Where(p => p.Value is not null).ToDictionary(), ProfileJson.Options));
        var time = context.RequestServices.GetRequiredKeyedService<TimeProvider>(GatewayClock.Key);
        var (invoice, problem) = await Invoices.InvoiceEndpoints.CreateStateAsync(
            context, context.Caller(), body, time, Invoices.InvoiceEndpoints.NewInvoiceId(context), archived, webhookFormat);
        return (invoice, problem is null || fieldNames is null ? problem : Rename(problem, fieldNames));
    }

    /// <summary>The same problem with its field names (in <c>errors</c> and in the detail) put in the profile's words.</summary>
    public static ProblemHttpResult Rename(ProblemHttpResult problem, IReadOnlyDictionary<string, string> fieldNames)
    {
        var details = problem.ProblemDetails;
        if (!details.Extensions.TryGetValue("errors", out var value) || value is not IDictionary<string, string[]> errors)
        {
            return problem;
        }

        string Name(string field) => fieldNames.TryGetValue(field, out var renamed) ? renamed : field;
        var renamedErrors = errors.ToDictionary(e => Name(e.Key), e => e.Value);
        return ApiProblem.Create(details.Status ?? StatusCodes.Status400BadRequest, details.Extensions["code"] as string ?? ErrorCodes.ValidationFailed,
            string.Join(" ", renamedErrors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}"))), renamedErrors);
    }

    /// <summary>A JSON number or numeric string as an exact decimal (the documents send amounts as floats); null when absent.</summary>
    public static decimal? Amount(JsonBody body, string name, bool required = false) =>
        body.Decimal(name, required, ErrorCodes.InvalidAmountFormat);
}

/// <summary>
/// The profiles' object ids: our Guid after the document's prefix (<c>inv_</c> + 32 hex digits), so every id maps back to
/// our object without a lookup table.
/// </summary>
public static class ProfileIds
{
    public static string Format(string prefix, Guid id) => $"{prefix}{id:N}";

    /// <summary>The Guid of an id with <paramref name="prefix"/>; with <paramref name="bareAccepted"/> also of a bare Guid (objects are shared with /v1); null for anything else.</summary>
    public static Guid? Parse(string prefix, string? text, bool bareAccepted = true) =>
        text is null ? null
        : text.Length == prefix.Length + 32 && text.StartsWith(prefix, StringComparison.Ordinal) && Guid.TryParseExact(text.AsSpan(prefix.Length), "N", out var prefixed) ? prefixed
        : bareAccepted && Guid.TryParse(text, out var bare) ? bare
        : null;
}
