using System.Security.Cryptography;
using System.Text;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Merchants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace CryptoPay.Api.Access;

public enum AccessKind
{
    Public,
    Merchant,
    Admin,
}

/// <summary>
/// Endpoint metadata: who may call it and, for merchant keys, the scope needed. <see cref="HtmlForm"/>: a public endpoint
/// taking an HTML form's body (<c>application/x-www-form-urlencoded</c>), exempt from the JSON-only body check.
/// </summary>
public sealed record ApiAccess(AccessKind Kind, string? Scope = null, bool Idempotent = false, bool HtmlForm = false);

/// <summary>The authenticated merchant key of a request.</summary>
public sealed record MerchantCaller(Guid MerchantId, Mode Mode, Guid KeyId, MerchantState Merchant);

public sealed class AdminOptions
{
    /// <summary>The operator key for the merchants endpoints; admin endpoints refuse every request when it is empty.</summary>
    public string? ApiKey { get; set; }

    public bool Matches(string presented) =>
        !string.IsNullOrEmpty(ApiKey) &&
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(ApiKey)), SHA256.HashData(Encoding.UTF8.GetBytes(presented)));
}

/// <summary>
/// A request running under an Idempotency-Key: the key, the key's generation, the request's fingerprint, and whose key it
/// is (its scope: the merchant and mode, or the admin key).
/// </summary>
public sealed record IdempotentRequest(string Key, int Generation, string Fingerprint, string Scope);

public static class ApiAccessExtensions
{
    private const string CallerItem = "cryptopay.caller";

    public static TBuilder Public<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ApiAccess(AccessKind.Public));

    /// <summary>A public endpoint that a customer's browser posts an HTML form to; it reads and checks the form itself.</summary>
    public static TBuilder PublicForm<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ApiAccess(AccessKind.Public, HtmlForm: true));

    public static TBuilder ForAdmin<TBuilder>(this TBuilder builder, bool idempotent = false) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ApiAccess(AccessKind.Admin, Idempotent: idempotent));

    public static TBuilder ForMerchant<TBuilder>(this TBuilder builder, string scope, bool idempotent = false) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ApiAccess(AccessKind.Merchant, scope, idempotent));

    public static void SetCaller(this HttpContext context, MerchantCaller caller) => context.Items[CallerItem] = caller;

    private const string IdempotentItem = "cryptopay.idempotent";

    public static void SetIdempotentRequest(this HttpContext context, IdempotentRequest request) => context.Items[IdempotentItem] = request;

    /// <summary>The Idempotency-Key this request runs under (the gate started it), or null.</summary>
    public static IdempotentRequest? IdempotentRequest(this HttpContext context) => context.Items[IdempotentItem] as IdempotentRequest;

    /// <summary>
    /// The id of the <paramref name="kind"/> of object (<c>payment-link</c>, <c>withdrawal</c>, <c>merchant</c>, ...) the
    /// request creates, when it carries an Idempotency-Key (null without one): derived from the key and whose key it is
    /// (the merchant and mode, or the operator's scope), so a retry of an attempt that died after creating the object
    /// reaches that object instead of creating a second one.
    /// </summary>
    public static Guid? IdempotentId(this HttpContext context, string kind) =>
        context.IdempotentRequest() is not { } request ? null
            : context.Items[CallerItem] is MerchantCaller caller
                ? DerivedIds.ForIdempotencyKey(kind, caller.MerchantId, caller.Mode, request.Key, request.Generation)
                : DerivedIds.ForIdempotencyKey(kind, request.Scope, request.Key, request.Generation);

    /// <summary>The merchant key that authenticated this request (the gate guarantees one on merchant endpoints).</summary>
    public static MerchantCaller Caller(this HttpContext context) =>
        context.Items[CallerItem] as MerchantCaller ?? throw new InvalidOperationException("The endpoint is not marked ForMerchant.");

    public static string? PresentedKey(this HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }

        // x-api-key (LayerPay, Pepay, ours) or Api-Key (the Invoice API's account key).
        var header = request.Headers["x-api-key"].ToString();
        if (header.Length == 0)
        {
            header = request.Headers["Api-Key"].ToString();
        }

        return header.Length > 0 ? header.Trim() : null;
    }

    public static bool HasScope(this ApiKeyState key, string scope) => key.Scopes.Contains(scope, StringComparer.Ordinal);
}
