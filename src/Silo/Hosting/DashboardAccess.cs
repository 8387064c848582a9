using System.Net.Http.Headers;
using System.Text;
using CryptoPay.Api.Access;
using Microsoft.Extensions.Options;

namespace CryptoPay.Silo.Hosting;

/// <summary>The Orleans Dashboard's gate: every request needs the operator admin key.</summary>
internal static class DashboardAccess
{
    public static async ValueTask<object?> RequireAdminKeyAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var admin = http.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value;
        if (PresentedKey(http.Request) is { } key && admin.Matches(key))
        {
            return await next(context);
        }

        http.Response.Headers.WWWAuthenticate = "Basic realm=\"Orleans Dashboard\", charset=\"UTF-8\"";
        return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: "The dashboard needs the operator admin key.");
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
