using System.Text.Json;
using System.Text.Json.Serialization;
using CryptoPay.Api.Access;
using CryptoPay.Api.Balances;
using CryptoPay.Api.Checkout;
using CryptoPay.Api.Compatibility;
using CryptoPay.Api.Docs;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Invoices;
using CryptoPay.Api.Merchants;
using CryptoPay.Api.PaymentLinks;
using CryptoPay.Api.Rates;
using CryptoPay.Api.Routing;
using CryptoPay.Api.Sandbox;
using CryptoPay.Api.Webhooks;
using CryptoPay.Api.Settlements;
using CryptoPay.Api.Withdrawals;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Rates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CryptoPay.Api.Hosting;

public static class ApiHostingExtensions
{
    /// <summary>
    /// The merchant API's services: JSON conventions, problem details with code and request_id,
    /// admin key ("Admin" section), limits ("Api"), rates ("Rates", validated at start-up), OpenAPI.
    /// </summary>
    public static IServiceCollection AddCryptoPayApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AdminOptions>().Bind(configuration.GetSection("Admin"));
        services.AddOptions<ApiOptions>().Bind(configuration.GetSection("Api"))
            .Validate(o => o.RateLimitPerMinute > 0, "Api:RateLimitPerMinute must be positive.")
            .Validate(o => o.EventsPollInterval > TimeSpan.Zero && o.EventsHeartbeatInterval > TimeSpan.Zero, "Api:EventsPollInterval and Api:EventsHeartbeatInterval must be positive.")
            .ValidateOnStart();
        services.AddOptions<RateOptions>().Bind(configuration.GetSection("Rates"))
            .Validate(o =>
            {
                o.Validate();
                return true;
            }).ValidateOnStart();
        services.AddGatewayClock();
        services.AddSingleton<RequestRateLimiter>();
        services.AddSingleton<RequestShape>();
        services.AddSingleton<KeyCache>();
        services.AddSingleton<MerchantOnboarding>();
        services.AddSingleton<CryptoPay.Grains.Webhooks.IWebhookPayloadRenderer, ApiInvoiceRenderer>();
        services.AddCompatibilityProfiles();
        services.AddHttpClient<HttpRateProvider>();
        services.AddSingleton<IRateProvider>(sp => sp.GetRequiredService<IOptions<RateOptions>>().Value.Source == "http"
            ? sp.GetRequiredService<HttpRateProvider>()
            : ActivatorUtilities.CreateInstance<StaticRateProvider>(sp));
        // Invoices are priced at these rates: the one creation path lives with them.
        services.AddSingleton<CryptoPay.Grains.Invoices.InvoiceCreation>();
        services.AddOptions<CryptoPay.Grains.Withdrawals.WithdrawalOptions>().Bind(configuration.GetSection("Withdrawals"))
            .Validate(o =>
            {
                o.Validate();
                return true;
            }).ValidateOnStart();
        services.AddSingleton<CryptoPay.Grains.Withdrawals.WithdrawalRequests>();
        services.Configure<KestrelServerOptions>(o =>
        {
            o.Limits.MaxRequestBodySize = Json.JsonBody.MaxBytes;
            o.Limits.MaxRequestHeadersTotalSize = RequestShape.MaxHeaderBytes * RequestShape.ServerLimitFactor;
            o.Limits.MaxRequestHeaderCount = RequestShape.MaxHeaderCount * RequestShape.ServerLimitFactor;
            o.Limits.MaxRequestLineSize = RequestShape.MaxTargetLength * RequestShape.ServerLimitFactor;
            o.RequestHeaderEncodingSelector = _ => RequestShape.HeaderEncoding;
        });
        services.ConfigureHttpJsonOptions(o => Configure(o.SerializerOptions));
        // First among the writers: a compatibility profile's endpoints answer problems in the profile's own error shape.
        services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, Compatibility.ProfileProblemWriter>());
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            var extensions = context.ProblemDetails.Extensions;
            extensions["request_id"] = context.HttpContext.TraceIdentifier;
            var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
            extensions.TryAdd("code", ErrorCodes.ForStatus(status));
            context.ProblemDetails.Title ??= ApiProblem.TitleOf(status);
            extensions.Remove("traceId");
        });
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.AddOpenApi(o =>
        {
            // The merchant API only: the gate's endpoints. The Orleans dashboard and the cluster view are operator tools of the silo.
            o.ShouldInclude = description => description.ActionDescriptor.EndpointMetadata.OfType<ApiAccess>().Any();
            o.AddSchemaTransformer<IntegerSchemaTransformer>();
            o.AddOperationTransformer<OperationDocsTransformer>();
            o.AddDocumentTransformer<ApiDocumentTransformer>();
        });
        return services;
    }

    /// <summary>Maps the merchant API under /v1, the OpenAPI document, /docs, and a problem 404 for anything else.</summary>
    public static WebApplication MapCryptoPayApi(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            context.Response.Headers["X-Request-Id"] = context.TraceIdentifier;
            context.Response.OnStarting(() =>
            {
                // A refused oversized body is left unread and the server drops the connection after answering;
                // saying so keeps clients from sending their next request on a connection about to close.
                if (context.Response.StatusCode == StatusCodes.Status413PayloadTooLarge)
                {
                    context.Response.Headers.Connection = "close";
                }

                return Task.CompletedTask;
            });
            if (RequestShape.Malformed(context) is { } refused)
            {
                await refused.ExecuteAsync(context);
                return;
            }

            await next(context);
        });
        app.UseStatusCodePages();
        app.UseRouting();
        app.UseMiddleware<ApiGateMiddleware>();
        app.MapMerchants();
        app.MapInvoices();
        app.MapBalances();
        app.MapWithdrawals();
        app.MapBeneficiaries();
        app.MapSettlements();
        app.MapSettlementSettings();
        app.MapSandbox();
        app.MapRates();
        app.MapWebhooks();
        app.MapCheckout();
        app.MapPaymentLinks();
        app.MapCompatibilityProfiles();
        app.MapOpenApi().WithMetadata(new ApiAccess(AccessKind.Public));
        app.MapGet("/docs", () => TypedResults.Stream(typeof(ApiHostingExtensions).Assembly.GetManifestResourceStream("CryptoPay.Api.Docs.docs.html")!, "text/html; charset=utf-8"))
            .Public().ExcludeFromDescription();
        app.MapFallback((HttpContext context, RequestShape shape) => shape.MethodNotAllowed(context)
                ?? ApiProblem.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"No endpoint at {context.Request.Method} {context.Request.Path}."))
            .ExcludeFromDescription();
        return app;
    }

    /// <summary>snake_case names and enum values, nulls kept (the contract lists every field).</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        return options;
    }
}
