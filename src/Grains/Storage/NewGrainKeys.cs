using System.Collections.Concurrent;
using Orleans.Runtime;

namespace CryptoPay.Grains.Storage;

/// <summary>
/// Keys this silo drew at random for grains it is about to create (an invoice without an Idempotency-Key). No row can
/// exist under a key nobody has seen yet, so the first activation of such a grain on this silo starts empty without
/// reading the store: one statement fewer per creation. Each key is used once. A key whose grain was placed on another
/// silo is read there as usual, and dropped here after <see cref="Lifetime"/>.
/// </summary>
public sealed class NewGrainKeys
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<(string State, string Key), long> keys = new();
    private long nextPrune = Environment.TickCount64 + (long)Lifetime.TotalMilliseconds;

    /// <summary>A new random key for a grain whose state is stored under <paramref name="stateName"/>.</summary>
    public Guid NewGuid(string stateName)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateName);
        var id = Guid.NewGuid();
        var now = Environment.TickCount64;
        keys[(stateName, GrainIdKeyExtensions.CreateGuidKey(id).ToString())] = now;
        if (now >= Volatile.Read(ref nextPrune))
        {
            Prune(now);
        }

        return id;
    }

    /// <summary>True once for a key drawn by <see cref="NewGuid"/> for this state: its grain's first read on this silo.</summary>
    public bool Claim(string stateName, string key) => keys.TryRemove((stateName, key), out _);

    private void Prune(long now)
    {
        Volatile.Write(ref nextPrune, now + (long)Lifetime.TotalMilliseconds);
        foreach (var (key, drawnAt) in keys)
        {
            if (now - drawnAt >= (long)Lifetime.TotalMilliseconds)
            {
                keys.TryRemove(new KeyValuePair<(string, string), long>(key, drawnAt));
            }
        }
    }
}
