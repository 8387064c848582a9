using System.Diagnostics;
using System.Text.Json;

namespace CryptoPay.TestSupport.Evm;

/// <summary>A compiled contract: creation bytecode (0x hex) and its ABI as JSON.</summary>
public sealed record CompiledContract(string Name, string Bytecode, string AbiJson);

/// <summary>Compiles Solidity with the solc-js version pinned in tests/TestSupport/node (through its compile.cjs).</summary>
public static class SolidityCompiler
{
    /// <summary>The ERC-20 test token of tests/TestSupport/node/contracts; its constructor takes the supply (uint256).</summary>
    public static string TestTokenSource => Path.Combine(NodeTools.Directory, "contracts", "TestToken.sol");

    public static async Task<IReadOnlyDictionary<string, CompiledContract>> CompileAsync(string solidityFile, CancellationToken ct = default)
    {
        NodeTools.PackageFile("solc", "package.json");
        var startInfo = new ProcessStartInfo(NodeTools.NodeExecutable())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = NodeTools.Directory,
            ArgumentList = { Path.Combine(NodeTools.Directory, "compile.cjs"), solidityFile },
        };
        using var compiler = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start node for solc.");
        var stdout = compiler.StandardOutput.ReadToEndAsync(ct);
        var stderr = compiler.StandardError.ReadToEndAsync(ct);
        await compiler.WaitForExitAsync(ct);
        if (compiler.ExitCode != 0)
        {
            throw new InvalidOperationException($"solc failed on {solidityFile} (exit code {compiler.ExitCode}):\n{await stderr}");
        }

        using var output = JsonDocument.Parse(await stdout);
        var contracts = new Dictionary<string, CompiledContract>(StringComparer.Ordinal);
        foreach (var contract in output.RootElement.GetProperty("contracts").EnumerateObject())
        {
            contracts[contract.Name] = new CompiledContract(
                contract.Name,
                contract.Value.GetProperty("bytecode").GetString()!,
                contract.Value.GetProperty("abi").GetRawText());
        }

        return contracts;
    }
}
