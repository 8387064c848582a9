using System.Globalization;
using System.Runtime.InteropServices;
using CryptoPay.Runtime.Bench.Measurement;
using CryptoPay.Runtime.Bench.Scenarios;
using CryptoPay.TestSupport.Postgres;
using Npgsql;

namespace CryptoPay.Runtime.Bench;

/// <summary>Runs every scenario once against a private PostgreSQL and prints the figures with their baselines and verdicts.</summary>
internal static class BenchRunner
{
    private static readonly TimeSpan ReminderP99Target = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan BurstTarget = TimeSpan.FromSeconds(10);
    private const double TurnRatioTarget = 0.5;

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        BenchSettings settings;
        try
        {
            settings = BenchSettings.Parse(args);
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message).ConfigureAwait(false);
            return 2;
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        var ct = cancel.Token;

        var command = "dotnet run -c Release --project bench/Runtime.Bench --" + string.Concat(args.Select(a => " " + a));
        await output.WriteLineAsync($"CryptoPay grain runtime bench — {(settings.Quick ? "quick" : "full")} run, started {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} UTC").ConfigureAwait(false);
        await output.WriteLineAsync($"command: {command}").ConfigureAwait(false);
#if DEBUG
        await output.WriteLineAsync("WARNING: Debug build; figures are only meaningful with -c Release").ConfigureAwait(false);
#endif
        await output.WriteLineAsync($"machine: {Environment.ProcessorCount} cores ({CpuModel()}), {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}").ConfigureAwait(false);
        var loadBefore = LoadAverage();
        await output.WriteLineAsync($"load average before: {loadBefore}").ConfigureAwait(false);

