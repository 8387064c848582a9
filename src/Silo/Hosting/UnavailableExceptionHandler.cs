using System.Data.Common;
using Microsoft.AspNetCore.Diagnostics;
using SiloUnavailableException = CryptoPay.Runtime.Grains.SiloUnavailableException;

namespace CryptoPay.Silo.Hosting;

/// <summary>
/// A request that fails because this silo is stopping or the database is unreachable gets 503, so
/// clients and the load balancer retry elsewhere; anything else stays a 500.
/// </summary>
internal sealed class UnavailableExceptionHandler(IProblemDetailsService problemDetails, ILogger<UnavailableExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var detail = exception switch
        {
            SiloUnavailableException => exception.Message,
            _ when TransientCallRetry.IsTransient(exception) => "A silo of the cluster stopped; its work moves to another within seconds.",
            DbException => "The database did not answer.",
            _ => null,
        };
        if (detail is null)
        {
            return false;
        }

        logger.LogWarning("{Method} {Path} answered 503: {Reason}", httpContext.Request.Method, httpContext.Request.Path, exception.Message);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = "1";
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = StatusCodes.Status503ServiceUnavailable, Title = "Service unavailable", Detail = detail },
        });
    }
}
