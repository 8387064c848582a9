using System.Reflection;

namespace CryptoPay.ProcessSupport;

/// <summary>
/// Finds the build output of an executable project that a test project references with
/// <c>ReferenceOutputAssembly="false"</c> and embeds, at build time, as an assembly metadata entry
/// (see tests/Silo.Tests/Silo.Tests.csproj). The path is the one MSBuild built for this configuration.
/// </summary>
public static class BuildOutputs
{
    public static string Locate(Assembly testAssembly, string metadataKey)
    {
        ArgumentNullException.ThrowIfNull(testAssembly);
        var path = testAssembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => string.Equals(a.Key, metadataKey, StringComparison.Ordinal))?.Value;
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new InvalidOperationException(
                $"{testAssembly.GetName().Name} has no '{metadataKey}' assembly metadata; its project file must embed the path of the referenced executable.");
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The executable under test was not built: {path} does not exist. Build the test project (it builds its references) first.", path);
        }

        return path;
    }
}
