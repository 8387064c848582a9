using System.ComponentModel;
using CryptoPay.Api.Access;
using CryptoPay.Api.Docs;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Invoices;
using CryptoPay.Api.Json;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Sandbox;
using Orleans;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace CryptoPay.Api.Sandbox;

/// <summary>The optional body of <c>POST /v1/sandbox/invoices/{id}/pay</c>.</summary>
public sealed record SandboxPayRequest(
    [property: Description("Amount to pay in the method's asset; default: what is still due. Less is a partial payment, more an overpayment.")] string? Amount = null,
    [property: Description("The payment method to pay with; default: the invoice's first.")] string? Method = null);

public sealed record SandboxPayResponse(string Txid, int OutputIndex, string Method, string Amount, string AmountUnits, InvoiceResponse Invoice);

/// <summary>Test mode: simulate a customer paying an invoice on the sandbox chain.</summary>
public static class SandboxEndpoints
{
    public static IEndpointRouteBuilder MapSandbox(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/v1/sandbox/invoices/{id}/pay", PayAsync).WithTags("Sandbox")
            .ForMerchant(ApiKeyScopes.InvoicesWrite, idempotent: true).Accepts<SandboxPayRequest>(isOptional: true, "application/json", "*/*")
            .WithSummary("Simulate a payment")
            .WithDescription("Pays a test invoice on the sandbox chain, as a customer would; it confirms after the sandbox chain's next block.")
            .Problem(StatusCodes.Status403Forbidden, "FORBIDDEN: also when the key is a live key (simulated payments need a test key).");
        return endpoints;
    }

    /// <summary>Pays <paramref name="units"/> to the method's address on the sandbox chain; the caller checked the invoice is a test invoice.</summary>
    public static async Task<(SandboxOutput Output, InvoiceState Invoice)> SimulateAsync(IGrainFactory grains, Guid invoiceId, InvoicePaymentMethod method, System.Numerics.BigInteger units)
    {
        var output = await grains.GetGrain<ISandboxChainGrain>(SandboxChainGrain.Key).Pay(invoiceId, method.Address!, units);
        // The chain also sends this as a message; recording it now lets the answer show the payment.
        await grains.GetGrain<IInvoiceGrain>(invoiceId).RecordPayment(new PaymentObservation(output.Address, output.Txid, output.OutputIndex, output.AmountUnits, 0));
        return (output, (await grains.GetGrain<IInvoiceGrain>(invoiceId).Get())!);
    }

    private static async Task<Results<Ok<SandboxPayResponse>, ProblemHttpResult>> PayAsync(string id, HttpContext context, IGrainFactory grains, IOptions<Access.ApiOptions> api)
    {
        var caller = context.Caller();
        if (await InvoiceEndpoints.FindAsync(grains, caller, id) is not { } invoice)
        {
            return ApiProblem.NotFound("invoice");
        }

        if (caller.Mode != Mode.Test)
        {
            return ApiProblem.Create(StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, "Simulated payments need a test-mode key.");
        }

        var (body, problem) = await JsonBody.ReadAsync(context.Request, allowEmpty: true);
        if (body is null)
        {
            return problem!;
        }

        var methodId = body.String("method", 40);
        var method = methodId is null
            ? invoice.PaymentMethods.FirstOrDefault()
            : invoice.PaymentMethods.Find(m => string.Equals(m.Method, methodId, StringComparison.OrdinalIgnoreCase));
        if (method?.Address is null)
        {
            body.Fail("method", methodId is null ? "the invoice has no payment method to pay." : $"the invoice offers no '{methodId}' method.");
        }

        var amount = body.Decimal("amount", formatCode: ErrorCodes.InvalidAmountFormat);
        if (method is not null && amount is { } a && (a <= 0 || a > 1_000_000_000m || Amounts.Scale(a) > method.Decimals))
        {
            body.Fail("amount", $"must be positive with at most {method.Decimals} decimals.", ErrorCodes.InvalidAmountRange);
        }

        if (!body.IsValid)
        {
            return body.Problem();
        }

        var units = amount is { } paid ? Amounts.ToUnits(paid, method!.Decimals) : method!.AmountUnits - method.PaidUnits;
        if (units <= 0)
        {
            units = method.AmountUnits;
        }

        var (output, updated) = await SimulateAsync(grains, invoice.Id, method, units);
        return TypedResults.Ok(new SandboxPayResponse(
            output.Txid, output.OutputIndex, method.Method, Amounts.Format(Amounts.FromUnits(units, method.Decimals), method.Decimals),
            units.ToString(System.Globalization.CultureInfo.InvariantCulture), updated.ToResponse(InvoiceEndpoints.CheckoutBase(context, api.Value), context.PaymentUris())));
    }
}
