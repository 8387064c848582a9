using System.Globalization;
using System.Security.Cryptography;
using CryptoPay.Chains.Rpc;
using CryptoPay.TestSupport.Nodes;
using CryptoPay.TestSupport.Processes;

namespace CryptoPay.TestSupport.Litecoin;

/// <summary>
/// A real <c>litecoind -regtest</c> in a fresh temporary data directory, RPC and P2P on free loopback ports, with
/// <c>-txindex</c>, a fallback fee and a wallet named <see cref="WalletName"/>. Disposing kills it and deletes the directory.
/// </summary>
public sealed class LitecoinRegtestNode : ILaunchableNode
{
    public const string WalletName = "test";
    private const string RpcUser = "cryptopay";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string _litecoind;
    private readonly string _password;
    private readonly HttpClient _http;
    private readonly string _dataDirectory;
    private readonly NodeProcessSlot _slot;

    private LitecoinRegtestNode(
        string litecoind, HttpClient http, string dataDirectory, int rpcPort, int p2pPort, BitcoinRpcCredentials credentials, string password)
    {
        _litecoind = litecoind;
        _password = password;
        _http = http;
        _dataDirectory = dataDirectory;
        RpcPort = rpcPort;
        P2pPort = p2pPort;
        _slot = new NodeProcessSlot(_http, _dataDirectory);
        Rpc = new BitcoinRpcClient(http, new Uri($"http://127.0.0.1:{rpcPort}/"), credentials, TimeSpan.FromSeconds(60));
        Wallet = Rpc.ForWallet(WalletName);
    }

    public int RpcPort { get; }

    public int P2pPort { get; }

    /// <summary>The RPC user and password, for configuring another process (a silo) to read this node.</summary>
    public (string User, string Password) RpcLogin => (RpcUser, _password);

    /// <summary>The litecoind process, e.g. to suspend it with SIGSTOP so a reader's call hangs.</summary>
    public int ProcessId => _slot.Process?.ProcessId ?? throw new InvalidOperationException("litecoind is not running.");

    /// <summary>Node-level calls (blocks, mempool, invalidateblock).</summary>
    public BitcoinRpcClient Rpc { get; }

    /// <summary>Calls on the <see cref="WalletName"/> wallet (getnewaddress, sendtoaddress, sendmany).</summary>
    public BitcoinRpcClient Wallet { get; }

    /// <summary>The node's user agent, e.g. /LitecoinCore:0.21.2.1/.</summary>
    public string Version { get; private set; } = "";

    public string Log => _slot.Log;

    /// <summary>Starts the node and creates its wallet. Throws, never skips, when litecoind is missing: <c>./test.sh</c> installs it.</summary>
    public static async Task<LitecoinRegtestNode> StartAsync(CancellationToken ct = default)
    {
        var litecoind = LocateLitecoind();
        NodeProcessReaper.SweepOrphans();
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var credentials = BitcoinRpcCredentials.UserPassword(RpcUser, password);
        var dataDirectory = NodeProcessReaper.CreateScratchDirectory("ltc");

        var node = await NodeLauncher.LaunchAsync(
            () => LoopbackPort.PickFree(2) is [var rpcPort, var p2pPort]
                ? new LitecoinRegtestNode(litecoind, new HttpClient(), dataDirectory, rpcPort, p2pPort, credentials, password)
                : throw new InvalidOperationException(),
            ct);
        try
        {
            await node.Rpc.CreateWalletAsync(WalletName, ct);
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    bool ILaunchableNode.PortWasTaken =>
        _slot.Process is not null && (_slot.Process.Output.Contains("Unable to bind") || _slot.Process.Output.Contains("Address already in use")
            || _slot.Process.Output.Contains("Unable to start HTTP server"));

    string ILaunchableNode.LaunchFailure => $"litecoind exited before answering RPC on port {RpcPort}.\n{Log}";

    Task ILaunchableNode.DiscardAttemptAsync() => _slot.DiscardAttemptAsync();

    public ValueTask DisposeAsync() => _slot.DisposeAsync();

    async Task<bool> ILaunchableNode.TryLaunchAsync(CancellationToken ct)
    {
        var litecoind = _litecoind;
        var password = _password;
        string[] arguments =
        [
            "-regtest",
            $"-datadir={_dataDirectory}",
            "-server=1",
            "-printtoconsole=1",
            "-listen=1",
            "-bind=127.0.0.1",
            $"-port={P2pPort.ToString(CultureInfo.InvariantCulture)}",
            "-rpcbind=127.0.0.1",
            "-rpcallowip=127.0.0.1",
            $"-rpcport={RpcPort.ToString(CultureInfo.InvariantCulture)}",
            $"-rpcuser={RpcUser}",
            $"-rpcpassword={password}",
            "-fallbackfee=0.0002",
            "-txindex=1",
            "-keypool=100",
            "-dnsseed=0",
            "-discover=0",
            "-upnp=0",
            "-listenonion=0",
            "-connect=0",
        ];
        _slot.Process = NodeProcess.Start(litecoind, arguments, _dataDirectory);
        using var probeHttp = new HttpClient();
        var probe = new BitcoinRpcClient(probeHttp, Rpc.Endpoint, BitcoinRpcCredentials.UserPassword(RpcUser, password), TimeSpan.FromSeconds(2));
        return await _slot.Process.WaitUntilReadyAsync(
            async token =>
            {
                try
                {
                    Version = (await probe.GetNetworkVersionAsync(token)).Subversion;
                    return true;
                }
                catch (Exception exception) when (exception is HttpRequestException or TimeoutException
                    || exception is JsonRpcException { Code: -28 })
                {
                    // Not listening yet, or listening but still loading (RPC_IN_WARMUP).
                    return false;
                }
            },
            StartTimeout,
            $"litecoind -regtest on RPC port {RpcPort}",
            ct);
    }

    private static string LocateLitecoind()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        var candidates = path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "litecoind"))
            .Append("/usr/bin/litecoind");
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException(
                "litecoind was not found on PATH nor in /usr/bin. Run ./test.sh from the repository root: it installs the " +
                "Debian litecoind package and runs the tests.");
    }
}
