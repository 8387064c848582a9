using System.Diagnostics.Metrics;
using Npgsql;

namespace CryptoPay.ClusterSupport;

/// <summary>What the database did between two readings of <see cref="SqlActivity"/>.</summary>
public readonly record struct SqlCounts(long Commands, long Transactions)
{
    public static SqlCounts operator -(SqlCounts a, SqlCounts b) => new(a.Commands - b.Commands, a.Transactions - b.Transactions);

    /// <summary>"tx/op 2.9, commands/op 3.1" for <paramref name="operations"/> operations.</summary>
    public string PerOperation(int operations) => operations <= 0
        ? "no operations"
        : FormattableString.Invariant($"{(double)Transactions / operations:0.0} tx/op, {(double)Commands / operations:0.0} SQL commands/op");
}

/// <summary>
/// Counts the SQL work of a bench phase, to print per operation:
/// <list type="bullet">
/// <item><b>commands</b>: every command Npgsql executes in this process (one round trip each; a batch counts once), from
/// Npgsql's own meter (<c>db.client.operation.duration</c>, one measurement per command), whatever pool or provider
/// (projected storage, the Orleans ADO.NET providers) ran it;</item>
/// <item><b>transactions</b>: the delta of <c>xact_commit + xact_rollback</c> of the bench's database in
/// <c>pg_stat_database</c>, i.e. what PostgreSQL committed, including what Npgsql sends without a command of its own
/// (the <c>DISCARD ALL</c> of a pooled connection's reset). PostgreSQL 15 flushes a backend's counters only when it
/// has been idle a while or exits, so a reading first closes the idle pooled connections (<see cref="NpgsqlConnection.ClearAllPools"/>
/// and the data sources given) and waits until the counter stops moving.</item>
/// </list>
/// Both include the cluster's background work during the phase (membership heartbeats, reminder table reads): a few
/// per second, against thousands of operations.
/// </summary>
public sealed class SqlActivity : IDisposable
{
    private readonly MeterListener listener = new();
    private readonly string connectionString;
    private long commands;

    public SqlActivity(string connectionString)
    {
        // Its own connections are not pooled, so they never hold stats back and never join the pools it clears.
        this.connectionString = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Npgsql" && instrument.Name == "db.client.operation.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref commands));
        listener.Start();
    }

    /// <summary>The counts so far; <paramref name="dataSources"/> are the data sources whose idle connections to close first.</summary>
    public async Task<SqlCounts> ReadAsync(IEnumerable<NpgsqlDataSource> dataSources, CancellationToken ct = default)
    {
        var counted = Interlocked.Read(ref commands);
        NpgsqlConnection.ClearAllPools();
        foreach (var source in dataSources)
        {
            source.Clear();
        }

        // The closed backends flush their counters as they exit: read until two readings 100 ms apart agree (each
        // reading is itself one transaction), for at most 5 s.
        var previous = await TransactionsAsync(ct);
        for (var i = 0; i < 50; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), ct);
            var current = await TransactionsAsync(ct);
            if (current - previous <= 1)
            {
                previous = current;
                break;
            }

            previous = current;
        }

        return new SqlCounts(counted, previous);
    }

    public void Dispose() => listener.Dispose();

    private async Task<long> TransactionsAsync(CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()", connection);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }
}
