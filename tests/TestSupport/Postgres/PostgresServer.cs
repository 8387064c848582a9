using System.Diagnostics;
using System.Text.RegularExpressions;
using CryptoPay.TestSupport.Processes;
using Npgsql;

namespace CryptoPay.TestSupport.Postgres;

/// <summary>
/// A real PostgreSQL server in a fresh temporary data directory, listening on a free loopback port,
/// that tests can stop, restart (fast or immediate, i.e. crash-like) and throw away.
/// </summary>
public sealed partial class PostgresServer : IAsyncDisposable
{
    private const string ServerUser = "postgres";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly PostgresBinaries binaries;
    private readonly bool runAsServerUser;
    private readonly ServerLog log = new();
    private readonly SemaphoreSlim lifecycle = new(1, 1);
    private Process? process;
    private int port;
    private bool disposed;

    private PostgresServer(PostgresBinaries binaries, string dataDirectory, bool runAsServerUser)
    {
        this.binaries = binaries;
        this.runAsServerUser = runAsServerUser;
        DataDirectory = dataDirectory;
    }

    /// <summary>The loopback TCP port; the same across restarts.</summary>
    public int Port => port;

    /// <summary>Connection string to the <c>postgres</c> database as user <c>postgres</c>.</summary>
    public string ConnectionString => ConnectionStringFor("postgres");

    /// <summary>The server's data directory under /tmp; deleted on dispose.</summary>
    public string DataDirectory { get; }

    /// <summary>Whether the server process is currently running.</summary>
    public bool IsRunning => process is { HasExited: false };

    /// <summary>The last lines the server (and initdb) printed, for failure messages.</summary>
    public string Log => log.ToString();

