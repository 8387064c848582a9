using System.Diagnostics;
using System.Globalization;

namespace CryptoPay.Runtime.Bench.Measurement;

/// <summary>CPU counters at one instant: whole machine (/proc/stat), this process, and our PostgreSQL server's processes.</summary>
internal readonly record struct CpuSnapshot(long MachineBusyJiffies, long MachineTotalJiffies, TimeSpan BenchCpu, long PostgresJiffies, long Timestamp);

/// <summary>Share of the machine's total capacity (all cores = 100 %) used during a window.</summary>
internal sealed record CpuUsage(double MachineBusy, double Bench, double Postgres, int Cores)
{
    public double Other => Math.Max(0, MachineBusy - Bench - Postgres);

    public override string ToString() => double.IsNaN(MachineBusy)
        ? "cpu: n/a (no /proc)"
        : string.Create(CultureInfo.InvariantCulture,
            $"cpu of {Cores} cores: machine {MachineBusy:F0}% busy = bench process {Bench:F0}% + PostgreSQL {Postgres:F0}% + other {Other:F0}%");
}

/// <summary>
/// Samples CPU so a throughput figure can be read against saturation. PostgreSQL's share is the
/// postmaster (with its reaped children) plus its live backends, found through their parent pid.
/// </summary>
internal sealed class CpuMeter(string postgresDataDirectory)
{
    private const double JiffiesPerSecond = 100; // USER_HZ on Linux

    public CpuSnapshot Take()
    {
        var (busy, total) = ReadMachine();
        using var self = Process.GetCurrentProcess();
        return new CpuSnapshot(busy, total, self.TotalProcessorTime, ReadPostgres(), Stopwatch.GetTimestamp());
    }

    public static CpuUsage Between(CpuSnapshot start, CpuSnapshot end)
    {
        var cores = Environment.ProcessorCount;
        var totalJiffies = end.MachineTotalJiffies - start.MachineTotalJiffies;
        if (start.MachineTotalJiffies == 0 || totalJiffies <= 0)
        {
            return new CpuUsage(double.NaN, double.NaN, double.NaN, cores);
        }

        var seconds = Stopwatch.GetElapsedTime(start.Timestamp, end.Timestamp).TotalSeconds;
        var capacity = seconds * cores;
        return new CpuUsage(
            100.0 * (end.MachineBusyJiffies - start.MachineBusyJiffies) / totalJiffies,
            100.0 * (end.BenchCpu - start.BenchCpu).TotalSeconds / capacity,
            100.0 * (end.PostgresJiffies - start.PostgresJiffies) / JiffiesPerSecond / capacity,
            cores);
    }

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
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return (0, 0);
        }
    }

    private long ReadPostgres()
    {
        var postmaster = PostmasterPid();
        if (postmaster is null)
        {
            return 0;
        }

        long jiffies = 0;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            var stat = ReadStat(pid);
            if (stat is null)
            {
                continue;
            }

            var (parent, own, children) = stat.Value;
            if (pid == postmaster)
            {
                jiffies += own + children;
            }
            else if (parent == postmaster)
            {
                jiffies += own;
            }
        }

        return jiffies;
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

    /// <summary>Parent pid, own utime+stime, and reaped children's cutime+cstime from /proc/pid/stat.</summary>
    private static (int Parent, long Own, long Children)? ReadStat(int pid)
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
        return ((int)Field(1), Field(11) + Field(12), Field(13) + Field(14));
    }
}
