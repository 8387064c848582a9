using System.Globalization;
using System.Runtime;

namespace CryptoPay.ClusterSupport;

/// <summary>
/// The warm-up of a bench: runs a round of the measured work several times before the measured phase, so that it runs
/// the code a long-running silo runs. One round is not enough: .NET compiles a method cold first, then instrumented,
/// then optimised (tiered compilation with dynamic PGO), each step after the method has run a while; after a single
/// warm-up round the tiering thread still took 18 % of the webhook bench's samples during its measured phase and its
/// hot frames were still instrumented code. Each round prints how many methods the JIT compiled in it: in the webhook
/// bench 28,067, 7,222, 3,208, 1,455, then 1,100–1,500 a round, which is what starting each round's new cluster
/// compiles (its generated code), not the measured path; hence <see cref="Rounds"/>.
/// </summary>
public static class JitWarmup
{
    /// <summary>Warm-up rounds: after four, the JIT's work per round no longer falls.</summary>
    public const int Rounds = 4;

    /// <summary>Runs <paramref name="round"/> (given its number, from 1) <see cref="Rounds"/> times; prints one line per round.</summary>
    public static async Task RunAsync(Func<int, Task> round)
    {
        ArgumentNullException.ThrowIfNull(round);
        for (var number = 1; number <= Rounds; number++)
        {
            var compiledBefore = JitInfo.GetCompiledMethodCount();
            var timeBefore = JitInfo.GetCompilationTime();
            await round(number);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"warm-up round {number} of {Rounds}: the JIT compiled {JitInfo.GetCompiledMethodCount() - compiledBefore} methods ({(JitInfo.GetCompilationTime() - timeBefore).TotalMilliseconds:0} ms)"));
        }
    }
}
