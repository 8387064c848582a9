using System.ComponentModel;
using System.Net;
using CryptoPay.Api.Access;
using CryptoPay.Api.Docs;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Json;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Merchants;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace CryptoPay.Api.Merchants;

/// <summary>The body of <c>POST /v1/merchants</c>, for the OpenAPI document.</summary>
public sealed record CreateMerchantRequest(
    [property: Description("At most 200 characters.")] string Name,
    [property: Description("Fiat currency totals are reported in; default USD.")] string? ReportingCurrency = null,
    [property: Description("Requests per minute per key; default: the gateway's (100).")] int? RateLimitPerMinute = null,
    [property: Description("Methods the merchant's invoices may offer; default: every method this gateway offers.")] IReadOnlyList<string>? PaymentMethods = null,
    [property: Description("Confirmations required per network, overriding the gateway's.")] IReadOnlyDictionary<string, int>? Confirmations = null,
    [property: Description("Format of the first two keys: cryptopay (default), or a compatibility profile's (layerpay, invoice-api, cryptopayment, ippan, pepay).")] string? KeyFormat = null);

/// <summary>The body of <c>POST /v1/merchants/{id}/api-keys</c>.</summary>
public sealed record CreateApiKeyRequest(
    [property: Description("live or test.")] string Mode,
    [property: Description("Scopes granted (invoices:read, invoices:write, balances:read, withdrawals:write, webhooks:write); default: all but withdrawals:write.")] IReadOnlyList<string>? Scopes = null,
    [property: Description("IP addresses or CIDR ranges the key may be used from; default: any.")] IReadOnlyList<string>? AllowedIps = null,
    [property: Description("cryptopay (default), or a compatibility profile's key format: layerpay, invoice-api, cryptopayment, ippan, pepay.")] string? Format = null,
    [property: Description("A label for the key, unique among the merchant's keys; at most 100 characters.")] string? Name = null);

public sealed record ApiKeyResponse(Guid Id, string Prefix, string Mode, IReadOnlyList<string> Scopes, IReadOnlyList<string> AllowedIps, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, string Format, string? Name);

public sealed record MerchantResponse(
    Guid Id, string Name, string Status, string ReportingCurrency, int? RateLimitPerMinute, IReadOnlyList<string> PaymentMethods,
    IReadOnlyDictionary<string, int> Confirmations, DateTimeOffset CreatedAt, IReadOnlyList<ApiKeyResponse> ApiKeys);

public sealed record CreatedMerchantResponse(
    Guid Id, string Name, string Status, string ReportingCurrency, int? RateLimitPerMinute, IReadOnlyList<string> PaymentMethods,
    IReadOnlyDictionary<string, int> Confirmations, DateTimeOffset CreatedAt, IReadOnlyList<IssuedKey> ApiKeys);

/// <summary>The admin's change to a merchant: <c>{"confirmations": {"btc": 3, "eth": null}}</c> (null drops an override).</summary>
public sealed record UpdateMerchantRequest(IReadOnlyDictionary<string, int?>? Confirmations);

public sealed record RevokedKeyResponse(Guid Id, bool Revoked);

/// <summary>Operator endpoints (admin key): merchants and their API keys.</summary>
public static class MerchantEndpoints
{
    public static IEndpointRouteBuilder MapMerchants(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1").WithTags("Merchants");
        group.MapPost("/merchants", CreateAsync).ForAdmin(idempotent: true).Accepts<CreateMerchantRequest>("application/json", "*/*")
            .WithSummary("Create a merchant")
            .WithDescription("Creates an active merchant with a live and a test API key; the answer is the only one that shows the keys.");
        group.MapGet("/merchants/{id}", GetAsync).ForAdmin()
            .WithSummary("Get a merchant")
            .WithDescription("The merchant with its settings and its API keys (by prefix).");
        group.MapPatch("/merchants/{id}", UpdateAsync).ForAdmin().Accepts<UpdateMerchantRequest>("application/json", "*/*")
            .WithSummary("Update a merchant")
            .WithDescription("Sets or drops (null) per-network confirmation overrides.");
        group.MapPost("/merchants/{id}/api-keys", CreateKeyAsync).ForAdmin(idempotent: true).Accepts<CreateApiKeyRequest>("application/json", "*/*")
            .WithSummary("Create an API key")
            .WithDescription("Issues a key for one mode, optionally limited to scopes and IP ranges; the answer is the only one that shows it.")
            .Problem(StatusCodes.Status409Conflict, "NAME_EXISTS: another of the merchant's keys has that name (ignoring case).");
        group.MapDelete("/api-keys/{id}", RevokeKeyAsync).ForAdmin()
            .WithSummary("Revoke an API key")
            .WithDescription("The key stops working at once.");
        return endpoints;
    }

