using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Idempotency;
using CryptoPay.Grains.Invoices;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace CryptoPay.Api.Errors;

/// <summary>Client mistakes that surface as exceptions (bad request framing, impossible transitions) become 4xx problems, never 500.</summary>
internal sealed class ApiExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            BadHttpRequestException bad => ApiProblem.Create(bad.StatusCode, ErrorCodes.ForStatus(bad.StatusCode), bad.Message),
            IdempotencyKeyReusedException reused => ApiProblem.Create(StatusCodes.Status422UnprocessableEntity, ErrorCodes.IdempotencyKeyReused, reused.Message),
            InvalidInvoiceTransitionException transition => ApiProblem.Create(StatusCodes.Status409Conflict, ErrorCodes.InvalidStateTransition, transition.Message),
            Grains.Withdrawals.InvalidWithdrawalTransitionException transition => ApiProblem.Create(StatusCodes.Status409Conflict, ErrorCodes.InvalidStateTransition, transition.Message),
            Grains.Settlements.InvalidSettlementTransitionException transition => ApiProblem.Create(StatusCodes.Status409Conflict, ErrorCodes.InvalidStateTransition, transition.Message),
            NetworkNotConfiguredException unconfigured => ApiProblem.Create(StatusCodes.Status400BadRequest, ErrorCodes.UnsupportedNetwork, unconfigured.Message),
            _ => null,
        };
        if (problem is null)
        {
            return false;
        }

        await problem.ExecuteAsync(httpContext);
        return true;
    }
}
