using Microsoft.Extensions.DependencyInjection;
using System.Globalization;
using System.Security.Cryptography;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Routing;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Idempotency;
using CryptoPay.Grains.Merchants;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CryptoPay.Api.Access;

public sealed class ApiOptions
{
    public const int DefaultRateLimitPerMinute = 100;

    public int RateLimitPerMinute { get; set; } = DefaultRateLimitPerMinute;

    /// <summary>How often an open invoice event stream reads the invoice for changes.</summary>
    public TimeSpan EventsPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long an event stream may stay silent before a heartbeat comment is sent.</summary>
    public TimeSpan EventsHeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Base URL of the hosted checkout pages; the request's own host when empty.</summary>
    public string? PublicBaseUrl { get; set; }
}

/// <summary>
/// Runs after routing, before the endpoint: authenticates the key the endpoint requires, applies the
/// per-key rate limit, and makes POSTs with an Idempotency-Key replay their first response.
/// </summary>
internal sealed class ApiGateMiddleware(RequestDelegate next, Orleans.IGrainFactory grains, KeyCache keys, RequestRateLimiter limiter, IOptions<AdminOptions> admin, IOptions<ApiOptions> api, ILogger<ApiGateMiddleware> logger)
{
    private const int MaxIdempotencyKeyLength = 255;

    public async Task InvokeAsync(HttpContext context)
    {
        var access = context.GetEndpoint()?.Metadata.GetMetadata<ApiAccess>();
        if (access is { Kind: AccessKind.Public, HtmlForm: true })
        {
            await next(context);
            return;
        }

        if (access is null || access.Kind == AccessKind.Public)
        {
            await NextIfJsonAsync(context);
            return;
        }

        var presented = context.Request.PresentedKey();
        if (presented is null)
        {
            await Deny(context, StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "Send an API key as 'Authorization: Bearer <key>' or 'x-api-key: <key>'.");
            return;
        }

        if (access.Kind == AccessKind.Admin)
        {
            if (!admin.Value.Matches(presented))
            {
                await Deny(context, StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "This endpoint needs the operator admin key.");
                return;
            }

            await RunIdempotentAsync(context, access, IdempotencyScopes.Admin(presented));
            return;
        }

        var parsed = ApiKeySecret.Parse(presented);
        var (key, merchant) = parsed is null ? (null, null) : await keys.GetAsync(parsed.Id);
        if (parsed is null || key is null || !parsed.Matches(key.Hash) || key.RevokedAt is not null)
        {
            await Deny(context, StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "The API key is not valid or was revoked.");
            return;
        }

        if (merchant is null || merchant.Status != MerchantStatus.Active)
        {
            await Deny(context, StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "The merchant of this key is not active.");
            return;
        }

        if (!key.AllowsAddress(context.Connection.RemoteIpAddress))
        {
            await Deny(context, StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, "This key may not be used from this IP address.");
            return;
        }

        if (access.Scope is { } scope && !key.HasScope(scope))
        {
            await Deny(context, StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, $"This key lacks the '{scope}' scope.");
            return;
        }

        var limit = await limiter.TakeAsync(key.Id, merchant.RateLimitPerMinute ?? api.Value.RateLimitPerMinute);
        var headers = context.Response.Headers;
        var reset = ((int)Math.Ceiling(limit.ResetIn.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        headers["RateLimit-Limit"] = limit.Limit.ToString(CultureInfo.InvariantCulture);
        headers["RateLimit-Remaining"] = limit.Remaining.ToString(CultureInfo.InvariantCulture);
        headers["RateLimit-Reset"] = reset;
        if (!limit.Allowed)
        {
            headers.RetryAfter = reset;
            await Deny(context, StatusCodes.Status429TooManyRequests, ErrorCodes.RateLimited, $"At most {limit.Limit} requests per minute for this key; retry after {reset} s.");
            return;
        }

        context.SetCaller(new MerchantCaller(key.MerchantId, key.Mode, key.Id, merchant));
        await RunIdempotentAsync(context, access, IdempotencyScopes.Merchant(key.MerchantId, key.Mode));
    }

    private async Task NextIfJsonAsync(HttpContext context)
    {
        if (RequestShape.UnsupportedMediaType(context.Request) is { } refused)
        {
            await refused.ExecuteAsync(context);
            return;
        }

        await next(context);
    }

    private async Task RunIdempotentAsync(HttpContext context, ApiAccess access, string scope)
    {
        if (RequestShape.UnsupportedMediaType(context.Request) is { } refused)
        {
            await refused.ExecuteAsync(context);
            return;
        }

        var idempotencyKey = context.Request.Headers["Idempotency-Key"].ToString();
        if (!access.Idempotent || !HttpMethods.IsPost(context.Request.Method) || idempotencyKey.Length == 0)
        {
            await next(context);
            return;
        }

        if (idempotencyKey.Length > MaxIdempotencyKeyLength)
        {
            await Deny(context, StatusCodes.Status400BadRequest, ErrorCodes.ValidationFailed, $"Idempotency-Key must be at most {MaxIdempotencyKeyLength} characters.");
            return;
        }

        // Bytes that were not UTF-8 arrive as U+FFFD (RequestShape.HeaderEncoding); a control character is no key a client meant.
        if (idempotencyKey.Any(c => char.IsControl(c) || c == '\uFFFD'))
        {
            await Deny(context, StatusCodes.Status400BadRequest, ErrorCodes.ValidationFailed, "Idempotency-Key must be UTF-8 text without control characters.");
            return;
        }

        // The fingerprint covers what the request asks for: method, path and body.
        context.Request.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: 64 * 1024);
        string fingerprint;
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{context.Request.Method} {context.Request.Path}\n"));
            var buffer = new byte[8192];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }

            fingerprint = Convert.ToHexStringLower(hash.GetHashAndReset());
            context.Request.Body.Position = 0;
        }
        catch (Exception error) when (error is BadHttpRequestException or IOException)
        {
            await Deny(context, StatusCodes.Status413PayloadTooLarge, ErrorCodes.ValidationFailed, $"The body must be at most {Json.JsonBody.MaxBytes} bytes.");
            return;
        }

