using System.Globalization;
using System.Numerics;
using System.Text;
using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using CryptoPay.Chains.Payouts;
using CryptoPay.Chains.Rpc;
using CryptoPay.TestSupport.Evm;
using Nethereum.Model;

namespace CryptoPay.Integration.Tests.Chains;

/// <summary>
/// The EVM hot wallet against a real dev node (ganache, one block per transaction): batches signed, broadcast, rebroadcast
/// and followed to their blocks, with every payment checked in the node's balances. Each test has its own hot wallet key.
/// </summary>
[Collection("evm")]
public sealed class EvmPayoutWalletTests(EvmDevNodeFixture fixture)
{
    private const long TokenTransferGas = 100_000;
    private const long CommitmentGas = 30_000;

    private static readonly Network Ethereum = Network.Ethereum(NetworkChain.Regtest);

    private readonly EvmDevNode _node = fixture.Node;
    private EvmRpcClient Rpc => _node.Rpc;

    [Fact]
    public async Task A_batch_of_native_and_token_outputs_is_signed_with_consecutive_nonces_and_pays_each_recipient_exactly_once_mined()
    {
        var token = await _node.DeployTestTokenAsync((await Rpc.GetAccountsAsync())[4], BigInteger.Pow(10, 24));
        var (wallet, _) = await FundedWalletAsync(910, Ether(3), token, 50_000_000);
        var (alice, bob, carol) = (Recipient(920), Recipient(921), Recipient(922));
        PayoutOutput[] outputs =
        [
            new(alice, BigInteger.Parse("1234567890123456789", CultureInfo.InvariantCulture)),
            new(bob, 12_345_678, token),
            new(carol, 1),
            new(alice, 7, token),
        ];
        var commitment = Commitment(0x11);
        var firstNonce = await Rpc.GetTransactionCountAsync(wallet.Address, includePending: true);
        var gasPrice = (await Rpc.GetTransferTermsAsync(wallet.Address, 21_000)).GasPrice;
        var balancesBefore = await BalancesAsync(outputs);
        var walletBefore = await Rpc.GetBalanceAsync(wallet.Address);
        var walletTokensBefore = await Rpc.GetErc20BalanceAsync(token, wallet.Address);
        var heightBefore = await Rpc.GetBlockNumberAsync();

        var batch = await wallet.SignAsync(outputs, commitment, CancellationToken.None);

        Assert.Equal(outputs.Length + 1, batch.Transactions.Count);
        Assert.Equal(heightBefore, await Rpc.GetBlockNumberAsync()); // signing broadcasts nothing
        Assert.Equal((CommitmentGas + 21_000 + TokenTransferGas + 21_000 + TokenTransferGas) * gasPrice, batch.EstimatedFeeUnits);
        var decoded = batch.Transactions.Select(Decode).ToArray();
        Assert.Equal([.. Enumerable.Range(0, outputs.Length + 1).Select(i => firstNonce + i)], decoded.Select(Nonce));
        Assert.Equal(wallet.Address.ToLowerInvariant(), To(decoded[0]));
        Assert.Equal(BigInteger.Zero, Unsigned(decoded[0].Value));
        Assert.Equal(commitment, decoded[0].Data);
        Assert.Equal(alice.ToLowerInvariant(), To(decoded[1]));
        Assert.Equal(outputs[0].Units, Unsigned(decoded[1].Value));
        Assert.Equal(token.ToLowerInvariant(), To(decoded[2]));
        Assert.Equal(BigInteger.Zero, Unsigned(decoded[2].Value));
        Assert.Equal(Erc20.EncodeTransfer(bob, 12_345_678), "0x" + Convert.ToHexStringLower(decoded[2].Data));
        foreach (var transaction in batch.Transactions)
        {
            Assert.Matches("^0x[0-9a-f]{64}$", transaction.Txid);
            Assert.Equal(PayoutTransactionState.Unknown, (await wallet.GetStatusAsync(transaction, CancellationToken.None)).State);
        }

        foreach (var transaction in batch.Transactions)
        {
            await wallet.BroadcastAsync(transaction, CancellationToken.None);
        }

        var statuses = new List<PayoutTransactionStatus>();
        foreach (var transaction in batch.Transactions)
        {
            var status = await wallet.GetStatusAsync(transaction, CancellationToken.None);
            Assert.Equal(PayoutTransactionState.Confirmed, status.State);
            statuses.Add(status);
        }

        var onChainCommitment = await Rpc.GetTransactionByHashAsync(batch.Transactions[0].Txid);
        Assert.NotNull(onChainCommitment);
        Assert.Equal("0x" + Convert.ToHexStringLower(commitment), onChainCommitment.Input);
        Assert.Equal(wallet.Address, onChainCommitment.To);
        Assert.Equal(wallet.Address, onChainCommitment.From);
        Assert.Equal(BigInteger.Zero, onChainCommitment.Value);
        Assert.Equal(balancesBefore.Alice + outputs[0].Units, await Rpc.GetBalanceAsync(alice));
        Assert.Equal(balancesBefore.Carol + 1, await Rpc.GetBalanceAsync(carol));
        Assert.Equal(balancesBefore.BobTokens + 12_345_678, await Rpc.GetErc20BalanceAsync(token, bob));
        Assert.Equal(balancesBefore.AliceTokens + 7, await Rpc.GetErc20BalanceAsync(token, alice));
        Assert.Equal(walletTokensBefore - 12_345_685, await Rpc.GetErc20BalanceAsync(token, wallet.Address));
        // The wallet paid the native outputs and exactly the fees its statuses report, no more.
        var feesPaid = statuses.Aggregate(BigInteger.Zero, (sum, s) => sum + s.FeeUnits!.Value);
        Assert.Equal(walletBefore - outputs[0].Units - 1 - feesPaid, await Rpc.GetBalanceAsync(wallet.Address));
        Assert.True(feesPaid <= batch.EstimatedFeeUnits, $"fees paid {feesPaid} exceed the estimate {batch.EstimatedFeeUnits}");
    }