        await using var server = await PostgresServer.StartAsync(ct).ConfigureAwait(false);
        await output.WriteLineAsync($"postgres: {await PostgresDescriptionAsync(server, ct).ConfigureAwait(false)}").ConfigureAwait(false);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"settings: concurrency {settings.Concurrency}, warm-up {settings.WarmUp.TotalSeconds:F0} s, window {settings.Measure.TotalSeconds:F0} s, " +
            $"{settings.SpreadReminders:N0} reminders at {settings.SpreadRatePerSecond:N0}/s, burst {settings.BurstReminders:N0}, " +
            $"{settings.MessageSenders:N0}×{settings.MessagesPerSender} messages; silo options at their defaults")).ConfigureAwait(false);
        await output.WriteLineAsync().ConfigureAwait(false);

        var cpu = new CpuMeter(server.DataDirectory);
        using var roundTrips = new RoundTripCounter();
        var table = new ResultTable();
        var failures = new List<string>();

        // 1. Turn throughput against the raw UPDATE baseline. Two half windows per configuration in the
        // order raw, 1 silo, 2 silos, 2 silos, 1 silo, raw, so a drift in the machine's load hits all alike.
        var turns = new TurnThroughputBench(settings, server, cpu, roundTrips);
        var half = settings.Measure / 2;
        var names = new[] { "raw UPDATE autocommit", "grain Add(1) turns, 1 silo", "grain Add(1) turns, 2 silos" };
        var windows = names.Select(_ => new List<CheckedThroughput>()).ToArray();
        var order = new[] { 0, 1, 2, 2, 1, 0 };
        for (var i = 0; i < order.Length; i++)
        {
            var config = order[i];
            var run = await Step(output, $"1. [{i + 1}/{order.Length}] {names[config]}, {settings.Concurrency} workers over {settings.Concurrency} {(config == 0 ? "rows" : "grains")}",
                () => config == 0 ? turns.RawUpdatesAsync(half, ct) : turns.GrainTurnsAsync(config, half, ct)).ConfigureAwait(false);
            await Print(output, run.Result.Describe(), run.DescribeRoundTrips(), run.Check).ConfigureAwait(false);
            windows[config].Add(run);
        }

        var combined = windows.Select(w => CheckedThroughput.Combine(w)).ToArray();
        await output.WriteLineAsync("1. combined windows").ConfigureAwait(false);
        for (var config = 0; config < names.Length; config++)
        {
            await Print(output, $"{names[config]}: {combined[config].Result.Describe()}").ConfigureAwait(false);
            Check(combined[config].Consistent, $"{names[config]}: {combined[config].Check}", failures);
        }

        var raw = combined[0].Result;
        var baseline = raw.PerSecond;
        table.Add(new ResultRow("1", $"raw UPDATE tx/s (C={settings.Concurrency})", Rate(baseline), "—", "—", "—", "baseline"));
        var grainRates = new double[3];
        foreach (var silos in new[] { 1, 2 })
        {
            var run = combined[silos].Result;
            grainRates[silos] = run.PerSecond;
            var ratio = run.PerSecond / baseline;
            table.Add(new ResultRow("1", $"grain turns/s, {silos} silo{(silos == 1 ? "" : "s")}", Rate(run.PerSecond), Rate(baseline) + " raw", Ratio(ratio),
                "≥ 0.50×", Verdict(ratio >= TurnRatioTarget)));
        }

        // CPU per operation does not depend on what else runs on the machine: raw cost / turn cost is the
        // throughput ratio a CPU-bound machine would show with no neighbours.
        table.Add(new ResultRow("1", "cpu µs per raw UPDATE (bench+PostgreSQL)", Micros(raw.CpuMicrosPerOperation), "—", "—", "—", "info"));
        foreach (var silos in new[] { 1, 2 })
        {
            var run = combined[silos].Result;
            table.Add(new ResultRow("1", $"cpu µs per turn, {silos} silo{(silos == 1 ? "" : "s")}", Micros(run.CpuMicrosPerOperation), Micros(raw.CpuMicrosPerOperation) + " raw",
                Ratio(raw.CpuMicrosPerOperation / run.CpuMicrosPerOperation), "—", "info"));
        }

        // 2. Reminders spread at a steady rate.
        var reminders = new ReminderBench(settings, server, cpu, roundTrips);
        var spread = await Step(output, $"2. {settings.SpreadReminders:N0} one-shot reminders due {settings.SpreadRatePerSecond:N0}/s, 2 silos", () => reminders.SpreadAsync(grainRates[2], ct)).ConfigureAwait(false);
        await Print(output, spread.Describe()).ConfigureAwait(false);
        var firedPerSecond = spread.Fired / Math.Max(0.001, (spread.LastFired - spread.FirstDue).TotalSeconds);
        var spreadNote = spread.RegistrationOverlapped ? " (registration overlapped)" : "";
        var spreadOk = spread.Complete && spread.Early == 0 && spread.P99 <= ReminderP99Target;
        table.Add(new ResultRow("2", $"reminder lag p50 @ {settings.SpreadRatePerSecond:N0}/s", Ms(spread.P50), Ms(ReminderP99Target) + " target", Ratio(spread.P50 / ReminderP99Target), "—", "info"));
        table.Add(new ResultRow("2", $"reminder lag p99 @ {settings.SpreadRatePerSecond:N0}/s", Ms(spread.P99), Ms(ReminderP99Target) + " target", Ratio(spread.P99 / ReminderP99Target), "≤ 1 s",
            Verdict(spreadOk) + spreadNote));
        table.Add(new ResultRow("2", $"reminder lag max @ {settings.SpreadRatePerSecond:N0}/s", Ms(spread.Max), Ms(ReminderP99Target) + " target", Ratio(spread.Max / ReminderP99Target), "—", "info"));
        table.Add(new ResultRow("2", "reminders fired/s", Rate(firedPerSecond), Rate(settings.SpreadRatePerSecond) + " due", Ratio(firedPerSecond / settings.SpreadRatePerSecond), "—",
            spread.Complete ? "info" : $"MISSED ({spread.Fired:N0}/{spread.Scheduled:N0} fired)"));
        Check(spread.Early == 0, $"{spread.Early} reminders fired before due", failures);

        // 3. A burst of reminders due at the same instant.
        var burst = await Step(output, $"3. {settings.BurstReminders:N0} reminders due at the same second, 2 silos", () => reminders.BurstAsync(ct)).ConfigureAwait(false);
        await Print(output, burst.Describe(), burst.AllCommittedAfterDue is { } done
            ? $"all firing turns committed {done.TotalSeconds:F2} s after the due time; last FiredAt {(burst.LastFired - burst.FirstDue).TotalSeconds:F2} s after"
            : "NOT all fired before the timeout").ConfigureAwait(false);
        var burstAllFired = burst.LastFired - burst.FirstDue;
        table.Add(new ResultRow("3", $"{settings.BurstReminders:N0} due together: last FiredAt", Seconds(burstAllFired), Seconds(BurstTarget) + " target", Ratio(burstAllFired / BurstTarget), "—", "info"));
        table.Add(new ResultRow("3", $"{settings.BurstReminders:N0} due together: all committed", burst.AllCommittedAfterDue is { } committed ? Seconds(committed) : "timeout",
            Seconds(BurstTarget) + " target", burst.AllCommittedAfterDue is { } c ? Ratio(c / BurstTarget) : "—", "≤ 10 s",
            Verdict(burst.Complete && burst.Early == 0 && burst.AllCommittedAfterDue <= BurstTarget) + (burst.RegistrationOverlapped ? " (registration overlapped)" : "")));
        table.Add(new ResultRow("3", "burst lag p99", Ms(burst.P99), Ms(BurstTarget) + " target", Ratio(burst.P99 / BurstTarget), "—", "info"));
        Check(burst.Early == 0, $"{burst.Early} burst reminders fired before due", failures);

        // 4. Message deliveries: fan-out to many receivers, and a single hot receiver.
        var messages = new MessageBench(settings, server, cpu, roundTrips);
        foreach (var hot in new[] { false, true })
        {
            foreach (var silos in new[] { 1, 2 })
            {
                var run = await Step(output, $"4. messages, {(hot ? "one hot receiver" : $"{settings.MessageReceivers:N0} receivers")}, {silos} silo(s)", () => messages.RunAsync(silos, hot, ct)).ConfigureAwait(false);
                await Print(output, run.Describe()).ConfigureAwait(false);
                table.Add(new ResultRow("4", $"deliveries/s, {run.Label}", Rate(run.DeliveredPerSecond), Rate(baseline) + " raw", Ratio(run.DeliveredPerSecond / baseline), "—",
                    run.Consistent ? "info" : "MISMATCH"));
                Check(run.Consistent, $"messages ({run.Label}) not delivered exactly once", failures);
            }
        }

        await output.WriteLineAsync().ConfigureAwait(false);
        await output.WriteLineAsync(table.Render()).ConfigureAwait(false);
        await output.WriteLineAsync($"load average before: {loadBefore}; after: {LoadAverage()}").ConfigureAwait(false);
        foreach (var failure in failures)
        {
            await output.WriteLineAsync($"CHECK FAILED: {failure}").ConfigureAwait(false);
        }

        return failures.Count == 0 ? 0 : 1;
    }

    private static async Task<T> Step<T>(TextWriter output, string title, Func<Task<T>> run)
    {
        await output.WriteLineAsync($"{title} …").ConfigureAwait(false);
        await output.FlushAsync().ConfigureAwait(false);
        return await run().ConfigureAwait(false);
    }

    private static async Task Print(TextWriter output, params string[] lines)
    {
        foreach (var line in lines)
        {
            await output.WriteLineAsync("    " + line).ConfigureAwait(false);
        }

        await output.FlushAsync().ConfigureAwait(false);
    }

    private static void Check(bool ok, string what, List<string> failures)
    {
        if (!ok)
        {
            failures.Add(what);
        }
    }

    private static string Verdict(bool met) => met ? "MET" : "MISSED";

    private static string Rate(double perSecond) => perSecond.ToString("N0", CultureInfo.InvariantCulture) + "/s";

    private static string Ratio(double ratio) => ratio.ToString("F2", CultureInfo.InvariantCulture) + "×";

    private static string Ms(TimeSpan duration) => duration.TotalMilliseconds.ToString("N0", CultureInfo.InvariantCulture) + " ms";

    private static string Micros(double micros) => micros.ToString("N0", CultureInfo.InvariantCulture) + " µs";

    private static string Seconds(TimeSpan duration) => duration.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture) + " s";

    private static async Task<string> PostgresDescriptionAsync(PostgresServer server, CancellationToken ct)
    {
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await using var command = dataSource.CreateCommand(
            "SELECT version(), current_setting('fsync'), current_setting('synchronous_commit'), current_setting('max_connections'), current_setting('shared_buffers')");
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await reader.ReadAsync(ct).ConfigureAwait(false);
        return $"{reader.GetString(0)}; fsync={reader.GetString(1)}, synchronous_commit={reader.GetString(2)}, max_connections={reader.GetString(3)}, shared_buffers={reader.GetString(4)}";
    }

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? RuntimeInformation.ProcessArchitecture.ToString() : line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }
}