    private static async Task<Results<Created<CreatedMerchantResponse>, ProblemHttpResult>> CreateAsync(HttpContext context, MerchantOnboarding onboarding)
    {
        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var name = body.Text("name", 200, required: true);
        var currency = body.String("reporting_currency", 10) ?? "USD";
        if (Assets.FindCurrency(currency) is not { IsFiat: true })
        {
            body.Fail("reporting_currency", "must be a supported fiat currency.", ErrorCodes.UnsupportedCurrency);
        }

        var limit = (int?)body.Integer("rate_limit_per_minute", 1, 1_000_000);
        var methods = body.StringList("payment_methods", 50, 40);
        foreach (var method in methods ?? [])
        {
            if (Assets.FindMethod(method) is null)
            {
                body.Fail("payment_methods", $"'{method}' is not a known payment method.", ErrorCodes.UnsupportedNetwork);
            }
        }

        var confirmations = Confirmations(body, allowNull: false);
        var keyFormat = KeyFormat(body, "key_format");
        if (!body.IsValid)
        {
            return body.Problem();
        }

        var created = await onboarding.CreateAsync(
            name!, Assets.FindCurrency(currency)!.Code, limit, methods?.Select(m => Assets.FindMethod(m)!.Id).ToList(),
            confirmations?.ToDictionary(c => c.Key, c => c.Value!.Value, StringComparer.Ordinal), keyFormat,
            context.IdempotentId("merchant"));
        var m = created.Merchant;
        return TypedResults.Created($"/v1/merchants/{m.Id}", new CreatedMerchantResponse(m.Id, m.Name, "active", m.ReportingCurrency, m.RateLimitPerMinute, m.EnabledPaymentMethods, m.Confirmations, m.CreatedAt, created.Keys));
    }

    private static async Task<Results<Ok<MerchantResponse>, ProblemHttpResult>> GetAsync(string id, IGrainFactory grains)
    {
        if (!Guid.TryParse(id, out var merchantId) || await grains.GetGrain<IMerchantGrain>(merchantId).Get() is not { } m)
        {
            return ApiProblem.NotFound("merchant");
        }

        return TypedResults.Ok(ToResponse(m));
    }

    private static async Task<Results<Ok<MerchantResponse>, ProblemHttpResult>> UpdateAsync(string id, HttpRequest request, IGrainFactory grains)
    {
        if (!Guid.TryParse(id, out var merchantId) || await grains.GetGrain<IMerchantGrain>(merchantId).Get() is null)
        {
            return ApiProblem.NotFound("merchant");
        }

        var (body, problem) = await JsonBody.ReadAsync(request);
        if (body is null)
        {
            return problem!;
        }

        var confirmations = Confirmations(body, allowNull: true);
        if (!body.IsValid)
        {
            return body.Problem();
        }

        var updated = await grains.GetGrain<IMerchantGrain>(merchantId).Update(new MerchantChanges { Confirmations = confirmations });
        return updated is null ? ApiProblem.NotFound("merchant") : TypedResults.Ok(ToResponse(updated));
    }

    private static MerchantResponse ToResponse(MerchantState m) => new(
        m.Id, m.Name, m.Status == MerchantStatus.Active ? "active" : "suspended", m.ReportingCurrency, m.RateLimitPerMinute, m.EnabledPaymentMethods, m.Confirmations, m.CreatedAt,
        [.. m.Keys.Select(k => new ApiKeyResponse(k.Id, k.Prefix, k.Mode == Mode.Live ? "live" : "test", k.Scopes, k.AllowedIps, k.CreatedAt, k.RevokedAt, k.Format, k.Name))]);

    /// <summary>A key format field: one of <see cref="KeyFormats.All"/>, default ours.</summary>
    private static string KeyFormat(JsonBody body, string field)
    {
        var format = body.String(field, 20) ?? KeyFormats.CryptoPay;
        if (!KeyFormats.All.Contains(format, StringComparer.Ordinal))
        {
            body.Fail(field, $"'{format}' is not a key format; known: {string.Join(", ", KeyFormats.All)}.");
            return KeyFormats.CryptoPay;
        }

        return format;
    }