    [Fact]
    public async Task Broadcasting_the_same_signed_bytes_again_before_and_after_mining_is_quiet_and_pays_once()
    {
        var (wallet, _) = await FundedWalletAsync(911, Ether(1));
        var recipient = Recipient(923);
        var before = await Rpc.GetBalanceAsync(recipient);
        var batch = await wallet.SignAsync([new PayoutOutput(recipient, 5_000)], Commitment(0x22), CancellationToken.None);

        await Rpc.StopMiningAsync();
        try
        {
            foreach (var transaction in batch.Transactions)
            {
                await wallet.BroadcastAsync(transaction, CancellationToken.None);
                await wallet.BroadcastAsync(transaction, CancellationToken.None); // in the node's pool: ganache answers "transaction underpriced"
                Assert.Equal(PayoutTransactionState.Pending, (await wallet.GetStatusAsync(transaction, CancellationToken.None)).State);
            }
        }
        finally
        {
            await Rpc.StartMiningAsync();
        }

        foreach (var transaction in batch.Transactions)
        {
            Assert.Equal(PayoutTransactionState.Confirmed, (await wallet.GetStatusAsync(transaction, CancellationToken.None)).State);
            await wallet.BroadcastAsync(transaction, CancellationToken.None); // mined: ganache answers that the nonce is too low
        }

        Assert.Equal(before + 5_000, await Rpc.GetBalanceAsync(recipient));
        foreach (var transaction in batch.Transactions)
        {
            Assert.Equal(PayoutTransactionState.Confirmed, (await wallet.GetStatusAsync(transaction, CancellationToken.None)).State);
        }
    }

