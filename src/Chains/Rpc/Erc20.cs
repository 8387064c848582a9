using System.Numerics;
using CryptoPay.Chains.Addresses;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Contracts;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.RPC.Eth.DTOs;

namespace CryptoPay.Chains.Rpc;

/// <summary>The slice of the ERC-20 ABI a payment gateway needs, as Nethereum ABI types: the Transfer event, the transfer call and balanceOf.</summary>
public static class Erc20
{
    /// <summary>topic0 of <c>Transfer(address,address,uint256)</c>: keccak256 of the signature.</summary>
    public static string TransferTopic { get; } = ABITypedRegistry.GetEvent<TransferEvent>().Sha3Signature.EnsureHexPrefix();

    /// <summary>The 4-byte selector of <c>transfer(address,uint256)</c>.</summary>
    public static string TransferSelector { get; } = ABITypedRegistry.GetFunctionABI<TransferFunction>().Sha3Signature.EnsureHexPrefix();

    private static readonly BigInteger MaxUint256 = BigInteger.Pow(2, 256) - 1;

    /// <summary>An address as a 32-byte topic (left-padded with zeros), for filtering Transfer logs by sender or recipient.</summary>
    public static string AddressTopic(string evmAddress) => "0x" + new string('0', 24) + Convert.ToHexStringLower(AddressBytes(evmAddress));

    /// <summary>Calldata for <c>transfer(to, value)</c>.</summary>
    public static string EncodeTransfer(string toEvmAddress, BigInteger value)
    {
        if (value.Sign < 0 || value > MaxUint256)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "A uint256 is between 0 and 2^256 - 1.");
        }

        _ = AddressBytes(toEvmAddress);
        return new TransferFunction { To = toEvmAddress, Value = value }.GetCallData().ToHex(prefix: true);
    }

    /// <summary>
    /// Decodes a log that is a standard Transfer (topic0, indexed from and to, the value as the 32-byte data word).
    /// False for anything else, including non-standard tokens that do not index the addresses.
    /// </summary>
    public static bool TryDecodeTransfer(FilterLog log, out TransferEvent transfer)
    {
        ArgumentNullException.ThrowIfNull(log);
        transfer = null!;
        if (log.Topics is not { Length: 3 } || !log.IsLogForEvent<TransferEvent>())
        {
            return false;
        }

        try
        {
            transfer = log.DecodeEvent<TransferEvent>().Event;
            return true;
        }
        catch (Exception exception) when (exception is FormatException or ArgumentException or InvalidOperationException or IndexOutOfRangeException)
        {
            return false;
        }
    }

    private static byte[] AddressBytes(string evmAddress) =>
        EvmAddress.TryParse(evmAddress, out var bytes, out var error) ? bytes : throw new ArgumentException($"Invalid EVM address '{evmAddress}': {error}.", nameof(evmAddress));

    /// <summary>ERC-20 <c>Transfer(address indexed from, address indexed to, uint256 value)</c>.</summary>
    [Event("Transfer")]
    public sealed class TransferEvent : IEventDTO
    {
        [Parameter("address", "from", 1, true)]
        public string From { get; set; } = "";

        [Parameter("address", "to", 2, true)]
        public string To { get; set; } = "";

        [Parameter("uint256", "value", 3, false)]
        public BigInteger Value { get; set; }
    }

    /// <summary>ERC-20 <c>balanceOf(address owner) returns (uint256)</c>.</summary>
    [Function("balanceOf", "uint256")]
    public sealed class BalanceOfFunction : FunctionMessage
    {
        [Parameter("address", "owner", 1)]
        public string Owner { get; set; } = "";
    }

    /// <summary>ERC-20 <c>transfer(address to, uint256 value) returns (bool)</c>.</summary>
    [Function("transfer", "bool")]
    public sealed class TransferFunction : FunctionMessage
    {
        [Parameter("address", "to", 1)]
        public string To { get; set; } = "";

        [Parameter("uint256", "value", 2)]
        public BigInteger Value { get; set; }
    }
}

/// <summary>
/// A decoded ERC-20/BEP-20/TRC-20 <c>Transfer</c> event; addresses in the network's form (EIP-55, or "T…" from
/// <see cref="TronRpcAdapter"/>), value in the token's smallest unit.
/// </summary>
public sealed record Erc20TransferLog(
    string Contract,
    string From,
    string To,
    BigInteger Value,
    string TransactionHash,
    long BlockNumber,
    string BlockHash,
    long LogIndex,
    bool Removed);
