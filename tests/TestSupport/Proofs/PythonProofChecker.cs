using System.Diagnostics;
using System.Reflection;

namespace CryptoPay.TestSupport.Proofs;

/// <summary>The checker's verdict: exit code 0 (every check passed) or 1 (a check failed), its check lines, and the failure on stderr.</summary>
public sealed record PayoutProofCheck(int ExitCode, string Output, string Error)
{
    public bool Passed => ExitCode == 0;
}

/// <summary>
/// Runs tests/TestSupport/python/verify_payout_proof.py — the checker a merchant runs, written from the spec in
/// docs/PROOFS.md with Python's standard library only — so our proofs are checked by code that shares nothing with ours.
/// </summary>
public static class PythonProofChecker
{
    /// <summary>tests/TestSupport/python in the source tree this assembly was built from.</summary>
    public static string ScriptsDirectory { get; } =
        typeof(PythonProofChecker).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "CryptoPay.TestSupport.PythonScriptsDirectory")?.Value
        ?? throw new InvalidOperationException("TestSupport was built without its PythonScriptsDirectory metadata.");

    public static string Script => Path.Combine(ScriptsDirectory, "verify_payout_proof.py");

    /// <summary>Writes <paramref name="proofJson"/> to a temporary file and checks it against the node at <paramref name="rpc"/>.</summary>
    /// <exception cref="InvalidOperationException">python3 is missing, or the checker could not ask the node (exit code 2) or crashed.</exception>
    public static async Task<PayoutProofCheck> CheckAsync(string proofJson, Uri rpc, string user, string password, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(rpc);
        var file = Path.Combine(Path.GetTempPath(), $"payout-proof-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, proofJson, ct);
        try
        {
            var startInfo = new ProcessStartInfo(Python3())
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                ArgumentList = { Script, file, "--rpc", rpc.ToString(), "--user", user, "--password", password },
            };
            using var checker = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start python3 for the payout proof checker.");
            var stdout = checker.StandardOutput.ReadToEndAsync(ct);
            var stderr = checker.StandardError.ReadToEndAsync(ct);
            await checker.WaitForExitAsync(ct);
            return checker.ExitCode switch
            {
                0 or 1 => new PayoutProofCheck(checker.ExitCode, await stdout, await stderr),
                // Not a verdict on the proof: a test expecting a failed check must not pass because the node was unreachable.
                var code => throw new InvalidOperationException($"verify_payout_proof.py could not check the proof (exit code {code}):\n{await stdout}{await stderr}"),
            };
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The <c>python3</c> executable on PATH.</summary>
    private static string Python3()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "python3"))
            .FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException(
                "python3 was not found on PATH. Run ./test.sh from the repository root: it installs Debian's python3 " +
                "package, then runs the tests.");
    }
}