    [Fact]
    public async Task Status_goes_from_unknown_to_pending_to_confirmed_with_the_fee_paid_its_block_and_growing_confirmations()
    {
        var (wallet, _) = await FundedWalletAsync(912, Ether(1));
        var batch = await wallet.SignAsync([new PayoutOutput(Recipient(924), 42)], Commitment(0x33), CancellationToken.None);
        var commitment = batch.Transactions[0];
        Assert.Equal(new PayoutTransactionStatus(PayoutTransactionState.Unknown), await wallet.GetStatusAsync(commitment, CancellationToken.None));

        await Rpc.StopMiningAsync();
        try
        {
            await wallet.BroadcastAsync(commitment, CancellationToken.None);
            Assert.Equal(new PayoutTransactionStatus(PayoutTransactionState.Pending), await wallet.GetStatusAsync(commitment, CancellationToken.None));
        }
        finally
        {
            await Rpc.StartMiningAsync();
        }

        var confirmed = await wallet.GetStatusAsync(commitment, CancellationToken.None);
        var receipt = await Rpc.GetTransactionReceiptAsync(commitment.Txid) ?? throw new InvalidOperationException($"No receipt for {commitment.Txid}.\n{_node.Log}");
        var block = await Rpc.GetBlockByNumberAsync(receipt.BlockNumber, fullTransactions: false);
        Assert.NotNull(block);
        Assert.Equal(PayoutTransactionState.Confirmed, confirmed.State);
        Assert.Equal(receipt.BlockNumber, confirmed.BlockHeight);
        Assert.Equal(block.Hash, confirmed.BlockHash);
        Assert.Equal(await Rpc.GetBlockNumberAsync() - receipt.BlockNumber + 1, confirmed.Confirmations);
        // 21,000 + 16 gas for each of the 37 non-zero bytes (Commitment() has none that are zero), at the signed gas price.
        Assert.Equal(21_000 + (16 * 37), receipt.GasUsed);
        Assert.Equal(receipt.GasUsed * Unsigned(Decode(commitment).GasPrice), confirmed.FeeUnits);
        Assert.Equal(commitment.Txid, block.TransactionHashes[int.Parse(confirmed.InclusionProof!, CultureInfo.InvariantCulture)]);

        for (var i = 0; i < 3; i++)
        {
            await Rpc.MineAsync();
        }

        var deeper = await wallet.GetStatusAsync(commitment, CancellationToken.None);
        Assert.Equal(confirmed with { Confirmations = confirmed.Confirmations + 3 }, deeper);
    }

    [Fact]
    public async Task A_token_transfer_the_contract_refuses_is_reported_reverted_with_the_fee_it_cost()
    {
        var token = await _node.DeployTestTokenAsync((await Rpc.GetAccountsAsync())[4], BigInteger.Pow(10, 24));
        var (wallet, _) = await FundedWalletAsync(913, Ether(1), token, 1_000);
        const string zeroAddress = "0x0000000000000000000000000000000000000000"; // TestToken refuses "transfer to the zero address"
        var batch = await wallet.SignAsync([new PayoutOutput(zeroAddress, 10, token)], Commitment(0x44), CancellationToken.None);

        foreach (var transaction in batch.Transactions)
        {
            await wallet.BroadcastAsync(transaction, CancellationToken.None);
        }

        Assert.Equal(PayoutTransactionState.Confirmed, (await wallet.GetStatusAsync(batch.Transactions[0], CancellationToken.None)).State);
        var reverted = await wallet.GetStatusAsync(batch.Transactions[1], CancellationToken.None);
        Assert.Equal(PayoutTransactionState.Reverted, reverted.State);
        var receipt = await Rpc.GetTransactionReceiptAsync(batch.Transactions[1].Txid);
        Assert.Equal(false, receipt!.Succeeded);
        Assert.Equal(receipt.GasUsed * Unsigned(Decode(batch.Transactions[1]).GasPrice), reverted.FeeUnits);
        Assert.Equal(new BigInteger(1_000), await Rpc.GetErc20BalanceAsync(token, wallet.Address));
    }

