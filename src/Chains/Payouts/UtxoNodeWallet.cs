using System.Globalization;
using System.Numerics;
using CryptoPay.Chains.Rpc;
using NBitcoin;
using Network = CryptoPay.Chains.Networks.Network;

namespace CryptoPay.Chains.Payouts;

/// <summary>
/// The hot wallet of a Bitcoin or Litecoin network: a wallet of the operator's node. A batch becomes one transaction,
/// built here with NBitcoin (the payouts in entry order, then an OP_RETURN output carrying the commitment), funded and
/// signed by the node (<c>fundrawtransaction</c> with its inputs locked, <c>signrawtransactionwithwallet</c>), and
/// checked before it is handed back: it must pay exactly the payouts and the commitment, plus at most one change output.
/// </summary>
/// <param name="wallet">A client bound to the payout wallet (<see cref="BitcoinRpcClient.ForWallet"/>).</param>
/// <param name="requiredConfirmations">A conflicting transaction this deep makes ours one that can never confirm.</param>
public sealed class UtxoNodeWallet(BitcoinRpcClient wallet, Network network, int requiredConfirmations) : IPayoutWallet
{
    // Bitcoin Core's RPC error codes the broadcast tells apart.
    private const int VerifyError = -25; // inputs missing or spent
    private const int VerifyRejected = -26; // refused by mempool policy or consensus
    private const int AlreadyInChain = -27;
    private const int WalletInsufficientFunds = -4;
    private const int WalletError = -6;

    private readonly NBitcoin.Network utxo = network?.UtxoNetwork ?? throw new ArgumentException($"{network} is not a UTXO network.", nameof(network));

    public async Task<SignedPayoutBatch> SignAsync(IReadOnlyList<PayoutOutput> outputs, byte[] commitment, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(commitment);
        if (outputs.Count == 0 || outputs.Any(o => o.TokenContract is not null || o.Units.Sign <= 0 || o.Units > long.MaxValue))
        {
            throw new ArgumentException($"A {network.Id} batch pays the native coin, a positive amount to each output.", nameof(outputs));
        }

        var unsigned = utxo.CreateTransaction();
        foreach (var output in outputs)
        {
            unsigned.Outputs.Add(new TxOut(Money.Satoshis((long)output.Units), BitcoinAddress.Create(output.Address, utxo)));
        }

        var commitmentScript = TxNullDataTemplate.Instance.GenerateScriptPubKey(commitment);
        unsigned.Outputs.Add(new TxOut(Money.Zero, commitmentScript));

        BitcoinFundedTransaction funded;
        try
        {
            funded = await wallet.FundRawTransactionAsync(WithoutWitness(unsigned), lockUnspents: true, changePosition: outputs.Count + 1, ct);
        }
        catch (JsonRpcException error) when (error.Code is WalletInsufficientFunds or WalletError && error.RpcMessage.Contains("Insufficient funds", StringComparison.OrdinalIgnoreCase))
        {
            throw new PayoutFundsException($"The {network.Id} payout wallet cannot pay {outputs.Count} payouts of {Sum(outputs)} units and the fee: {error.RpcMessage}", error);
        }

        var signing = await wallet.SignRawTransactionWithWalletAsync(funded.Hex, ct);
        if (!signing.Complete)
        {
            throw new InvalidOperationException($"The {network.Id} payout wallet could not sign every input of the batch transaction: {string.Join("; ", signing.Errors)}");
        }

        var signed = Transaction.Parse(signing.Hex, utxo);
        Check(signed, unsigned);
        return new SignedPayoutBatch([new SignedPayout(signed.GetHash().ToString(), signing.Hex)], funded.FeeSatoshis);
    }

    public async Task BroadcastAsync(SignedPayout transaction, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        try
        {
            await wallet.SendRawTransactionAsync(transaction.Hex, ct);
        }
        catch (JsonRpcException known) when (known.Code == AlreadyInChain || (known.Code == VerifyRejected && known.RpcMessage.Contains("already", StringComparison.OrdinalIgnoreCase)))
        {
            // The node has these bytes already (a retry, a rebroadcast after a crash): nothing to do.
        }
        catch (JsonRpcException refused) when (refused.Code is VerifyError or VerifyRejected)
        {
            if (await FindAsync(transaction.Txid, ct) is { Confirmations: > 0 })
            {
                return;
            }

            throw new PayoutRejectedException($"The {network.Id} node refused transaction {transaction.Txid}: {refused.RpcMessage}", refused);
        }
    }

