using System.Numerics;
using CryptoPay.Chains.Addresses;
using CryptoPay.Chains.Crypto;
using CryptoPay.Chains.Encoding;

namespace CryptoPay.Chains.Rpc;

/// <summary>The slice of the ERC-20 ABI a payment gateway needs: the Transfer event and the transfer call.</summary>
public static class Erc20
{
    private const int WordLength = 32;

    /// <summary>topic0 of <c>Transfer(address,address,uint256)</c>: keccak256 of the signature.</summary>
    public static string TransferTopic { get; } = "0x" + Hex.Encode(Hashes.Keccak256("Transfer(address,address,uint256)"u8));

    /// <summary>The 4-byte selector of <c>transfer(address,uint256)</c>.</summary>
    public static string TransferSelector { get; } = "0x" + Hex.Encode(Hashes.Keccak256("transfer(address,uint256)"u8).AsSpan(0, 4));

    /// <summary>An address as a 32-byte topic (left-padded with zeros), for filtering Transfer logs by sender or recipient.</summary>
    public static string AddressTopic(string evmAddress) => "0x" + Hex.Encode(AddressWord(evmAddress));

    /// <summary>Calldata for <c>transfer(to, value)</c>.</summary>
    public static string EncodeTransfer(string toEvmAddress, BigInteger value)
    {
        if (value.Sign < 0 || value.GetByteCount(isUnsigned: true) > WordLength)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "A uint256 is between 0 and 2^256 - 1.");
        }

        var data = new byte[4 + (2 * WordLength)];
        Hex.Decode(TransferSelector).CopyTo(data, 0);
        AddressWord(toEvmAddress).CopyTo(data, 4);
        value.TryWriteBytes(data.AsSpan(4 + WordLength + WordLength - value.GetByteCount(isUnsigned: true)), out _, isUnsigned: true, isBigEndian: true);
        return "0x" + Hex.Encode(data);
    }

    private static byte[] AddressWord(string evmAddress)
    {
        if (!EvmAddress.TryParse(evmAddress, out var bytes, out var error))
        {
            throw new ArgumentException($"Invalid EVM address '{evmAddress}': {error}.", nameof(evmAddress));
        }

        var word = new byte[WordLength];
        bytes.CopyTo(word, WordLength - EvmAddress.Length);
        return word;
    }
}

/// <summary>A decoded ERC-20/BEP-20/TRC-20 <c>Transfer</c> event; addresses in EIP-55 form, value in the token's smallest unit.</summary>
public sealed record Erc20TransferLog(
    string Contract,
    string From,
    string To,
    BigInteger Value,
    string TransactionHash,
    long BlockNumber,
    string BlockHash,
    long LogIndex,
    bool Removed)
{
    /// <summary>
    /// Decodes a log that is a standard Transfer (topic0, indexed from and to, the value as the 32-byte data word).
    /// False for anything else, including non-standard tokens that do not index the addresses.
    /// </summary>
    public static bool TryDecode(EvmLog log, out Erc20TransferLog transfer)
    {
        ArgumentNullException.ThrowIfNull(log);
        transfer = null!;
        if (log.Topics.Count != 3 || !string.Equals(log.Topics[0], Erc20.TransferTopic, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (!TryTopicAddress(log.Topics[1], out var from) || !TryTopicAddress(log.Topics[2], out var to))
        {
            return false;
        }

        var data = log.Data.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? log.Data[2..] : log.Data;
        if (data.Length != 64 || !Hex.IsHexDigits(data))
        {
            return false;
        }

        transfer = new Erc20TransferLog(
            log.Address, from, to, HexQuantity.FromBigEndian(Convert.FromHexString(data)),
            log.TransactionHash, log.BlockNumber, log.BlockHash, log.LogIndex, log.Removed);
        return true;
    }

    private static bool TryTopicAddress(string topic, out string address)
    {
        address = "";
        var hex = topic.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? topic[2..] : topic;
        // An address topic is 12 zero bytes then the 20 address bytes.
        if (hex.Length != 64 || !Hex.IsHexDigits(hex) || hex.AsSpan(0, 24).ContainsAnyExcept('0'))
        {
            return false;
        }

        address = EvmAddress.ToChecksumAddress(Convert.FromHexString(hex.AsSpan(24)));
        return true;
    }
}
