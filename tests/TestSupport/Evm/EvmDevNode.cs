using System.Globalization;
using System.Numerics;
using CryptoPay.Chains.Rpc;
using CryptoPay.TestSupport.Nodes;
using CryptoPay.TestSupport.Processes;

namespace CryptoPay.TestSupport.Evm;

/// <summary>
/// A real EVM dev node (ganache, pinned in tests/TestSupport/node) on a free loopback port: deterministic funded
/// accounts, the given chain id, a block mined for every transaction. Disposing kills it and deletes its scratch directory.
/// </summary>
public sealed class EvmDevNode : ILaunchableNode
{
    /// <summary>The EVM version the node runs and <see cref="SolidityCompiler"/> compiles for.</summary>
    public const string Hardfork = "shanghai";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string _nodeExecutable;
    private readonly string _ganacheCli;
    private readonly HttpClient _http = new();
    private readonly string _scratchDirectory;
    private readonly NodeProcessSlot _slot;

    private EvmDevNode(string nodeExecutable, string ganacheCli, string scratchDirectory, int port, long chainId)
    {
        _nodeExecutable = nodeExecutable;
        _ganacheCli = ganacheCli;
        _scratchDirectory = scratchDirectory;
        Port = port;
        ChainId = chainId;
        _slot = new NodeProcessSlot(_http, _scratchDirectory);
        Rpc = new EvmRpcClient(_http, new Uri($"http://127.0.0.1:{port}/"));
    }

    public int Port { get; }

    public long ChainId { get; }

    public EvmRpcClient Rpc { get; }

    /// <summary>web3_clientVersion, e.g. Ganache/v7.9.2/….</summary>
    public string Version { get; private set; } = "";

    public string Log => _slot.Log;

    /// <summary>Starts the node. Throws, never skips, when Node.js or the npm packages are missing: <c>./test.sh</c> installs them.</summary>
    public static async Task<EvmDevNode> StartAsync(long chainId = 1337, CancellationToken ct = default)
    {
        var node = NodeTools.NodeExecutable();
        var cli = NodeTools.PackageFile("ganache", Path.Combine("dist", "node", "cli.js"));
        NodeProcessReaper.SweepOrphans();
        var scratch = NodeProcessReaper.CreateScratchDirectory("evm");

        return await NodeLauncher.LaunchAsync(() => new EvmDevNode(node, cli, scratch, LoopbackPort.PickFree(), chainId), ct);
    }

    bool ILaunchableNode.PortWasTaken => _slot.Process?.Output.Contains("EADDRINUSE") == true;

    string ILaunchableNode.LaunchFailure => $"ganache exited before answering on port {Port}.\n{Log}";

    Task ILaunchableNode.DiscardAttemptAsync() => _slot.DiscardAttemptAsync();

    public ValueTask DisposeAsync() => _slot.DisposeAsync();

    /// <summary>
    /// Deploys the ERC-20 test token (tests/TestSupport/node/contracts/TestToken.sol, compiled by solc) from
    /// <paramref name="deployer"/>, a node account, who holds the whole <paramref name="supply"/>; returns its address.
    /// </summary>
    public async Task<string> DeployTestTokenAsync(string deployer, BigInteger supply, CancellationToken ct = default)
    {
        var contracts = await SolidityCompiler.CompileAsync(SolidityCompiler.TestTokenSource, ct);
        var supplyWord = new byte[32];
        supply.TryWriteBytes(supplyWord.AsSpan(32 - supply.GetByteCount(isUnsigned: true)), out _, isUnsigned: true, isBigEndian: true);
        var hash = await Rpc.SendTransactionAsync(
            new EvmTransactionRequest(deployer, null, BigInteger.Zero, contracts["TestToken"].Bytecode + Convert.ToHexStringLower(supplyWord), Gas: 3_000_000), ct);
        // The node mines every transaction at once, so the receipt exists when the call returns.
        var receipt = await Rpc.GetTransactionReceiptAsync(hash, ct) ?? throw new InvalidOperationException($"No receipt for the TestToken deployment {hash}.\n{Log}");
        return receipt is { Succeeded: true, ContractAddress: { } address }
            ? address
            : throw new InvalidOperationException($"Deploying TestToken failed.\n{Log}");
    }

    async Task<bool> ILaunchableNode.TryLaunchAsync(CancellationToken ct)
    {
        var (node, cli) = (_nodeExecutable, _ganacheCli);
        var chainId = ChainId.ToString(CultureInfo.InvariantCulture);
        string[] arguments =
        [
            cli,
            "--server.host", "127.0.0.1",
            "--server.port", Port.ToString(CultureInfo.InvariantCulture),
            "--chain.chainId", chainId,
            "--chain.networkId", chainId,
            "--chain.hardfork", Hardfork,
            "--wallet.deterministic",
            "--wallet.totalAccounts", "10",
            "--wallet.defaultBalance", "1000000",
            "--miner.instamine", "eager",
            "--logging.quiet",
        ];
        _slot.Process = NodeProcess.Start(node, arguments, _scratchDirectory);
        using var probeHttp = new HttpClient();
        var probe = new EvmRpcClient(probeHttp, Rpc.Endpoint, timeout: TimeSpan.FromSeconds(2));
        return await _slot.Process.WaitUntilReadyAsync(
            async token =>
            {
                try
                {
                    Version = await probe.GetClientVersionAsync(token);
                    return true;
                }
                catch (Exception exception) when (exception is HttpRequestException or TimeoutException)
                {
                    return false;
                }
            },
            StartTimeout,
            $"ganache on port {Port}",
            ct);
    }
}