    /// <summary>
    /// Creates a data directory with initdb and starts a server on it. Throws, never skips, when PostgreSQL is
    /// not installed: <c>./test.sh</c> installs it.
    /// </summary>
    public static async Task<PostgresServer> StartAsync(CancellationToken ct = default)
    {
        var binaries = PostgresBinaries.Locate();
        // PostgreSQL refuses to run as root, so as root the server runs as the postgres OS user.
        var runAsServerUser = Environment.IsPrivilegedProcess;
        if (runAsServerUser)
        {
            await EnsureServerUserExistsAsync(ct);
        }

        await PostgresProcessReaper.SweepOrphansAsync(ct);
        var server = new PostgresServer(binaries, PostgresProcessReaper.NewDataDirectory(), runAsServerUser);
        PostgresProcessReaper.Track(server);
        try
        {
            await server.InitializeDataDirectoryAsync(ct);
            await server.StartOnFreePortAsync(ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates an empty database and returns a connection string to it.</summary>
    /// <param name="name">A lower-case SQL identifier; a random <c>test_…</c> name when null.</param>
    public async Task<string> CreateDatabaseAsync(string? name = null, CancellationToken ct = default)
    {
        name ??= $"test_{Guid.NewGuid():N}";
        if (!PlainIdentifier().IsMatch(name))
        {
            throw new ArgumentException(
                $"Database name '{name}' must be a lower-case identifier of at most 63 characters ([a-z_][a-z0-9_]*).",
                nameof(name));
        }

        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync(ct);
        return ConnectionStringFor(name);
    }

    /// <summary>
    /// Stops the server and starts it again on the same port and data directory; every database survives.
    /// </summary>
    /// <param name="immediate">
    /// True stops like a crash (<c>pg_ctl stop -m immediate</c>: no checkpoint, WAL replay on start), so only
    /// committed work survives; false is a fast shutdown (clients disconnected, checkpoint written).
    /// </param>
    public async Task RestartAsync(bool immediate = true, CancellationToken ct = default)
    {
        await lifecycle.WaitAsync(ct);
        try
        {
            ThrowIfDisposed();
            await StopCoreAsync(immediate ? "immediate" : "fast", ct);
            await StartAgainCoreAsync(ct);
        }
        finally
        {
            lifecycle.Release();
        }
    }

    /// <summary>Stops the server, keeping its data directory, so tests can observe behaviour while it is down.</summary>
    /// <param name="immediate">True stops like a crash; false is a fast shutdown.</param>
    public async Task StopAsync(bool immediate = false, CancellationToken ct = default)
    {
        await lifecycle.WaitAsync(ct);
        try
        {
            ThrowIfDisposed();
            await StopCoreAsync(immediate ? "immediate" : "fast", ct);
        }
        finally
        {
            lifecycle.Release();
        }
    }

    /// <summary>Starts a stopped server again on the same port and data directory; does nothing if it runs.</summary>
    public async Task StartAgainAsync(CancellationToken ct = default)
    {
        await lifecycle.WaitAsync(ct);
        try
        {
            ThrowIfDisposed();
            await StartAgainCoreAsync(ct);
        }
        finally
        {
            lifecycle.Release();
        }
    }

    /// <summary>Stops the server (immediate) and deletes its data directory.</summary>
    public async ValueTask DisposeAsync()
    {
        await lifecycle.WaitAsync();
        try
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            try
            {
                await StopCoreAsync("immediate", CancellationToken.None);
            }
            catch (InvalidOperationException)
            {
                // StopCoreAsync has already killed the process; nothing is left to clean up but the directory.
            }

            DeleteDataDirectory();
            PostgresProcessReaper.Forget(this);
        }
        finally
        {
            lifecycle.Release();
        }
    }

    /// <summary>Last-resort cleanup from the ProcessExit handler: no waiting, no exceptions.</summary>
    internal void KillAndDeleteForProcessExit()
    {
        var running = process;
        if (running is not null)
        {
            KillTree(running);
            try
            {
                running.WaitForExit(TimeSpan.FromSeconds(5));
            }
            catch (InvalidOperationException)
            {
                // The process object was already disposed by a concurrent stop.
            }
        }

        DeleteDataDirectory();
    }

    private string ConnectionStringFor(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = port,
        Username = ServerUser,
        Database = database,
        Pooling = true,
        MaxPoolSize = 100,
        IncludeErrorDetail = true,
    }.ConnectionString;

    private async Task InitializeDataDirectoryAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(DataDirectory);
        if (runAsServerUser)
        {
            await RunCheckedAsync(new Command("chown", [$"{ServerUser}:", DataDirectory]), ct);
        }

        // --locale=C keeps text ordering identical on every machine, whatever its LANG.
        await RunCheckedAsync(
            AsServerUser(binaries.Initdb,
                "-D", DataDirectory, "-A", "trust", "-U", ServerUser, "--no-sync", "-E", "UTF8", "--locale=C"),
            ct);
    }

    private async Task StartOnFreePortAsync(CancellationToken ct)
    {
        const int attempts = 5;
        for (var attempt = 1; ; attempt++)
        {
            port = LoopbackPort.PickFree();
            // Another process may grab the port between our probe and the server's bind; then pick another.
            if (await TryLaunchAsync(ct))
            {
                return;
            }

            if (attempt == attempts)
            {
                throw new InvalidOperationException(
                    $"PostgreSQL could not bind a free loopback port in {attempts} attempts.\n{log}");
            }
        }
    }

    private async Task StartAgainCoreAsync(CancellationToken ct)
    {
        if (IsRunning)
        {
            return;
        }

        if (!await TryLaunchAsync(ct))
        {
            throw new InvalidOperationException(
                $"PostgreSQL could not start again: port {port} was taken by another process while it was down.\n{log}");
        }

        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Starts postgres and waits for a real connection; false when the port was already in use.</summary>
    private async Task<bool> TryLaunchAsync(CancellationToken ct)
    {
        var command = AsServerUser(binaries.Postgres,
            "-D", DataDirectory,
            "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1",
            "-c", $"unix_socket_directories={DataDirectory}",
            "-c", "max_connections=300",
            "-c", "shared_buffers=256MB",
            "-c", "fsync=on",
            "-c", "synchronous_commit=on");

        var launchMark = log.Append($"--- starting postgres on port {port} ---");
        var started = new Process { StartInfo = CreateStartInfo(command), EnableRaisingEvents = true };
        started.OutputDataReceived += (_, e) => log.Append(e.Data);
        started.ErrorDataReceived += (_, e) => log.Append(e.Data);
        if (!started.Start())
        {
            started.Dispose();
            throw new InvalidOperationException($"Could not start {command}.");
        }

        process = started;
        started.BeginOutputReadLine();
        started.BeginErrorReadLine();

        var probe = new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, Timeout = 2 }.ConnectionString;
        var startedAt = Stopwatch.GetTimestamp();
        while (true)
        {
            if (started.HasExited)
            {
                await started.WaitForExitAsync(ct);
                var exitCode = started.ExitCode;
                started.Dispose();
                process = null;
                if (log.Since(launchMark).Contains("Address already in use", StringComparison.Ordinal))
                {
                    return false;
                }

                throw new InvalidOperationException(
                    $"PostgreSQL exited with code {exitCode} before accepting connections on port {port}.\n{log}");
            }

            try
            {
                await using var connection = new NpgsqlConnection(probe);
                await connection.OpenAsync(ct);
                return true;
            }
            catch (NpgsqlException) when (Stopwatch.GetElapsedTime(startedAt) < StartTimeout)
            {
                // Not accepting connections yet (socket refused, or "the database system is starting up").
            }
            catch (NpgsqlException exception)
            {
                KillTree(started);
                await started.WaitForExitAsync(CancellationToken.None);
                started.Dispose();
                process = null;
                throw new TimeoutException(
                    $"PostgreSQL did not accept connections on port {port} within {StartTimeout.TotalSeconds:0} s " +
                    $"({exception.Message}).\n{log}",
                    exception);
            }

            await Task.Delay(50, ct);
        }
    }

    private async Task StopCoreAsync(string mode, CancellationToken ct)
    {
        var running = process;
        if (running is null)
        {
            return;
        }

        string? failure = null;
        if (!running.HasExited)
        {
            var (exitCode, output) = await RunAsync(
                AsServerUser(binaries.PgCtl, "stop", "-D", DataDirectory, "-m", mode, "-w", "-t", "60"), ct);
            if (exitCode != 0)
            {
                failure = $"pg_ctl stop -m {mode} failed with exit code {exitCode}; the server was killed.\n{output}\n{log}";
                KillTree(running);
            }
        }

        await running.WaitForExitAsync(ct);
        running.Dispose();
        process = null;
        // Pooled connections point at the dead server; drop them so the next open dials anew.
        NpgsqlConnection.ClearAllPools();
        if (failure is not null)
        {
            throw new InvalidOperationException(failure);
        }
    }

    private void DeleteDataDirectory()
    {
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Never created, or already deleted.
        }
        catch (IOException exception)
        {
            log.Append($"could not delete {DataDirectory}: {exception.Message}");
        }
        catch (UnauthorizedAccessException exception)
        {
            log.Append($"could not delete {DataDirectory}: {exception.Message}");
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    /// <summary>The command that runs <paramref name="executable"/> as the server's OS user.</summary>
    private Command AsServerUser(string executable, params string[] arguments) =>
        runAsServerUser
            ? new Command(FindRunuser(), ["-u", ServerUser, "--", executable, .. arguments])
            : new Command(executable, arguments);

    private static string FindRunuser() =>
        new[] { "/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser" }.FirstOrDefault(File.Exists) ?? "runuser";

    private static async Task EnsureServerUserExistsAsync(CancellationToken ct)
    {
        var (exitCode, _) = await RunAsync(new Command("id", ["-u", ServerUser]), ct);
        if (exitCode != 0)
        {
            throw new InvalidOperationException(
                $"Running as root, but the '{ServerUser}' OS user that PostgreSQL must run as does not exist. " +
                "Install PostgreSQL with ./test.sh (the postgresql package creates the user) or run the tests as a non-root user.");
        }
    }

    private static void KillTree(Process target)
    {
        try
        {
            target.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited or disposed.
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Exited while we were killing it.
        }
    }

    private static ProcessStartInfo CreateStartInfo(Command command)
    {
        var startInfo = new ProcessStartInfo(command.FileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // The postgres user may not be able to enter the test's working directory.
            WorkingDirectory = "/tmp",
        };
        foreach (var argument in command.Arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // English messages, so "Address already in use" can be recognised in the log.
        startInfo.Environment["LC_ALL"] = "C";
        return startInfo;
    }

    private static async Task RunCheckedAsync(Command command, CancellationToken ct)
    {
        var (exitCode, output) = await RunAsync(command, ct);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"'{command}' failed with exit code {exitCode}:\n{output}");
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(Command command, CancellationToken ct)
    {
        using var child = Process.Start(CreateStartInfo(command))
            ?? throw new InvalidOperationException($"Could not start {command}.");
        var stdout = child.StandardOutput.ReadToEndAsync(ct);
        var stderr = child.StandardError.ReadToEndAsync(ct);
        try
        {
            await child.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            KillTree(child);
            throw;
        }

        return (child.ExitCode, (await stdout) + (await stderr));
    }

    [GeneratedRegex(@"^[a-z_][a-z0-9_]{0,62}\z")]
    private static partial Regex PlainIdentifier();

    private sealed record Command(string FileName, IReadOnlyList<string> Arguments)
    {
        public override string ToString() => string.Join(' ', [FileName, .. Arguments]);
    }

    /// <summary>The last lines postgres printed, kept for error messages.</summary>
    private sealed class ServerLog
    {
        private const int MaxLines = 400;
        private readonly Lock gate = new();
        private readonly Queue<string> lines = new();
        private long appended;

        /// <summary>Adds a line; returns a mark that <see cref="Since"/> reads from.</summary>
        public long Append(string? line)
        {
            lock (gate)
            {
                if (line is not null)
                {
                    if (lines.Count == MaxLines)
                    {
                        lines.Dequeue();
                    }

                    lines.Enqueue(line);
                    appended++;
                }

                return appended;
            }
        }

        /// <summary>The kept lines appended after <paramref name="mark"/>.</summary>
        public string Since(long mark)
        {
            lock (gate)
            {
                return string.Join('\n', lines.Skip((int)Math.Max(0, lines.Count - (appended - mark))));
            }
        }

        public override string ToString()
        {
            lock (gate)
            {
                return string.Join('\n', lines);
            }
        }
    }
}
