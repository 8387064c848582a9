using CryptoPay.Api.Errors;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace CryptoPay.Api.Docs;

/// <summary>
/// Lists the stable problem codes in the document and adds the answers every operation can give
/// without its handler running: 405 for another method on its path, 415 for a non-JSON body.
/// </summary>
internal sealed class ProblemCodesTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info ??= new OpenApiInfo();
        document.Info.Description =
            "Errors are RFC 9457 application/problem+json bodies {type, title, status, detail, code, errors, request_id}. " +
            "`code` is one of: " + string.Join(", ", ErrorCodes.All) + ". " +
            "A known path asked with another method answers 405 METHOD_NOT_ALLOWED with an Allow header; " +
            "a POST or PATCH body sent with a Content-Type other than application/json, or in a charset other than UTF-8, answers 415 UNSUPPORTED_MEDIA_TYPE.";
        foreach (var path in document.Paths.Values)
        {
            foreach (var (method, operation) in path.Operations ?? [])
            {
                // Endpoints declare */* only so the router leaves media types to the gate (a 415 problem after the key
                // check); the document says what the gate accepts.
                operation.RequestBody?.Content?.Remove("*/*");
                operation.Responses ??= [];
                operation.Responses.TryAdd("405", new OpenApiResponse { Description = "METHOD_NOT_ALLOWED: the path exists with other methods, listed in Allow." });
                if (method == HttpMethod.Post || method == HttpMethod.Patch)
                {
                    operation.Responses.TryAdd("415", new OpenApiResponse { Description = "UNSUPPORTED_MEDIA_TYPE: the body must be application/json in UTF-8." });
                }
            }
        }

        return Task.CompletedTask;
    }
}
