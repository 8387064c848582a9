using System.Diagnostics;
using CryptoPay.TestSupport.Evm;

namespace CryptoPay.TestSupport.Processes;

/// <summary>
/// Runs a client code sample from an API document as its reader would: a Node.js module with <c>node</c>, a Python
/// script with <c>python3</c>. Answers what it printed; a sample that fails fails the test with its stderr.
/// </summary>
public static class SampleScripts
{
    public static Task<string> RunNodeAsync(string module, CancellationToken ct = default) =>
        RunAsync(NodeTools.NodeExecutable(), ".mjs", module, ct);

    public static Task<string> RunPythonAsync(string script, CancellationToken ct = default) =>
        RunAsync(Executable("python3", "python3 was not found on PATH. Run ./test.sh from the repository root: it installs python3 and python3-requests."), ".py", script, ct);

    private static async Task<string> RunAsync(string executable, string extension, string code, CancellationToken ct)
    {
        var file = Path.Combine(Path.GetTempPath(), $"cryptopay-sample-{Guid.NewGuid():N}{extension}");
        await File.WriteAllTextAsync(file, code, ct);
        try
        {
            var startInfo = new ProcessStartInfo(executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                ArgumentList = { file },
            };
            using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {executable}.");
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            return process.ExitCode == 0
                ? await stdout
                : throw new InvalidOperationException($"{Path.GetFileName(executable)} {extension} sample failed (exit code {process.ExitCode}):\n{await stderr}");
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static string Executable(string name, string missing) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists) ?? throw new InvalidOperationException(missing);
}