        var grain = grains.GetGrain<IIdempotencyGrain>(IdempotencyScopes.GrainKey(scope, idempotencyKey));
        // A token of this request: if the silo hosting the key's grain dies after Begin ran, the retried call
        // (TransientCallRetry) finds its own claim and goes on, instead of answering 409 until the lease runs out.
        var decision = await grain.Begin(fingerprint, context.RequestServices.GetService<Orleans.Runtime.ILocalSiloDetails>()?.SiloAddress.ToParsableString(), Guid.NewGuid().ToString("N"));
        switch (decision.Outcome)
        {
            case IdempotencyOutcome.KeyReused:
                await Deny(context, StatusCodes.Status422UnprocessableEntity, ErrorCodes.IdempotencyKeyReused, "This Idempotency-Key was used with a different request.");
                return;
            case IdempotencyOutcome.InProgress:
                // The first attempt usually answers within a second; one whose silo died frees the key once that death is known
                // (seconds), or after IdempotencyGrain.InProgressLease.
                context.Response.Headers.RetryAfter = "1";
                await Deny(context, StatusCodes.Status409Conflict, ErrorCodes.IdempotencyInProgress, "A request with this Idempotency-Key is still running; retry shortly with the same key and body.");
                return;
            case IdempotencyOutcome.Replay:
                var stored = decision.Response!;
                context.Response.StatusCode = stored.Status;
                context.Response.ContentType = stored.ContentType;
                foreach (var (name, value) in stored.Headers)
                {
                    context.Response.Headers[name] = value;
                }

                context.Response.Headers["Idempotent-Replayed"] = "true";
                await context.Response.WriteAsync(stored.Body, context.RequestAborted);
                return;
        }

        context.SetIdempotentRequest(new IdempotentRequest(idempotencyKey, decision.Generation, fingerprint, scope));
        var original = context.Response.Body;
        using var captured = new MemoryStream();
        context.Response.Body = captured;
        try
        {
            await next(context);
        }
        catch
        {
            context.Response.Body = original;
            await grain.Abandon(fingerprint);
            throw;
        }

        context.Response.Body = original;
        var status = context.Response.StatusCode;
        var body = System.Text.Encoding.UTF8.GetString(captured.ToArray());
        if (status >= 500)
        {
            await grain.Abandon(fingerprint);
        }
        else
        {
            var kept = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (context.Response.Headers.Location.ToString() is { Length: > 0 } location)
            {
                kept["Location"] = location;
            }

            // An answer that must not be cached (one showing a secret) stays so when replayed.
            if (context.Response.Headers.CacheControl.ToString() is { Length: > 0 } cacheControl)
            {
                kept["Cache-Control"] = cacheControl;
            }

            try
            {
                await grain.Complete(fingerprint, new IdempotentResponse(status, context.Response.ContentType ?? "application/json", body, kept));
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                // What the request wrote is stored: a 5xx now would tell the client nothing happened. The key's claim
                // stays stored as started; a retry is replayed this answer by the same activation, or after the lease
                // runs again in the same generation and so reaches the same derived ids.
                logger.LogWarning("{Method} {Path} answered {Status}, but its Idempotency-Key's answer was not stored: {Error}",
                    context.Request.Method, context.Request.Path, status, error.Message);
            }
        }

        captured.Position = 0;
        await captured.CopyToAsync(original, context.RequestAborted);
    }

    private static Task Deny(HttpContext context, int status, string code, string detail) =>
        ApiProblem.Create(status, code, detail).ExecuteAsync(context);
}
