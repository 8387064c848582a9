using System.Globalization;
using CryptoPay.Runtime.Grains;
using Npgsql;

namespace CryptoPay.Runtime.Storage.Postgres;

/// <summary>
/// Announced commits over LISTEN/NOTIFY. A commit with <see cref="TurnCommit.AnnounceChange"/> calls
/// <c>pg_notify</c> inside its own transaction, so the notice exists iff the commit does. PostgreSQL delivers
/// notices in commit order; the feed therefore proves it is caught up by notifying itself (a probe): once
/// the probe sent at time T arrives, every announced commit that completed before T has been reported.
/// </summary>
internal sealed class PostgresChangeFeed(NpgsqlDataSource dataSource) : IGrainChangeFeed
{
    public const string Channel = "cp_grain_changes";

    /// <summary>PostgreSQL refuses payloads of 8000 bytes or more.</summary>
    private const int MaxPayloadChars = 7000;

    /// <summary>"c|version|type|key"; a change that cannot be named that way (a huge key, a '|' in the type) is announced as "x": anything may have changed.</summary>
    public static string ChangePayload(GrainId grain, long version)
    {
        var payload = string.Create(CultureInfo.InvariantCulture, $"c|{version}|{grain.Type}|{grain.Key}");
        return payload.Length <= MaxPayloadChars && !grain.Type.Contains('|', StringComparison.Ordinal) ? payload : "x";
    }

    public async Task RunAsync(IGrainChangeListener listener, TimeProvider time, TimeSpan probeInterval, CancellationToken ct)
    {
        var pause = TimeSpan.FromMilliseconds(100);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(listener, time, probeInterval, ct).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Stopped, lost connection or server restart: cached reads fall back to their max age until we are back.
            }
            finally
            {
                listener.Disconnected();
            }

            try
            {
                await Task.Delay(pause, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
        }
    }

    private async Task ListenAsync(IGrainChangeListener listener, TimeProvider time, TimeSpan probeInterval, CancellationToken ct)
    {
        // Probes of this connection only: other silos' probes say nothing about what this one received.
        var probePrefix = $"p|{Guid.NewGuid():N}|";
        var connected = false;
        var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        using var stopProbes = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task? probes = null;
        try
        {
            connection.Notification += (_, e) =>
            {
                var payload = e.Payload;
                if (payload.StartsWith(probePrefix, StringComparison.Ordinal))
                {
                    if (long.TryParse(payload.AsSpan(probePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var sentAt))
                    {
                        listener.CaughtUp(new DateTimeOffset(sentAt, TimeSpan.Zero));
                    }
                }
                else if (payload.StartsWith("c|", StringComparison.Ordinal) && payload.Split('|', 4) is [_, var versionText, var type, var key] &&
                         long.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out var version))
                {
                    listener.Changed(new GrainId(type, key), version);
                }
                else if (!payload.StartsWith("p|", StringComparison.Ordinal) && connected)
                {
                    // "x", or a change we cannot read: start over, as after a reconnect, so no copy is trusted past its max age.
                    listener.Disconnected();
                    listener.Connected(time.GetUtcNow(), synchronous: false);
                }
            };

            await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
            {
                await listen.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            // Read after LISTEN took effect: every commit completing after this time is delivered to us.
            listener.Connected(time.GetUtcNow(), synchronous: false);
            connected = true;
            probes = ProbeAsync(probePrefix, time, probeInterval, stopProbes.Token);
            while (true)
            {
                await connection.WaitAsync(ct).ConfigureAwait(false);
            }
        }
        finally
        {
            await stopProbes.CancelAsync().ConfigureAwait(false);
            if (probes is not null)
            {
                await probes.ConfigureAwait(false);
            }

            try
            {
                // The connection goes back to the pool: it must not keep listening there.
                await using var unlisten = new NpgsqlCommand("UNLISTEN *", connection);
                await unlisten.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // A broken connection is not returned to the pool.
            }

            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task ProbeAsync(string probePrefix, TimeProvider time, TimeSpan probeInterval, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                // The time is read before the probe's transaction starts, so it precedes the probe's commit.
                var sentAt = time.GetUtcNow().UtcTicks;
                await using var batch = dataSource.CreateBatch();
                // A probe needs no durability; skipping its WAL flush keeps it off the commit path's fsyncs.
                batch.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL synchronous_commit TO off"));
                var notify = new NpgsqlBatchCommand("SELECT pg_notify($1, $2)");
                notify.Parameters.Add(new NpgsqlParameter { Value = Channel });
                notify.Parameters.Add(new NpgsqlParameter { Value = probePrefix + sentAt.ToString(CultureInfo.InvariantCulture) });
                batch.BatchCommands.Add(notify);
                await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                await Task.Delay(probeInterval, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // A failed probe only delays the proof of being caught up; cached reads fall back meanwhile.
                try
                {
                    await Task.Delay(probeInterval, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