    [Fact]
    public async Task A_batch_whose_nonce_another_transaction_of_the_key_used_is_conflicted_and_its_broadcast_rejected()
    {
        var (wallet, key) = await FundedWalletAsync(914, Ether(1));
        var recipient = Recipient(925);
        var before = await Rpc.GetBalanceAsync(recipient);
        var batch = await wallet.SignAsync([new PayoutOutput(recipient, 77_000)], Commitment(0x55), CancellationToken.None);
        var commitment = batch.Transactions[0];

        // Another transaction of the same key takes the batch's first nonce before the batch is broadcast.
        var terms = await Rpc.GetTransferTermsAsync(wallet.Address, 21_000);
        Assert.Equal(Nonce(Decode(commitment)), terms.Nonce);
        var other = EvmTransferSigner.SignNative(key, Recipient(926), 1, terms);
        var otherHash = await Rpc.SendRawTransactionAsync(other);
        Assert.True((await Rpc.GetTransactionReceiptAsync(otherHash))?.Succeeded);

        Assert.Equal(new PayoutTransactionStatus(PayoutTransactionState.Conflicted), await wallet.GetStatusAsync(commitment, CancellationToken.None));
        var rejected = await Assert.ThrowsAsync<PayoutRejectedException>(() => wallet.BroadcastAsync(commitment, CancellationToken.None));
        Assert.IsType<JsonRpcException>(rejected.InnerException);
        Assert.Equal(PayoutTransactionState.Conflicted, (await wallet.GetStatusAsync(commitment, CancellationToken.None)).State);
        Assert.Null(await Rpc.GetTransactionByHashAsync(commitment.Txid));
        // The batch's next nonce is still free: the transfer could still be mined, so it must not be broadcast (see EvmPayoutWallet).
        Assert.Equal(PayoutTransactionState.Unknown, (await wallet.GetStatusAsync(batch.Transactions[1], CancellationToken.None)).State);
        Assert.Equal(before, await Rpc.GetBalanceAsync(recipient));
    }

    [Fact]
    public async Task Too_little_native_or_token_balance_throws_PayoutFundsException_and_signs_and_sends_nothing()
    {
        var token = await _node.DeployTestTokenAsync((await Rpc.GetAccountsAsync())[4], BigInteger.Pow(10, 24));
        var (wallet, _) = await FundedWalletAsync(915, Ether(1), token, 1_000);
        var recipient = Recipient(927);
        var balance = await Rpc.GetBalanceAsync(wallet.Address);
        var gasPrice = (await Rpc.GetTransferTermsAsync(wallet.Address, 21_000)).GasPrice;
        var affordable = balance - ((CommitmentGas + 21_000) * gasPrice);
        var nonce = await Rpc.GetTransactionCountAsync(wallet.Address, includePending: true);
        var height = await Rpc.GetBlockNumberAsync();

        var native = await Assert.ThrowsAsync<PayoutFundsException>(() =>
            wallet.SignAsync([new PayoutOutput(recipient, affordable + 1)], Commitment(0x66), CancellationToken.None));
        var tokens = await Assert.ThrowsAsync<PayoutFundsException>(() =>
            wallet.SignAsync([new PayoutOutput(recipient, 600, token), new PayoutOutput(recipient, 401, token)], Commitment(0x66), CancellationToken.None));

        Assert.Contains(wallet.Address, native.Message, StringComparison.Ordinal);
        Assert.Contains("1001", tokens.Message, StringComparison.Ordinal);
        Assert.Equal(height, await Rpc.GetBlockNumberAsync());
        Assert.Equal(nonce, await Rpc.GetTransactionCountAsync(wallet.Address, includePending: true));
        Assert.Equal(balance, await Rpc.GetBalanceAsync(wallet.Address));
        // The exact amounts the balances cover are signed: the checks are not off by one.
        Assert.Equal(2, (await wallet.SignAsync([new PayoutOutput(recipient, affordable)], Commitment(0x66), CancellationToken.None)).Transactions.Count);
        Assert.Equal(3, (await wallet.SignAsync([new PayoutOutput(recipient, 600, token), new PayoutOutput(recipient, 400, token)], Commitment(0x66), CancellationToken.None)).Transactions.Count);
    }

