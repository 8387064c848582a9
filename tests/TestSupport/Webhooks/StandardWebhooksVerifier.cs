using System.Diagnostics;
using System.Text.Json;
using CryptoPay.TestSupport.Evm;

namespace CryptoPay.TestSupport.Webhooks;

/// <summary>The outcome of verifying one delivery: whether it verified, and the library's answer (the payload, or why not).</summary>
public sealed record WebhookVerification(bool Verified, string Output);

/// <summary>
/// Verifies webhook deliveries with the npm <c>standardwebhooks</c> package pinned in tests/TestSupport/node (through its
/// verify-webhook.cjs): the reference library a merchant would use, not our own signing code checking itself.
/// </summary>
public static class StandardWebhooksVerifier
{
    public static async Task<WebhookVerification> VerifyAsync(string secret, string webhookId, string timestamp, string signature, string body, CancellationToken ct = default)
    {
        NodeTools.PackageFile("standardwebhooks", "package.json");
        var startInfo = new ProcessStartInfo(NodeTools.NodeExecutable())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = NodeTools.Directory,
            ArgumentList = { Path.Combine(NodeTools.Directory, "verify-webhook.cjs") },
        };
        using var verifier = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start node for standardwebhooks.");
        var stdout = verifier.StandardOutput.ReadToEndAsync(ct);
        var stderr = verifier.StandardError.ReadToEndAsync(ct);
        var input = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["secret"] = secret,
            ["headers"] = new Dictionary<string, string>
            {
                ["webhook-id"] = webhookId,
                ["webhook-timestamp"] = timestamp,
                ["webhook-signature"] = signature,
            },
            ["body"] = body,
        });
        await verifier.StandardInput.WriteAsync(input.AsMemory(), ct);
        verifier.StandardInput.Close();
        await verifier.WaitForExitAsync(ct);
        return verifier.ExitCode switch
        {
            0 => new WebhookVerification(true, await stdout),
            1 => new WebhookVerification(false, await stdout),
            _ => throw new InvalidOperationException($"verify-webhook.cjs failed (exit code {verifier.ExitCode}):\n{await stderr}"),
        };
    }
}
