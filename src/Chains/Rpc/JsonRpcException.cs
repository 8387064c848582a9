namespace CryptoPay.Chains.Rpc;

/// <summary>A node answered a JSON-RPC call with an error object (or an HTTP error without one).</summary>
public sealed class JsonRpcException : Exception
{
    public JsonRpcException(string method, int code, string rpcMessage, Exception? inner = null)
        : base($"JSON-RPC '{method}' failed with code {code}: {rpcMessage}", inner)
    {
        Method = method;
        Code = code;
        RpcMessage = rpcMessage;
    }

    /// <summary>The RPC method that failed.</summary>
    public string Method { get; }

    /// <summary>The node's error code (Bitcoin Core's RPC_* codes, EIP-1474 codes), or the HTTP status when no JSON came back.</summary>
    public int Code { get; }

    /// <summary>The node's error message.</summary>
    public string RpcMessage { get; }
}
