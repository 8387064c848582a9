using System.Diagnostics;

namespace CryptoPay.TestSupport.Nodes;

/// <summary>
/// One chain-node process (litecoind, ganache) run from its scratch directory, with its output kept for failure
/// messages and its PID registered with <see cref="NodeProcessReaper"/>.
/// </summary>
internal sealed class NodeProcess
{
    private readonly Process _process;

    private NodeProcess(Process process, string scratchDirectory, OutputTail output)
    {
        _process = process;
        ScratchDirectory = scratchDirectory;
        Output = output;
    }

    public string ScratchDirectory { get; }

    public OutputTail Output { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public static NodeProcess Start(string fileName, IReadOnlyList<string> arguments, string scratchDirectory)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = scratchDirectory,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment["LC_ALL"] = "C";
        var output = new OutputTail();
        output.Append($"--- {fileName} {string.Join(' ', arguments)}");
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => output.Append(e.Data);
        process.ErrorDataReceived += (_, e) => output.Append(e.Data);
        try
        {
            if (!process.Start())
            {
                throw new InvalidOperationException($"Could not start {fileName}.");
            }
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            process.Dispose();
            throw new InvalidOperationException($"Could not start {fileName}: {exception.Message}", exception);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var node = new NodeProcess(process, scratchDirectory, output);
        NodeProcessReaper.Track(node);
        return node;
    }

    /// <summary>
    /// Polls <paramref name="probe"/> until it answers true. False when the process exited first (the caller reads
    /// <see cref="Output"/> to tell a taken port from a real failure); throws when <paramref name="timeout"/> passes.
    /// </summary>
    public async Task<bool> WaitUntilReadyAsync(Func<CancellationToken, Task<bool>> probe, TimeSpan timeout, string what, CancellationToken ct)
    {
        var startedAt = Stopwatch.GetTimestamp();
        while (true)
        {
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync(ct);
                return false;
            }

            if (await probe(ct))
            {
                return true;
            }

            if (Stopwatch.GetElapsedTime(startedAt) > timeout)
            {
                throw new TimeoutException($"{what} did not answer within {timeout.TotalSeconds:0} s.\n{Output}");
            }

            await Task.Delay(100, ct);
        }
    }

    /// <summary>Kills the process (a throwaway test node needs no graceful shutdown) and waits for it to go.</summary>
    public async Task StopAsync()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }

        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(wait.Token);
        _process.Dispose();
        NodeProcessReaper.Forget(this);
    }

    /// <summary>Last-resort cleanup from the ProcessExit handler: no waiting beyond a few seconds, no exceptions.</summary>
    internal void KillAndDeleteForProcessExit()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(5));
        }
        catch (Exception exception) when (exception is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Exited or disposed meanwhile.
        }

        Nodes.ScratchDirectory.TryDelete(ScratchDirectory);
    }

    /// <summary>The last lines a node printed, for failure messages.</summary>
    internal sealed class OutputTail
    {
        private const int MaxLines = 300;
        private readonly Lock _gate = new();
        private readonly Queue<string> _lines = new();

        public void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_gate)
            {
                if (_lines.Count == MaxLines)
                {
                    _lines.Dequeue();
                }

                _lines.Enqueue(line);
            }
        }

        public bool Contains(string text)
        {
            lock (_gate)
            {
                return _lines.Any(line => line.Contains(text, StringComparison.Ordinal));
            }
        }

        public override string ToString()
        {
            lock (_gate)
            {
                return string.Join('\n', _lines);
            }
        }
    }
}
