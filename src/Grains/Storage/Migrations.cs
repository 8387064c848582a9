using System.Reflection;
using System.Text.RegularExpressions;
using Npgsql;

namespace CryptoPay.Grains.Storage;

/// <summary>One numbered SQL script of a source (a project owning tables).</summary>
public sealed record Migration(string Source, int Version, string Name, string Sql);

public interface IMigrationSource
{
    string Source { get; }

    IReadOnlyList<Migration> GetMigrations();
}

/// <summary>Migrations shipped as embedded <c>NNNN_name.sql</c> resources of an assembly, below a resource folder.</summary>
public sealed partial class EmbeddedMigrations(Assembly assembly, string source, string resourcePrefix) : IMigrationSource
{
    public string Source { get; } = source;

    public IReadOnlyList<Migration> GetMigrations()
    {
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(resourcePrefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal)))
        {
            var file = resource[resourcePrefix.Length..];
            var match = FileName().Match(file);
            if (!match.Success)
            {
                throw new InvalidOperationException($"Migration resource '{resource}' must be named NNNN_description.sql.");
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            migrations.Add(new Migration(Source, int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), match.Groups[2].Value, reader.ReadToEnd()));
        }

        var duplicate = migrations.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Migration source '{Source}' has two scripts numbered {duplicate.Key}.");
        }

        return [.. migrations.OrderBy(m => m.Version)];
    }

    [GeneratedRegex(@"^(\d{4})_([a-z0-9_]+)\.sql$")]
    private static partial Regex FileName();
}

/// <summary>
/// Applies pending migrations once, under an advisory lock, so silos starting together do not race. The lock key and
/// the cp_schema_migrations table are those of the retired src/Runtime, which owned this migrator: databases migrated
/// by earlier versions keep their history and are not migrated twice.
/// </summary>
public static class PostgresMigrator
{
    private const long LockKey = 0x43_50_4D_49_47; // "CPMIG"

    public static async Task<IReadOnlyList<Migration>> ApplyAsync(NpgsqlDataSource dataSource, IEnumerable<IMigrationSource> sources, CancellationToken ct)
    {
        var applied = new List<Migration>();
        await using var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await ExecuteAsync(connection, $"SELECT pg_advisory_lock({LockKey})", ct).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(
                connection,
                """
                CREATE TABLE IF NOT EXISTS cp_schema_migrations (
                    source     text        NOT NULL,
                    version    integer     NOT NULL,
                    name       text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (source, version))
                """,
                ct).ConfigureAwait(false);

            var done = new HashSet<(string, int)>();
            await using (var query = new NpgsqlCommand("SELECT source, version FROM cp_schema_migrations", connection))
            await using (var reader = await query.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    done.Add((reader.GetString(0), reader.GetInt32(1)));
                }
            }

            foreach (var migration in sources.SelectMany(s => s.GetMigrations()))
            {
                if (done.Contains((migration.Source, migration.Version)))
                {
                    continue;
                }

                await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
                await using (var script = new NpgsqlCommand(migration.Sql, connection, transaction))
                {
                    await script.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                await using (var record = new NpgsqlCommand("INSERT INTO cp_schema_migrations (source, version, name) VALUES ($1, $2, $3)", connection, transaction))
                {
                    record.Parameters.Add(new() { Value = migration.Source });
                    record.Parameters.Add(new() { Value = migration.Version });
                    record.Parameters.Add(new() { Value = migration.Name });
                    await record.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                await transaction.CommitAsync(ct).ConfigureAwait(false);
                applied.Add(migration);
            }
        }
        finally
        {
            await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None).ConfigureAwait(false);
        }

        return applied;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
