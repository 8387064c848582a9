using System.Numerics;
using CryptoPay.Chains.Rpc;
using Nethereum.Signer;

namespace CryptoPay.Chains.Payouts;

/// <summary>What an EVM payout needs besides the key: the chain and the sender's nonce and gas price, from the node.</summary>
public sealed record EvmTransferTerms(long ChainId, BigInteger Nonce, BigInteger GasPrice, BigInteger GasLimit);

/// <summary>
/// Signs EVM payouts with Nethereum's signer (EIP-155 legacy transactions): native value, an ERC-20/BEP-20
/// <c>transfer</c> call, or plain data. Returns the raw transaction hex; the caller records it (its hash is the payout's id on
/// chain) before broadcasting with <see cref="EvmRpcClient.SendRawTransactionAsync"/>.
/// </summary>
public static class EvmTransferSigner
{
    public static string SignNative(byte[] privateKey, string to, BigInteger wei, EvmTransferTerms terms) =>
        Sign(privateKey, to, wei, terms, data: null);

    public static string SignToken(byte[] privateKey, string tokenContract, string to, BigInteger units, EvmTransferTerms terms) =>
        Sign(privateKey, tokenContract, BigInteger.Zero, terms, Erc20.EncodeTransfer(to, units));

    /// <summary>A 0-value transaction carrying <paramref name="data"/> as its input, e.g. a batch's commitment sent by the wallet to itself.</summary>
    public static string SignData(byte[] privateKey, string to, byte[] data, EvmTransferTerms terms)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Sign(privateKey, to, BigInteger.Zero, terms, "0x" + Convert.ToHexStringLower(data));
    }

    private static string Sign(byte[] privateKey, string to, BigInteger wei, EvmTransferTerms terms, string? data)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        ArgumentNullException.ThrowIfNull(terms);
        if (wei.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(wei), wei, "A transfer cannot be negative.");
        }

        var signed = new LegacyTransactionSigner().SignTransaction(
            privateKey, terms.ChainId, to, wei, terms.Nonce, terms.GasPrice, terms.GasLimit, data ?? "");
        return "0x" + signed;
    }
}
