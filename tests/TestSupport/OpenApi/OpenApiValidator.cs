using System.Diagnostics;
using CryptoPay.TestSupport.Evm;

namespace CryptoPay.TestSupport.OpenApi;

/// <summary>The validator's verdict on a document, and what it printed (the errors when invalid).</summary>
public sealed record OpenApiValidation(bool Valid, string Report);

/// <summary>
/// Checks an OpenAPI document with an independent validator: @seriousme/openapi-schema-validator, pinned in
/// tests/TestSupport/node, which tests it against the official OpenAPI JSON Schema of its version and resolves every $ref.
/// </summary>
public static class OpenApiValidator
{
    public static async Task<OpenApiValidation> ValidateAsync(string documentJson, CancellationToken ct = default)
    {
        NodeTools.PackageFile("@seriousme/openapi-schema-validator", "package.json");
        var file = Path.Combine(Path.GetTempPath(), $"openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, documentJson, ct);
        try
        {
            var startInfo = new ProcessStartInfo(NodeTools.NodeExecutable())
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = NodeTools.Directory,
                ArgumentList = { Path.Combine(NodeTools.Directory, "validate-openapi.mjs"), file },
            };
            using var validator = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start node for the OpenAPI validator.");
            var stdout = validator.StandardOutput.ReadToEndAsync(ct);
            var stderr = validator.StandardError.ReadToEndAsync(ct);
            await validator.WaitForExitAsync(ct);
            return validator.ExitCode switch
            {
                0 => new OpenApiValidation(true, await stdout),
                1 => new OpenApiValidation(false, await stdout),
                var code => throw new InvalidOperationException($"The OpenAPI validator failed (exit code {code}):\n{await stderr}"),
            };
        }
        finally
        {
            File.Delete(file);
        }
    }
}