    [Fact]
    public async Task A_wallet_configured_for_another_chain_signs_nothing()
    {
        var (funded, _) = await FundedWalletAsync(916, Ether(1));
        var key = TestAccounts.PrivateKey(Ethereum, 916).ToBytes();
        var mainnet = new EvmPayoutWallet(Rpc, key, chainId: 1);
        Assert.Equal(funded.Address, mainnet.Address);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            mainnet.SignAsync([new PayoutOutput(Recipient(928), 1)], Commitment(0x77), CancellationToken.None));
        Assert.Contains(EvmDevNodeFixture.ChainId.ToString(CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A hot wallet for one test, from its own derived key, holding <paramref name="wei"/> (and <paramref name="tokenUnits"/>
    /// of <paramref name="token"/>), whose nonce 0 is already used: ganache 7.9.2 reads a raw transaction's nonce of 0 (the
    /// empty RLP string) as "no nonce" and gives it the account's next one, so a rebroadcast nonce-0 transaction would be
    /// mined again where real nodes refuse it.
    /// </summary>
    private async Task<(EvmPayoutWallet Wallet, byte[] Key)> FundedWalletAsync(uint index, BigInteger wei, string? token = null, BigInteger tokenUnits = default)
    {
        var key = TestAccounts.PrivateKey(Ethereum, index).ToBytes();
        var wallet = new EvmPayoutWallet(Rpc, key, EvmDevNodeFixture.ChainId, new EvmPayoutGasLimits(TokenTransfer: TokenTransferGas, Commitment: CommitmentGas));
        var funder = (await Rpc.GetAccountsAsync())[4];
        await RequireSuccessAsync(await Rpc.SendTransactionAsync(new EvmTransactionRequest(funder, wallet.Address, wei)));
        if (token is not null)
        {
            await RequireSuccessAsync(await Rpc.SendTransactionAsync(new EvmTransactionRequest(funder, token, BigInteger.Zero, Erc20.EncodeTransfer(wallet.Address, tokenUnits))));
        }

        var terms = await Rpc.GetTransferTermsAsync(wallet.Address, 21_000);
        Assert.Equal(BigInteger.Zero, terms.Nonce);
        await RequireSuccessAsync(await Rpc.SendRawTransactionAsync(EvmTransferSigner.SignNative(key, wallet.Address, BigInteger.Zero, terms)));
        return (wallet, key);
    }

    /// <summary>The node mines every transaction at once (instamine eager), so the receipt exists when the call returns.</summary>
    private async Task<EvmReceipt> RequireSuccessAsync(string hash)
    {
        var receipt = await Rpc.GetTransactionReceiptAsync(hash) ?? throw new InvalidOperationException($"No receipt for {hash}.\n{_node.Log}");
        Assert.True(receipt.Succeeded, $"{hash} failed.\n{_node.Log}");
        return receipt;
    }

    private async Task<(BigInteger Alice, BigInteger Carol, BigInteger BobTokens, BigInteger AliceTokens)> BalancesAsync(PayoutOutput[] outputs) =>
        (await Rpc.GetBalanceAsync(outputs[0].Address), await Rpc.GetBalanceAsync(outputs[2].Address),
            await Rpc.GetErc20BalanceAsync(outputs[1].TokenContract!, outputs[1].Address), await Rpc.GetErc20BalanceAsync(outputs[3].TokenContract!, outputs[3].Address));

    private static string Recipient(uint index) => TestAccounts.Deriver(Ethereum, ExtendedKeyVersion.Tpub).DeriveReceiveAddress(index);

    private static BigInteger Ether(int ether) => BigInteger.Pow(10, 18) * ether;

    /// <summary>What the settlement batch commits to: "CPAY", version 1, a 32-byte root (here <paramref name="fill"/> repeated, no zero byte).</summary>
    private static byte[] Commitment(byte fill) => [.. Encoding.ASCII.GetBytes("CPAY"), 0x01, .. Enumerable.Repeat(fill, 32)];

    private static LegacyTransactionChainId Decode(SignedPayout transaction) =>
        Assert.IsType<LegacyTransactionChainId>(TransactionFactory.CreateTransaction(transaction.Hex));

    private static string To(LegacyTransactionChainId transaction) => "0x" + Convert.ToHexStringLower(transaction.ReceiveAddress);

    private static BigInteger Nonce(LegacyTransactionChainId transaction) => Unsigned(transaction.Nonce);

    private static BigInteger Unsigned(byte[]? bigEndian) => new(bigEndian ?? [], isUnsigned: true, isBigEndian: true);
}
