using System.Diagnostics;
using System.Net;
using CryptoPay.TestSupport.Processes;

namespace CryptoPay.ProcessSupport;

/// <summary>
/// A silo executable (CryptoPay.Silo, or a test host composed like it) running as a real child process,
/// as an operator or orchestrator runs it: <c>dotnet &lt;dll&gt; --urls http://127.0.0.1:&lt;port&gt;</c>,
/// configured by environment variables, stopped by SIGTERM or killed by SIGKILL. Its output is kept for
/// assertions and failure messages. Disposing kills it if it still runs.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private const int StartAttempts = 3;
    private const int MaxKeptLines = 4000;

    /// <summary>Inherited variables that would change how the child is configured; tests set what they mean explicitly.</summary>
    private static readonly string[] ClearedVariablePrefixes =
        ["ConnectionStrings__", "Silo__", "Orleans__", "Logging__", "ASPNETCORE_", "DOTNET_ENVIRONMENT", "URLS", "HTTP_PORTS", "HTTPS_PORTS"];

    private readonly Process process;
    private readonly Lock gate = new();
    private readonly List<string> outputLines = [];
    private readonly List<string> errorLines = [];
    private readonly List<(string Line, TaskCompletionSource Seen)> lineWaiters = [];
    private bool disposed;

    private SiloProcess(Process process, string name, int? port)
    {
        this.process = process;
        Name = name;
        Port = port;
        if (port is { } p)
        {
            BaseAddress = new Uri($"http://127.0.0.1:{p}/");
            Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        }
        else
        {
            Http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        }
    }

    /// <summary>The executable's name, for messages.</summary>
    public string Name { get; }

    public int ProcessId => process.Id;

    /// <summary>The loopback port it was told to listen on; null when it was launched without one.</summary>
    public int? Port { get; }

    public Uri? BaseAddress { get; }

    /// <summary>A client whose base address is the process's URL.</summary>
    public HttpClient Http { get; }

    public bool HasExited => process.HasExited;

    /// <summary>Lines the process wrote to stdout so far.</summary>
    public IReadOnlyList<string> OutputLines
    {
        get
        {
            lock (gate)
            {
                return [.. outputLines];
            }
        }
    }

    /// <summary>Lines the process wrote to stderr so far.</summary>
    public IReadOnlyList<string> ErrorLines
    {
        get
        {
            lock (gate)
            {
                return [.. errorLines];
            }
        }
    }

    /// <summary>Everything it printed, stdout then stderr, for failure messages.</summary>
    public string Output => $"--- {Name} (pid {process.Id}) stdout ---\n{string.Join('\n', OutputLines)}\n--- stderr ---\n{string.Join('\n', ErrorLines)}";

    /// <summary>
    /// Starts the executable on a free loopback port and waits until <paramref name="readyPath"/> answers 200;
    /// picks another port when the chosen one was taken meanwhile.
    /// </summary>
    public static async Task<SiloProcess> StartAsync(
        string assemblyPath,
        IReadOnlyDictionary<string, string?> environment,
        TimeSpan readyTimeout,
        CancellationToken ct,
        string readyPath = "/health/ready")
    {
        for (var attempt = 1; ; attempt++)
        {
            // Each silo process hosts Orleans too: its silo-to-silo and client gateway ports must be its own.
            var (port, siloPort, gatewayPort) = LoopbackPort.PickFree(3) is [var http, var silo, var gateway] ? (http, silo, gateway) : throw new InvalidOperationException();
            var started = Launch(assemblyPath, ["--urls", $"http://127.0.0.1:{port}", $"--Orleans:SiloPort={siloPort}", $"--Orleans:GatewayPort={gatewayPort}", "--Orleans:AdvertisedAddress=127.0.0.1"], environment, port);
            try
            {
                await started.WaitUntilReadyAsync(readyPath, readyTimeout, ct);
                return started;
            }
            catch (InvalidOperationException) when (attempt < StartAttempts && started.Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await started.DisposeAsync();
            }
            catch
            {
                await started.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Launches <c>dotnet &lt;assemblyPath&gt; &lt;arguments&gt;</c> in the assembly's directory and returns at once.</summary>
    public static SiloProcess Launch(
        string assemblyPath,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?> environment,
        int? port = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var startInfo = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            // WebApplication reads appsettings.json from the working directory, as in the container.
            WorkingDirectory = Path.GetDirectoryName(Path.GetFullPath(assemblyPath))!,
        };
        startInfo.ArgumentList.Add(assemblyPath);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var key in startInfo.Environment.Keys.Where(k => ClearedVariablePrefixes.Any(p => k.StartsWith(p, StringComparison.OrdinalIgnoreCase))).ToList())
        {
            startInfo.Environment.Remove(key);
        }

        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                startInfo.Environment.Remove(key);
            }
            else
            {
                startInfo.Environment[key] = value;
            }
        }

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var silo = new SiloProcess(process, Path.GetFileNameWithoutExtension(assemblyPath), port);
        process.OutputDataReceived += (_, e) => silo.Keep(silo.outputLines, e.Data);
        process.ErrorDataReceived += (_, e) => silo.Keep(silo.errorLines, e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {startInfo.FileName} {assemblyPath}.");
        }

        ChildProcessReaper.Track(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    /// <summary>Polls <paramref name="path"/> until it answers 200; fails with the process output if it exits or time runs out.</summary>
    public async Task WaitUntilReadyAsync(string path, TimeSpan timeout, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        string last = "no answer yet";
        while (true)
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync(ct);
                throw new InvalidOperationException($"{Name} exited with code {process.ExitCode} before {path} answered 200.\n{Output}");
            }

            try
            {
                using var probe = CancellationTokenSource.CreateLinkedTokenSource(ct);
                probe.CancelAfter(TimeSpan.FromSeconds(5));
                using var response = await Http.GetAsync(path, probe.Token);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(probe.Token)}";
            }
            catch (Exception error) when (error is HttpRequestException || (error is OperationCanceledException && !ct.IsCancellationRequested))
            {
                last = error.Message;
            }

            if (started.Elapsed > timeout)
            {
                throw new TimeoutException($"{Name} did not answer 200 on {path} within {timeout.TotalSeconds:0} s (last: {last}).\n{Output}");
            }

            await Task.Delay(100, ct);
        }
    }

    /// <summary>Waits for the process to end and returns its exit code; fails with its output when it runs past <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"{Name} did not exit within {timeout.TotalSeconds:0} s.\n{Output}");
        }

        return process.ExitCode;
    }

    /// <summary>Sends SIGTERM: the graceful stop an orchestrator asks for.</summary>
    public void Terminate() => NativeSignals.Terminate(process.Id);

    /// <summary>SIGSTOP: the process hangs with its sockets open until the returned handle is disposed (SIGCONT).</summary>
    public IDisposable Suspend()
    {
        NativeSignals.Stop(process.Id);
        return new Resumption(process.Id);
    }

    /// <summary>SIGKILL of the process and its children: a crash, nothing is drained or released.</summary>
    public void Kill()
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It has already exited.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        Kill();
        try
        {
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            // Killed but not yet reaped; the kernel finishes it without us.
        }

        ChildProcessReaper.Forget(process);
        Http.Dispose();
        process.Dispose();
    }

    /// <summary>
    /// Waits until the process prints <paramref name="line"/> on stdout (at once if it did already); throws when it
    /// exits first or <paramref name="timeout"/> passes.
    /// </summary>
    public async Task WaitForOutputLineAsync(string line, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (gate)
        {
            if (outputLines.Contains(line))
            {
                return;
            }

            lineWaiters.Add((line, seen));
        }

        var first = await Task.WhenAny(seen.Task, process.WaitForExitAsync()).WaitAsync(timeout);
        if (first != seen.Task)
        {
            throw new InvalidOperationException($"{Name} exited before printing '{line}'.");
        }
    }

    private void Keep(List<string> lines, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (gate)
        {
            if (lines.Count == MaxKeptLines)
            {
                lines.RemoveAt(0);
            }

            lines.Add(line);
            if (lines == outputLines)
            {
                foreach (var waiter in lineWaiters.Where(w => w.Line == line).ToList())
                {
                    lineWaiters.Remove(waiter);
                    waiter.Seen.TrySetResult();
                }
            }
        }
    }

    private static string DotnetHost()
    {
        var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk))
        {
            return fromSdk;
        }

        var current = Environment.ProcessPath;
        return current is not null && string.Equals(Path.GetFileNameWithoutExtension(current), "dotnet", StringComparison.Ordinal)
            ? current
            : "dotnet";
    }

    private sealed class Resumption(int processId) : IDisposable
    {
        public void Dispose() => NativeSignals.Continue(processId);
    }
}
