using System.Data.Common;
using System.Net.Sockets;
using CryptoPay.Api.Errors;
using CryptoPay.Grains.Hosting;
using Microsoft.AspNetCore.Diagnostics;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using Orleans.Storage;

namespace CryptoPay.Silo.Hosting;

/// <summary>
/// A request that fails because the cluster or the database cannot serve it right now gets 503 with Retry-After and the
/// machine code SERVICE_UNAVAILABLE, so clients and the load balancer retry (with the same Idempotency-Key, which
/// reaches the same invoice); anything else stays a 500. Unavailable means: PostgreSQL unreachable or failing at the
/// connection level (Npgsql's DbException, a socket error), the silo that hosted the grain died or is leaving
/// (SiloUnavailableException), Orleans refused the message (stopping silo, overloaded gateway, broken connection),
/// a grain call timed out, a grain's database failure crossed a silo (StoreUnavailableException), or the grain was
/// reloading after a save that failed (InconsistentStateException).
/// </summary>
internal sealed class UnavailableExceptionHandler(IProblemDetailsService problemDetails, ILogger<UnavailableExceptionHandler> logger) : IExceptionHandler
{
    /// <summary>Seconds a client waits before retrying: long enough for Orleans to declare a dead silo (docs/ORLEANS.md: within 10 s).</summary>
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var detail = Describe(exception);
        if (detail is null)
        {
            return false;
        }

        logger.LogWarning("{Method} {Path} answered 503: {Reason}", httpContext.Request.Method, httpContext.Request.Path, exception.Message);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Service unavailable",
                Detail = detail,
                Extensions = { ["code"] = ErrorCodes.ServiceUnavailable },
            },
        });
    }

    /// <summary>What a client may be told about an unavailability found anywhere in the error's causes; null when it is none.</summary>
    internal static string? Describe(Exception exception)
    {
        foreach (var error in Causes(exception))
        {
            var detail = error switch
            {
                DbException or SocketException or StoreUnavailableException => "The database did not answer.",
                InconsistentStateException => "The object was being reloaded after a failed save; retry.",
                SiloUnavailableException => "The silo serving this request is unavailable; retry.",
                OrleansMessageRejectionException or GatewayTooBusyException or ConnectionFailedException => "The cluster could not take this request now; retry.",
                TimeoutException => "The cluster did not answer in time; retry.",
                _ => null,
            };
            if (detail is not null)
            {
                return detail;
            }
        }

        return null;
    }

    private static IEnumerable<Exception> Causes(Exception exception)
    {
        var pending = new Stack<Exception>([exception]);
        while (pending.TryPop(out var error))
        {
            yield return error;
            if (error is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    pending.Push(inner);
                }
            }
            else if (error.InnerException is { } inner)
            {
                pending.Push(inner);
            }
        }
    }
}
