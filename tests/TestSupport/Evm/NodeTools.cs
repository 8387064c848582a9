using System.Reflection;

namespace CryptoPay.TestSupport.Evm;

/// <summary>The pinned npm tools of tests/TestSupport/node (ganache, solc, standardwebhooks), installed there by <c>./test.sh</c> with <c>npm ci</c>.</summary>
internal static class NodeTools
{
    /// <summary>tests/TestSupport/node in the source tree this assembly was built from.</summary>
    public static string Directory { get; } =
        typeof(NodeTools).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "CryptoPay.TestSupport.NodeToolsDirectory")?.Value
        ?? throw new InvalidOperationException("TestSupport was built without its NodeToolsDirectory metadata.");

    /// <summary>The <c>node</c> executable on PATH.</summary>
    public static string NodeExecutable()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "node"))
            .FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException(
                "node (Node.js) was not found on PATH. Run ./test.sh from the repository root: it installs Node.js and " +
                "the pinned npm tools, then runs the tests.");
    }

    /// <summary>The path of a file inside an installed package, or a failure naming <c>./test.sh</c>.</summary>
    public static string PackageFile(string package, string relativePath)
    {
        var file = Path.Combine(Directory, "node_modules", package, relativePath);
        return File.Exists(file)
            ? file
            : throw new InvalidOperationException(
                $"The npm package '{package}' is not installed in {Directory} ({file} is missing). Run ./test.sh from the " +
                "repository root: it runs 'npm ci' there from the committed package-lock.json, then runs the tests.");
    }
}
