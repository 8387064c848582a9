using System.Collections.Concurrent;
using System.Text;
using CryptoPay.Api.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;

namespace CryptoPay.Api.Routing;

/// <summary>
/// Answers the requests no endpoint accepts: a known path asked with the wrong method (405 with
/// <c>Allow</c>) and a body that is not JSON (415). The fallback route catches every unmatched
/// method, so the allowed methods are found here by matching the path against the route table.
/// </summary>
public sealed class RequestShape(EndpointDataSource endpoints)
{
    private readonly ConcurrentDictionary<string, TemplateMatcher> matchers = new(StringComparer.Ordinal);

    /// <summary>The methods the endpoints at this path accept; empty when the path is unknown.</summary>
    public IReadOnlyList<string> AllowedMethods(PathString path)
    {
        var allowed = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in endpoints.Endpoints.OfType<RouteEndpoint>())
        {
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods;
            var pattern = endpoint.RoutePattern;
            if (methods is not { Count: > 0 } || pattern.RawText is not { } raw || pattern.Parameters.Any(p => p.IsCatchAll))
            {
                continue;
            }

            var matcher = matchers.GetOrAdd(raw, _ => new TemplateMatcher(new RouteTemplate(pattern), new RouteValueDictionary()));
            if (matcher.TryMatch(path, new RouteValueDictionary()))
            {
                allowed.UnionWith(methods);
            }
        }

        return [.. allowed];
    }

    /// <summary>405 for a known path with another method, else null.</summary>
    public ProblemHttpResult? MethodNotAllowed(HttpContext context)
    {
        var allowed = AllowedMethods(context.Request.Path);
        if (allowed.Count == 0)
        {
            return null;
        }

        var list = string.Join(", ", allowed);
        context.Response.Headers.Allow = list;
        return ApiProblem.Create(StatusCodes.Status405MethodNotAllowed, ErrorCodes.MethodNotAllowed, $"{context.Request.Path} accepts {list}, not {context.Request.Method}.");
    }

    /// <summary>Kestrel's default limits, enforced here so that a request over them gets a problem body.</summary>
    public const int MaxHeaderBytes = 32 * 1024;
    public const int MaxHeaderCount = 100;
    public const int MaxTargetLength = 8 * 1024;

    /// <summary>
    /// Kestrel answers a request over its own limits with a bare status and no body, so its limits are set this far
    /// above ours: only requests past these still get Kestrel's empty 431 or 414.
    /// </summary>
    public const int ServerLimitFactor = 8;

    /// <summary>Header values are decoded as UTF-8 with bad bytes replaced (U+FFFD), so they reach the checks that refuse them with a problem.</summary>
    public static readonly Encoding HeaderEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>
    /// 414 for a request target over its limit, 431 for headers over theirs, 400 for a NUL in the query (no filter
    /// holds one, and PostgreSQL text cannot; Kestrel itself refuses one in the path); else null. Runs before routing.
    /// </summary>
    public static ProblemHttpResult? Malformed(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        if (target.Length > MaxTargetLength)
        {
            return ApiProblem.Create(StatusCodes.Status414UriTooLong, ErrorCodes.UriTooLong, $"The request target (path and query) must be at most {MaxTargetLength} characters.");
        }

        var request = context.Request;
        if (request.Query.Any(q => q.Key.Contains('\0', StringComparison.Ordinal) || q.Value.Any(v => v?.Contains('\0', StringComparison.Ordinal) == true)))
        {
            return ApiProblem.Invalid("query", "The query must not contain the NUL character (%00).");
        }

        var (count, bytes) = (0, 0);
        foreach (var (name, values) in request.Headers)
        {
            foreach (var value in values)
            {
                count++;
                bytes += name.Length + HeaderEncoding.GetByteCount(value ?? "") + 4;
            }
        }

        return count > MaxHeaderCount || bytes > MaxHeaderBytes
            ? ApiProblem.Create(StatusCodes.Status431RequestHeaderFieldsTooLarge, ErrorCodes.RequestHeadersTooLarge, $"Send at most {MaxHeaderCount} headers of at most {MaxHeaderBytes} bytes in all.")
            : null;
    }

    /// <summary>The methods whose requests carry a JSON body: POST, PUT and PATCH.</summary>
    public static bool CarriesBody(string method) => HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method);

    /// <summary>415 for a POST, PUT or PATCH whose body is not declared as JSON; a bodiless request passes.</summary>
    public static ProblemHttpResult? UnsupportedMediaType(HttpRequest request)
    {
        if (!CarriesBody(request.Method))
        {
            return null;
        }

        var hasBody = request.ContentLength is > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
        if (request.ContentType is null && !hasBody)
        {
            return null;
        }

        // JSON is UTF-8 (RFC 8259); a body declared in another charset would be misread, so it is refused, not guessed at.
        if (Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var media) &&
            media.MediaType.Value is { } type &&
            (type.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.EndsWith("+json", StringComparison.OrdinalIgnoreCase)) &&
            Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(media.Charset) is var charset &&
            (!charset.HasValue || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        return ApiProblem.Create(StatusCodes.Status415UnsupportedMediaType, ErrorCodes.UnsupportedMediaType,
            $"Send the body as UTF-8 with 'Content-Type: application/json'{(request.ContentType is { Length: > 0 } sent ? $", not '{sent}'" : "")}.");
    }
}
