using System.Diagnostics;
using System.Globalization;

namespace CryptoPay.Api.Bench.Measurement;

/// <summary>
/// CPU counters at one instant: the whole machine (/proc/stat jiffies), and per thread of this process and
/// per PostgreSQL process the scheduler's exact run time (/proc/…/schedstat, nanoseconds). The tick-sampled
/// utime/stime of /proc/…/stat lag far behind for processes that run in short bursts, as backends do.
/// </summary>
internal sealed record CpuSnapshot(
    long MachineBusyJiffies,
    long MachineTotalJiffies,
    IReadOnlyDictionary<int, long> BenchThreadNanos,
    IReadOnlyDictionary<int, long> PostgresNanos,
    long PostmasterChildrenJiffies,
    long Timestamp);

/// <summary>Share of the machine's total capacity (all cores = 100 %) used during a window.</summary>
internal sealed record CpuUsage(double MachineBusy, double Bench, double Postgres, int Cores)
{
    /// <summary>Busy time neither the bench nor its PostgreSQL accounts for: other jobs on the machine and the kernel.</summary>
    public double Other => Math.Max(0, MachineBusy - Bench - Postgres);

    public override string ToString() => double.IsNaN(MachineBusy)
        ? "cpu: n/a (no /proc)"
        : string.Create(CultureInfo.InvariantCulture,
            $"cpu of {Cores} cores: machine {MachineBusy:F0}% busy = bench process {Bench:F0}% + PostgreSQL {Postgres:F0}% + other {Other:F0}%");
}

/// <summary>
/// Samples CPU so a throughput figure can be read against saturation. PostgreSQL's share is its live
/// processes (children of the postmaster, and the postmaster) plus what exited children handed to the
/// postmaster when it reaped them.
/// </summary>
internal sealed class CpuMeter(string postgresDataDirectory)
{
    private const long NanosPerJiffy = 10_000_000; // USER_HZ = 100 on Linux

    public CpuSnapshot Take()
    {
        var (busy, total) = ReadMachine();
        var bench = new Dictionary<int, long>();
        foreach (var task in SafeDirectories($"/proc/{Environment.ProcessId}/task"))
        {
            if (int.TryParse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture, out var tid) && ReadSchedNanos(task) is { } nanos)
            {
                bench[tid] = nanos;
            }
        }

        var (postgres, reaped) = ReadPostgres();
        return new CpuSnapshot(busy, total, bench, postgres, reaped, Stopwatch.GetTimestamp());
    }

    public static CpuUsage Between(CpuSnapshot start, CpuSnapshot end)
    {
        var cores = Environment.ProcessorCount;
        var totalJiffies = end.MachineTotalJiffies - start.MachineTotalJiffies;
        if (start.MachineTotalJiffies == 0 || totalJiffies <= 0)
        {
            return new CpuUsage(double.NaN, double.NaN, double.NaN, cores);
        }

        var capacityNanos = Stopwatch.GetElapsedTime(start.Timestamp, end.Timestamp).TotalSeconds * cores * 1e9;

        // A thread or backend that ended inside the window loses its last slice; a backend's whole life
        // comes back through the postmaster's reaped-children counter, less what the start snapshot saw.
        var benchNanos = Growth(start.BenchThreadNanos, end.BenchThreadNanos);
        var vanished = start.PostgresNanos.Where(p => !end.PostgresNanos.ContainsKey(p.Key)).Sum(p => p.Value);
        var reapedNanos = (end.PostmasterChildrenJiffies - start.PostmasterChildrenJiffies) * NanosPerJiffy;
        var postgresNanos = Growth(start.PostgresNanos, end.PostgresNanos) + Math.Max(0, reapedNanos - vanished);
        return new CpuUsage(
            100.0 * (end.MachineBusyJiffies - start.MachineBusyJiffies) / totalJiffies,
            100.0 * benchNanos / capacityNanos,
            100.0 * postgresNanos / capacityNanos,
            cores);
    }

    private static long Growth(IReadOnlyDictionary<int, long> start, IReadOnlyDictionary<int, long> end) =>
        end.Sum(e => e.Value - start.GetValueOrDefault(e.Key));

    private static (long Busy, long Total) ReadMachine()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First();
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            // user nice system idle iowait irq softirq steal [guest guest_nice are already in user/nice]
            var idle = fields[3] + fields[4];
            var total = fields.Take(8).Sum();
            return (total - idle, total);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
        {
            return (0, 0);
        }
    }

    private (Dictionary<int, long> Live, long ReapedJiffies) ReadPostgres()
    {
        var live = new Dictionary<int, long>();
        var postmaster = PostmasterPid();
        if (postmaster is null)
        {
            return (live, 0);
        }

        long reaped = 0;
        foreach (var directory in SafeDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            var stat = ReadStat(pid);
            if (stat is null || (pid != postmaster && stat.Value.Parent != postmaster))
            {
                continue;
            }

            if (ReadSchedNanos(directory) is { } nanos)
            {
                live[pid] = nanos;
            }

            if (pid == postmaster)
            {
                reaped = stat.Value.ReapedChildren;
            }
        }

        return (live, reaped);
    }

    private int? PostmasterPid()
    {
        try
        {
            var first = File.ReadLines(Path.Combine(postgresDataDirectory, "postmaster.pid")).FirstOrDefault();
            return int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Parent pid and reaped children's cutime+cstime (jiffies) from /proc/pid/stat.</summary>
    private static (int Parent, long ReapedChildren)? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // "pid (comm) state ppid ...": comm may hold spaces, so fields are counted after the last ')'.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        if (fields.Length < 15)
        {
            return null;
        }

        long Field(int index) => long.Parse(fields[index], CultureInfo.InvariantCulture);
        return ((int)Field(1), Field(13) + Field(14));
    }

    /// <summary>Nanoseconds on a CPU: the first field of schedstat (for a process directory, its main thread).</summary>
    private static long? ReadSchedNanos(string directory)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(directory, "schedstat"));
            var end = text.IndexOf(' ');
            return long.TryParse(end < 0 ? text : text[..end], NumberStyles.None, CultureInfo.InvariantCulture, out var nanos) ? nanos : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static IEnumerable<string> SafeDirectories(string path)
    {
        try
        {
            return Directory.GetDirectories(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