    public async Task<PayoutTransactionStatus> GetStatusAsync(SignedPayout transaction, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var known = await FindAsync(transaction.Txid, ct);
        switch (known)
        {
            case null:
                // Never accepted by the node. If an input is spent in the chain, these bytes can never be mined: the node
                // refused them, so no other node has them either.
                return new PayoutTransactionStatus(await SpendsSpentInputAsync(transaction, ct) ? PayoutTransactionState.Conflicted : PayoutTransactionState.Unknown);
            case { Confirmations: > 0, BlockHash: { } block }:
                var proof = await wallet.GetTxOutProofAsync(transaction.Txid, block, ct);
                return new PayoutTransactionStatus(PayoutTransactionState.Confirmed, (int)known.Confirmations, block, known.BlockHeight, known.FeeSatoshis, proof);
            case { Confirmations: < 0 } when -known.Confirmations >= requiredConfirmations:
                return new PayoutTransactionStatus(PayoutTransactionState.Conflicted, (int)-known.Confirmations);
            default:
                // In the mempool, or dropped from it (a restarted node, a reorganisation): Unknown has it broadcast again.
                return new PayoutTransactionStatus(await wallet.IsInMempoolAsync(transaction.Txid, ct) ? PayoutTransactionState.Pending : PayoutTransactionState.Unknown);
        }
    }

    private async Task<bool> SpendsSpentInputAsync(SignedPayout transaction, CancellationToken ct)
    {
        foreach (var input in Transaction.Parse(transaction.Hex, utxo).Inputs)
        {
            if (!await wallet.IsUnspentAsync(input.PrevOut.Hash.ToString(), (int)input.PrevOut.N, includeMempool: false, ct))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The wallet's record of the transaction; null when it does not know it (never broadcast).</summary>
    private async Task<BitcoinWalletTransaction?> FindAsync(string txid, CancellationToken ct)
    {
        try
        {
            return await wallet.GetTransactionAsync(txid, ct);
        }
        catch (JsonRpcException unknown) when (unknown.Code == BitcoinRpcClient.InvalidAddressOrKey)
        {
            return null;
        }
    }

    /// <summary>
    /// The legacy serialization: a transaction without inputs yet (the one <c>fundrawtransaction</c> completes) has no
    /// witness serialization, and NBitcoin refuses to write one.
    /// </summary>
    private static string WithoutWitness(Transaction transaction)
    {
        using var bytes = new MemoryStream();
        transaction.ReadWrite(new BitcoinStream(bytes, serializing: true) { TransactionOptions = TransactionOptions.None });
        return Convert.ToHexStringLower(bytes.ToArray());
    }

    /// <summary>The signed transaction pays exactly what was asked, in order, then the commitment, then at most one change output; its fee is the inputs' rest.</summary>
    private void Check(Transaction signed, Transaction asked)
    {
        var expected = asked.Outputs.Count;
        if (signed.Outputs.Count < expected || signed.Outputs.Count > expected + 1)
        {
            throw new InvalidOperationException($"The {network.Id} payout wallet returned a transaction with {signed.Outputs.Count} outputs for {expected} asked.");
        }

        for (var i = 0; i < expected; i++)
        {
            if (signed.Outputs[i].Value != asked.Outputs[i].Value || signed.Outputs[i].ScriptPubKey != asked.Outputs[i].ScriptPubKey)
            {
                throw new InvalidOperationException($"The {network.Id} payout wallet changed output {i.ToString(CultureInfo.InvariantCulture)} of the batch transaction.");
            }
        }
    }

    private static BigInteger Sum(IReadOnlyList<PayoutOutput> outputs) => outputs.Aggregate(BigInteger.Zero, (s, o) => s + o.Units);
}