    /// <summary>
    /// <c>confirmations</c>: an object of live network id → 1..1000 (null drops an override when <paramref name="allowNull"/>).
    /// The sandbox confirms on its own next block and takes no override.
    /// </summary>
    private static Dictionary<string, int?>? Confirmations(JsonBody body, bool allowNull)
    {
        if (body.Element("confirmations", System.Text.Json.JsonValueKind.Object) is not { } element)
        {
            return null;
        }

        var result = new Dictionary<string, int?>(StringComparer.Ordinal);
        var networks = Assets.NetworkIds.Where(n => n != Chains.Networks.Network.Sandbox.Id).ToList();
        foreach (var entry in element.EnumerateObject())
        {
            var field = $"confirmations.{entry.Name}";
            if (!networks.Contains(entry.Name, StringComparer.Ordinal))
            {
                body.Fail(field, $"'{entry.Name}' is not a live network; known: {string.Join(", ", networks)}.", ErrorCodes.UnsupportedNetwork);
            }
            else if (entry.Value.ValueKind == System.Text.Json.JsonValueKind.Null && allowNull)
            {
                result[entry.Name] = null;
            }
            else if (entry.Value.ValueKind != System.Text.Json.JsonValueKind.Number || !entry.Value.TryGetInt32(out var value) ||
                     value is < 1 or > ChainNetworkOptions.MaxConfirmations)
            {
                body.Fail(field, $"must be an integer from 1 to {ChainNetworkOptions.MaxConfirmations}{(allowNull ? ", or null to drop the override" : "")}.");
            }
            else
            {
                result[entry.Name] = value;
            }
        }

        return result;
    }

    private static async Task<Results<Created<IssuedKey>, ProblemHttpResult>> CreateKeyAsync(string id, HttpRequest request, IGrainFactory grains, MerchantOnboarding onboarding)
    {
        if (!Guid.TryParse(id, out var merchantId) || await grains.GetGrain<IMerchantGrain>(merchantId).Get() is null)
        {
            return ApiProblem.NotFound("merchant");
        }

        var (body, problem) = await JsonBody.ReadAsync(request);
        if (body is null)
        {
            return problem!;
        }

        var modeText = body.String("mode", 10, required: true);
        Mode? mode = modeText switch { "live" => Mode.Live, "test" => Mode.Test, _ => null };
        if (modeText is not null && mode is null)
        {
            body.Fail("mode", "must be 'live' or 'test'.");
        }

        var scopes = body.StringList("scopes", 10, 40) ?? ApiKeyScopes.Default;
        foreach (var scope in scopes.Where(s => !ApiKeyScopes.All.Contains(s)))
        {
            body.Fail("scopes", $"'{scope}' is not a scope; known: {string.Join(", ", ApiKeyScopes.All)}.");
        }

        var allowed = body.StringList("allowed_ips", 100, 50) ?? [];
        foreach (var entry in allowed.Where(e => !IsAddressOrRange(e)))
        {
            body.Fail("allowed_ips", $"'{entry}' is neither an IP address nor a CIDR range.");
        }

        var format = KeyFormat(body, "format");
        var name = body.Text("name", 100);
        if (!body.IsValid || mode is null)
        {
            return body.Problem();
        }

        var issued = await onboarding.IssueKeyAsync(merchantId, new KeyRequest(mode.Value, format, [.. scopes.Distinct()], allowed, name));
        return issued is null
            ? NameTaken(name!)
            : TypedResults.Created($"/v1/api-keys/{issued.Id}", issued);
    }

    /// <summary>True for what a key's allow-list takes: an IP address or a CIDR range.</summary>
    public static bool IsAddressOrRange(string entry) => IPAddress.TryParse(entry, out _) || IPNetwork.TryParse(entry, out _);

    /// <summary>The answer to a key name another of the merchant's keys has (names are unique per merchant, ignoring case).</summary>
    public static ProblemHttpResult NameTaken(string name) =>
        ApiProblem.Create(StatusCodes.Status409Conflict, ErrorCodes.NameExists, $"Another of the merchant's keys is named '{name}'.");

    private static async Task<Results<Ok<RevokedKeyResponse>, ProblemHttpResult>> RevokeKeyAsync(string id, IGrainFactory grains, KeyCache keys) =>
        Guid.TryParse(id, out var keyId) && await grains.GetGrain<IApiKeyGrain>(keyId).Revoke() && keys.Forget(keyId)
            ? TypedResults.Ok(new RevokedKeyResponse(keyId, true))
            : ApiProblem.NotFound("API key");
}
