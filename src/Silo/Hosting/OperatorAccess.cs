using System.Net.Http.Headers;
using System.Text;
using CryptoPay.Api.Access;
using CryptoPay.Api.Errors;
using Microsoft.Extensions.Options;

namespace CryptoPay.Silo.Hosting;

/// <summary>The operator's gate, for the Orleans Dashboard, /v1/cluster/* and /metrics: every request needs the operator admin key.</summary>
internal static class OperatorAccess
{
    /// <summary>
    /// An endpoint filter: the key (Admin:ApiKey) as a bearer token, <c>x-api-key</c> or a basic-auth password, else
    /// 401 UNAUTHORIZED with a Basic challenge, so a browser prompts for it.
    /// </summary>
    public static async ValueTask<object?> RequireAdminKeyAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        Refusal(context.HttpContext) ?? await next(context);

    /// <summary>The same gate as middleware, for endpoints that are a pipeline rather than a handler (/metrics).</summary>
    public static IApplicationBuilder UseAdminKey(this IApplicationBuilder branch) =>
        branch.Use(async (context, next) =>
        {
            if (Refusal(context) is { } refusal)
            {
                await refusal.ExecuteAsync(context);
                return;
            }

            await next(context);
        });

    /// <summary>Null when the request carries the admin key; otherwise the 401 to answer.</summary>
    private static IResult? Refusal(HttpContext http)
    {
        var admin = http.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value;
        if (PresentedKey(http.Request) is { } key && admin.Matches(key))
        {
            return null;
        }

        http.Response.Headers.WWWAuthenticate = "Basic realm=\"CryptoPay operator\", charset=\"UTF-8\"";
        return ApiProblem.Create(StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "This endpoint needs the operator admin key (Admin:ApiKey).");
    }

    private static string? PresentedKey(HttpRequest request)
    {
        if (AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var authorization)
            && string.Equals(authorization.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            && authorization.Parameter is { } parameter)
        {
            try
            {
                var credentials = Encoding.UTF8.GetString(Convert.FromBase64String(parameter));
                return credentials[(credentials.IndexOf(':', StringComparison.Ordinal) + 1)..];
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return request.PresentedKey();
    }
}
