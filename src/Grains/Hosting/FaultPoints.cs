using System.Diagnostics;
using Microsoft.Extensions.Configuration;

namespace CryptoPay.Grains.Hosting;

/// <summary>
/// Fault points for the process tests. With <c>Faults:CrashAt</c> naming a point (e.g. <see cref="SettlementSigned"/>),
/// the silo process that reaches it kills itself at once, as <c>kill -9</c> would, so a test can stop a silo exactly
/// between two steps that must survive it; <c>Faults:Marker</c> names a file: the first silo to reach the point creates it
/// and dies, the others pass (the survivor must be able to finish the work). With <c>Faults:PauseAt</c>, the silo that
/// reaches the point creates the marker file and waits (at most a minute) until the test deletes it, so the test can
/// change the world between two steps. Unset in every real deployment: then nothing happens.
/// </summary>
public sealed class FaultPoints(IConfiguration? configuration)
{
    /// <summary>A settlement batch's signed transactions are written, none broadcast yet.</summary>
    public const string SettlementSigned = "settlement-signed";

    /// <summary>A settlement batch's transactions were accepted by the node, the batch has not recorded it.</summary>
    public const string SettlementBroadcast = "settlement-broadcast";

    private readonly string? crashAt = configuration?["Faults:CrashAt"];
    private static readonly TimeSpan LongestPause = TimeSpan.FromMinutes(1);

    private readonly string? pauseAt = configuration?["Faults:PauseAt"];
    private readonly string? marker = configuration?["Faults:Marker"];

    public async Task ReachAsync(string point)
    {
        if (pauseAt == point && marker is not null)
        {
            await File.WriteAllTextAsync(marker, point);
            var paused = Stopwatch.StartNew();
            while (File.Exists(marker) && paused.Elapsed < LongestPause)
            {
                await Task.Delay(50);
            }

            return;
        }

        if (crashAt != point)
        {
            return;
        }

        if (marker is not null)
        {
            try
            {
                using var _ = new FileStream(marker, FileMode.CreateNew);
            }
            catch (IOException)
            {
                return; // another silo crashed here already
            }
        }

        Console.Error.WriteLine($"Fault point {point} reached: the process kills itself (Faults:CrashAt).");
        Console.Error.Flush();
        Process.GetCurrentProcess().Kill();
    }
}
