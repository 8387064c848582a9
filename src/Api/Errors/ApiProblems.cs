using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CryptoPay.Api.Errors;

/// <summary>The stable machine codes of API.md.</summary>
public static class ErrorCodes
{
    public const string InvalidAmountFormat = "INVALID_AMOUNT_FORMAT";
    public const string InvalidAmountRange = "INVALID_AMOUNT_RANGE";
    public const string UnsupportedCurrency = "UNSUPPORTED_CURRENCY";
    public const string UnsupportedNetwork = "UNSUPPORTED_NETWORK";
    public const string ValidationFailed = "VALIDATION_FAILED";
    public const string OrderIdExists = "ORDER_ID_EXISTS";
    public const string NameExists = "NAME_EXISTS";
    public const string AmountBelowMinimum = "AMOUNT_BELOW_MINIMUM";
    public const string IdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED";
    public const string IdempotencyInProgress = "IDEMPOTENCY_IN_PROGRESS";
    public const string Unauthorized = "UNAUTHORIZED";
    public const string Forbidden = "FORBIDDEN";
    public const string NotFound = "NOT_FOUND";
    public const string RateLimited = "RATE_LIMITED";
    public const string MethodNotAllowed = "METHOD_NOT_ALLOWED";
    public const string UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE";
    public const string RequestHeadersTooLarge = "REQUEST_HEADERS_TOO_LARGE";
    public const string UriTooLong = "URI_TOO_LONG";
    public const string RatesUnavailable = "RATES_UNAVAILABLE";
    public const string InvalidStateTransition = "INVALID_STATE_TRANSITION";
    public const string InsufficientBalance = "INSUFFICIENT_BALANCE";
    public const string SettlementPending = "SETTLEMENT_PENDING";
    public const string ProofNotReady = "PROOF_NOT_READY";
    public const string InvalidAddress = "INVALID_ADDRESS";
    public const string WithdrawalsDisabledInSandbox = "WITHDRAWALS_DISABLED_IN_SANDBOX";
    public const string ServiceUnavailable = "SERVICE_UNAVAILABLE";
    public const string InternalError = "INTERNAL_ERROR";

    /// <summary>Every code a problem can carry, for the OpenAPI document.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        InvalidAmountFormat, InvalidAmountRange, UnsupportedCurrency, UnsupportedNetwork, ValidationFailed, OrderIdExists, NameExists,
        AmountBelowMinimum, IdempotencyKeyReused, IdempotencyInProgress, Unauthorized, Forbidden, NotFound, MethodNotAllowed, UnsupportedMediaType,
        RequestHeadersTooLarge, UriTooLong, RateLimited, RatesUnavailable, InvalidStateTransition, InsufficientBalance, InvalidAddress, WithdrawalsDisabledInSandbox,
        ServiceUnavailable, InternalError,
    ];

    /// <summary>The code of a problem that did not name one (routing, status code pages, framework errors).</summary>
    public static string ForStatus(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => Unauthorized,
        StatusCodes.Status403Forbidden => Forbidden,
        StatusCodes.Status404NotFound => NotFound,
        StatusCodes.Status405MethodNotAllowed => MethodNotAllowed,
        StatusCodes.Status414UriTooLong => UriTooLong,
        StatusCodes.Status415UnsupportedMediaType => UnsupportedMediaType,
        StatusCodes.Status431RequestHeaderFieldsTooLarge => RequestHeadersTooLarge,
        StatusCodes.Status429TooManyRequests => RateLimited,
        StatusCodes.Status503ServiceUnavailable => ServiceUnavailable,
        >= 500 => InternalError,
        _ => ValidationFailed,
    };
}

/// <summary>RFC 9457 problem results carrying a <c>code</c> (request_id is added for every problem by the options).</summary>
public static class ApiProblem
{
    public static ProblemHttpResult Create(int status, string code, string detail, IDictionary<string, string[]>? errors = null, IDictionary<string, object?>? extra = null)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = code };
        if (errors is { Count: > 0 })
        {
            extensions["errors"] = errors;
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, object?>())
        {
            extensions[key] = value;
        }

        return TypedResults.Problem(detail: detail, statusCode: status, title: TitleOf(status), type: $"https://cryptopay.dev/problems/{code.ToLowerInvariant().Replace('_', '-')}", extensions: extensions);
    }

    public static ProblemHttpResult NotFound(string what) => Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"No {what} with that id.");

    public static ProblemHttpResult Validation(string code, IDictionary<string, string[]> errors) =>
        Create(StatusCodes.Status400BadRequest, code, string.Join(" ", errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}"))), errors);

    public static ProblemHttpResult Invalid(string field, string message, string code = ErrorCodes.ValidationFailed) =>
        Validation(code, new Dictionary<string, string[]> { [field] = [message] });

    public static string TitleOf(int status) => status switch
    {
        400 => "Bad request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        409 => "Conflict",
        413 => "Request too large",
        414 => "Request target too long",
        415 => "Unsupported media type",
        422 => "Unprocessable request",
        429 => "Too many requests",
        431 => "Request headers too large",
        503 => "Service unavailable",
        _ => "Error",
    };
}
