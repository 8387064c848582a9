using System.Globalization;
using CryptoPay.Runtime.Bench.Grains;
using CryptoPay.Runtime.Bench.Hosting;
using CryptoPay.Runtime.Bench.Measurement;
using CryptoPay.TestSupport.Postgres;
using Npgsql;

namespace CryptoPay.Runtime.Bench.Scenarios;

/// <summary>A throughput figure and whether the database afterwards holds exactly the increments that were acknowledged.</summary>
internal sealed record CheckedThroughput(ThroughputResult Result, bool Consistent, string Check, RoundTrips RoundTrips)
{
    public string DescribeRoundTrips() => string.Create(CultureInfo.InvariantCulture,
        $"round trips per operation {RoundTrips.Per(Result.TotalOperations):F2} ({RoundTrips.Operations:N0} for {Result.TotalOperations:N0} incl. warm-up), failed commands {RoundTrips.Failed:N0}");

    public static CheckedThroughput Combine(IReadOnlyList<CheckedThroughput> windows) => new(
        ThroughputResult.Combine([.. windows.Select(w => w.Result)]),
        windows.All(w => w.Consistent),
        string.Join("; ", windows.Select(w => w.Check)),
        new RoundTrips(windows.Sum(w => w.RoundTrips.Operations), windows.Sum(w => w.RoundTrips.Failed)));
}

/// <summary>
/// Scenario 1: the cost of a grain turn against the cheapest possible equivalent, a raw autocommit
/// single-row UPDATE, at the same concurrency over the same number of distinct rows / grains.
/// </summary>
internal sealed class TurnThroughputBench(BenchSettings settings, PostgresServer server, CpuMeter cpu, RoundTripCounter roundTrips)
{
    private const string RawPool = "bench-raw-baseline";

    public async Task<CheckedThroughput> RawUpdatesAsync(TimeSpan window, CancellationToken ct)
    {
        var workers = settings.Concurrency;
        var connectionString = await server.CreateDatabaseAsync(ct: ct).ConfigureAwait(false);
        var rawBuilder = new NpgsqlDataSourceBuilder(connectionString) { Name = RawPool };
        BenchSettings.ApplyStorePoolSettings(rawBuilder.ConnectionStringBuilder);
        await using var dataSource = rawBuilder.Build();
        await using (var create = dataSource.CreateCommand("CREATE TABLE counters (id integer PRIMARY KEY, v bigint NOT NULL)"))
        {
            await create.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        await using (var fill = dataSource.CreateCommand("INSERT INTO counters SELECT g, 0 FROM generate_series(1, $1) g"))
        {
            fill.Parameters.Add(new NpgsqlParameter { Value = workers });
            await fill.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        // Each worker keeps one connection and one command, as a hand-written data access layer would.
        var connections = new NpgsqlConnection[workers];
        var commands = new NpgsqlCommand[workers];
        try
        {
            for (var i = 0; i < workers; i++)
            {
                connections[i] = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
                commands[i] = new NpgsqlCommand("UPDATE counters SET v = v + 1 WHERE id = $1", connections[i]);
                commands[i].Parameters.Add(new NpgsqlParameter { Value = i + 1 });
            }

            var tripsBefore = roundTrips.Of(RawPool);
            var result = await ClosedLoop.RunAsync(workers, settings.WarmUp, window, w => commands[w].ExecuteNonQueryAsync(ct), cpu, ct)
                .ConfigureAwait(false);
            var trips = roundTrips.Of(RawPool) - tripsBefore;

            await using var sum = dataSource.CreateCommand("SELECT sum(v) FROM counters");
            var stored = Convert.ToInt64(await sum.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture);
            return Checked(result, stored, "sum(v)", trips);
        }
        finally
        {
            foreach (var command in commands.Where(c => c is not null))
            {
                await command.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var connection in connections.Where(c => c is not null))
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Workers are split round-robin over the silos' factories; each worker owns one grain, so no two silos race for a grain.</summary>
    public async Task<CheckedThroughput> GrainTurnsAsync(int silos, TimeSpan window, CancellationToken ct)
    {
        var workers = settings.Concurrency;
        await using var bench = await BenchCluster.StartAsync(server, silos, $"bench-turns-{silos}", roundTrips, warmPool: false, ct).ConfigureAwait(false);
        var grains = Enumerable.Range(0, workers)
            .Select(i => bench.Cluster.FactoryOf(i % silos).GetGrain<ICounterGrain>($"counter-{i:D4}"))
            .ToArray();

        var tripsBefore = bench.StoreRoundTrips;
        var result = await ClosedLoop.RunAsync(workers, settings.WarmUp, window, w => grains[w].Add(1), cpu, ct).ConfigureAwait(false);
        var trips = bench.StoreRoundTrips - tripsBefore;

        var stored = await bench.ScalarAsync("SELECT sum((state->>'value')::bigint) FROM cp_grains WHERE grain_type = 'bench-counter'", ct)
            .ConfigureAwait(false);
        return Checked(result, stored, "sum of grain states", trips);
    }

    private static CheckedThroughput Checked(ThroughputResult result, long stored, string what, RoundTrips trips)
    {
        var consistent = stored == result.TotalOperations;
        var check = string.Create(CultureInfo.InvariantCulture,
            $"{what} = {stored:N0}, acknowledged operations = {result.TotalOperations:N0}: {(consistent ? "consistent" : "MISMATCH")}");
        return new CheckedThroughput(result, consistent, check, trips);
    }
}
