using System.Diagnostics;
using Microsoft.Extensions.Configuration;

namespace CryptoPay.Grains.Hosting;

/// <summary>
/// Crash points for the process fault tests: with <c>Faults:CrashAt</c> naming a point (e.g. <see cref="SettlementSigned"/>),
/// the silo process that reaches it kills itself at once, as <c>kill -9</c> would, so a test can stop a silo exactly between
/// two steps that must survive it. <c>Faults:Marker</c> names a file: the first silo to reach the point creates it and dies,
/// the others pass (the survivor must be able to finish the work). Unset in every real deployment: then nothing happens.
/// </summary>
public sealed class FaultPoints(IConfiguration? configuration)
{
    /// <summary>A settlement batch's signed transactions are written, none broadcast yet.</summary>
    public const string SettlementSigned = "settlement-signed";

    /// <summary>A settlement batch's transactions were accepted by the node, the batch has not recorded it.</summary>
    public const string SettlementBroadcast = "settlement-broadcast";

    private readonly string? crashAt = configuration?["Faults:CrashAt"];
    private readonly string? marker = configuration?["Faults:Marker"];

    public void Reach(string point)
    {
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
