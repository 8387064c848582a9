namespace CryptoPay.TestSupport.Postgres;

/// <summary>The PostgreSQL server programs of one installation, all taken from the same bin directory.</summary>
internal sealed record PostgresBinaries(string Initdb, string Postgres, string PgCtl)
{
    private const string DebianInstallRoot = "/usr/lib/postgresql";

    /// <summary>Finds <c>initdb</c> on PATH, else the highest version under /usr/lib/postgresql/*/bin.</summary>
    public static PostgresBinaries Locate()
    {
        foreach (var binDirectory in CandidateBinDirectories())
        {
            var binaries = new PostgresBinaries(
                Path.Combine(binDirectory, "initdb"),
                Path.Combine(binDirectory, "postgres"),
                Path.Combine(binDirectory, "pg_ctl"));
            if (File.Exists(binaries.Initdb) && File.Exists(binaries.Postgres) && File.Exists(binaries.PgCtl))
            {
                return binaries;
            }
        }

        throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb, postgres, pg_ctl) were not found on PATH nor under " +
            $"{DebianInstallRoot}/*/bin. Run ./test.sh from the repository root: it installs PostgreSQL and runs the tests.");
    }

    private static IEnumerable<string> CandidateBinDirectories()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var initdb = new FileInfo(Path.Combine(directory, "initdb"));
            if (initdb.Exists)
            {
                // A PATH entry is often a symlink (/usr/local/bin/initdb); postgres and pg_ctl live beside its target.
                var target = initdb.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? initdb.FullName;
                yield return Path.GetDirectoryName(target)!;
            }
        }

        if (!Directory.Exists(DebianInstallRoot))
        {
            yield break;
        }

        var versions = Directory.EnumerateDirectories(DebianInstallRoot)
            .Select(directory => (Directory: directory, Version: ParseVersion(Path.GetFileName(directory))))
            .Where(candidate => candidate.Version is not null)
            .OrderByDescending(candidate => candidate.Version);
        foreach (var candidate in versions)
        {
            yield return Path.Combine(candidate.Directory, "bin");
        }
    }

    private static Version? ParseVersion(string name) =>
        int.TryParse(name, out var major) ? new Version(major, 0)
        : Version.TryParse(name, out var version) ? version
        : null;
}
