using System.Globalization;
using System.Text.Json.Nodes;
using CryptoPay.Chains.Payouts;
using CryptoPay.TestSupport.Litecoin;
using CryptoPay.TestSupport.Proofs;

namespace CryptoPay.Integration.Tests.Chains;

/// <summary>
/// Payout proofs as docs/PROOFS.md specifies them, checked by the independent Python checker against a real litecoind:
/// one wallet transaction pays five entries and carries the tree's commitment in an OP_RETURN output.
/// </summary>
[Collection("litecoin")]
public sealed class PayoutProofCheckerTests(LitecoinFixture fixture)
{
    private readonly LitecoinRegtestNode _node = fixture.Node;

    public enum Tamper
    {
        AmountPlusOne,
        BranchHash,
        BlockHash,
    }

    [Fact]
    public async Task Every_entry_of_a_five_output_payout_passes_the_python_checker()
    {
        var batch = await PayBatchAsync();

        var mined = await _node.Rpc.GetRawTransactionAsync(batch.Txid, verbose: true);
        Assert.Equal(batch.BlockHash, mined.BlockHash);
        Assert.Single(mined.Details!.Outputs, o => o.ScriptPubKeyHex == "6a25" + Convert.ToHexStringLower(batch.Commitment));
        foreach (var entry in batch.Tree.Entries)
        {
            var check = await CheckAsync(ProofJson(batch, entry));

            Assert.True(check.Passed, $"{entry.WithdrawalIdText}:\n{check.Output}{check.Error}");
            Assert.Contains("ok    payment output", check.Output, StringComparison.Ordinal);
            Assert.Contains("all checks passed", check.Output, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(Tamper.AmountPlusOne, "leaf")]
    [InlineData(Tamper.BranchHash, "merkle_root")]
    [InlineData(Tamper.BlockHash, "txout_proof block")]
    public async Task A_tampered_proof_fails_the_check_it_breaks(Tamper tamper, string failingCheck)
    {
        var batch = await PayBatchAsync();
        var entry = batch.Tree.Entries[2];
        var proof = ProofJson(batch, entry);
        Assert.True((await CheckAsync(proof)).Passed);

        switch (tamper)
        {
            case Tamper.AmountPlusOne:
                proof["entry"]!["amount_units"] = (entry.AmountUnits + 1).ToString(CultureInfo.InvariantCulture);
                break;
            case Tamper.BranchHash:
                var hash = Convert.FromHexString(proof["branch"]![1]!["hash"]!.GetValue<string>());
                hash[0] ^= 0x01;
                proof["branch"]![1]!["hash"] = Convert.ToHexStringLower(hash);
                break;
            case Tamper.BlockHash:
                // A real block of the active chain, just not the one holding the payout.
                proof["block_hash"] = await _node.Rpc.GetBlockHashAsync(proof["block_height"]!.GetValue<long>() - 1);
                break;
        }

        var check = await CheckAsync(proof);

        Assert.Equal(1, check.ExitCode);
        Assert.StartsWith($"FAIL  {failingCheck}:", check.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_consistent_proof_of_an_entry_the_transaction_underpays_fails_the_payment_check()
    {
        var batch = await PayBatchAsync(underpaidLeaf: 1);

        var check = await CheckAsync(ProofJson(batch, batch.Tree.Entries[1]));

        Assert.Equal(1, check.ExitCode);
        Assert.Contains("ok    OP_RETURN commitment", check.Output, StringComparison.Ordinal);
        Assert.StartsWith("FAIL  payment output:", check.Error, StringComparison.Ordinal);
        Assert.True((await CheckAsync(ProofJson(batch, batch.Tree.Entries[0]))).Passed);
    }

    [Fact]
    public async Task A_consistent_proof_of_a_root_the_transaction_does_not_carry_fails_the_commitment_check()
    {
        var batch = await PayBatchAsync();
        var uncommitted = PayoutMerkleTree.Build(batch.Tree.Entries.Take(4));

        var check = await CheckAsync(ProofJson(batch with { Tree = uncommitted, Commitment = PayoutMerkleTree.Commitment(uncommitted.Root()) }, uncommitted.Entries[0]));

        Assert.Equal(1, check.ExitCode);
        Assert.Contains("ok    block_height", check.Output, StringComparison.Ordinal);
        Assert.StartsWith("FAIL  OP_RETURN commitment:", check.Error, StringComparison.Ordinal);
    }

    /// <summary>The payout transaction and what a proof of one of its entries needs.</summary>
    private sealed record PaidBatch(Guid SettlementId, PayoutMerkleTree Tree, byte[] Commitment, string Txid, string BlockHash, long BlockHeight, string TxOutProof);

    /// <summary>
    /// Five entries to fresh wallet addresses of each type, paid by one funded, signed and mined raw transaction; the
    /// entry at leaf <paramref name="underpaidLeaf"/> (if any) is paid one unit less than committed.
    /// </summary>
    private async Task<PaidBatch> PayBatchAsync(int underpaidLeaf = -1)
    {
        await EnsureSpendableCoinsAsync();
        string[] addressTypes = ["bech32", "legacy", "p2sh-segwit", "bech32", "legacy"];
        var entries = new List<PayoutEntry>();
        foreach (var (addressType, i) in addressTypes.Select((type, i) => (type, i)))
        {
            var address = await _node.Wallet.GetNewAddressAsync(addressType);
            string[] paymentIds = i % 2 == 0 ? [$"pay_{Guid.NewGuid():N}", $"pay_{Guid.NewGuid():N}"] : [];
            entries.Add(new PayoutEntry(Guid.NewGuid(), "ltc", "LTC", address, 1_500_000 + 1_111_111 * i, paymentIds));
        }

        var tree = PayoutMerkleTree.Build(entries);
        var commitment = PayoutMerkleTree.Commitment(tree.Root());
        var unsigned = await _node.Wallet.CreateRawTransactionAsync(
            [.. tree.Entries.Select((e, leaf) => new UtxoPayment(e.Address, (long)e.AmountUnits - (leaf == underpaidLeaf ? 1 : 0)))], commitment);
        var funded = await _node.Wallet.FundRawTransactionAsync(unsigned, lockUnspents: true);
        var signed = await _node.Wallet.SignRawTransactionWithWalletAsync(funded.Hex);
        Assert.True(signed.Complete, string.Join("\n", signed.Errors));
        var txid = await _node.Rpc.SendRawTransactionAsync(signed.Hex);
        var blockHash = Assert.Single(await _node.Rpc.GenerateToAddressAsync(1, await _node.Wallet.GetNewAddressAsync("bech32")));

        var sent = await _node.Wallet.GetTransactionAsync(txid);
        Assert.Equal((1L, blockHash, funded.FeeSatoshis), (sent.Confirmations, sent.BlockHash, sent.FeeSatoshis));
        Assert.Equal(signed.Hex, sent.Hex);
        return new PaidBatch(
            Guid.NewGuid(), tree, commitment, txid, blockHash, sent.BlockHeight!.Value, await _node.Rpc.GetTxOutProofAsync(txid, blockHash));
    }

    /// <summary>The proof JSON of docs/PROOFS.md, as GET /v1/proofs/{id} serves it.</summary>
    private static JsonObject ProofJson(PaidBatch batch, PayoutEntry entry) => new()
    {
        ["id"] = entry.WithdrawalIdText,
        ["settlement_id"] = batch.SettlementId.ToString("D"),
        ["network"] = entry.Network,
        ["entry"] = new JsonObject
        {
            ["withdrawal_id"] = entry.WithdrawalIdText,
            ["network"] = entry.Network,
            ["asset"] = entry.Asset,
            ["address"] = entry.Address,
            ["amount_units"] = entry.AmountUnits.ToString(CultureInfo.InvariantCulture),
            ["payment_ids"] = new JsonArray([.. entry.PaymentIds.Select(id => JsonValue.Create(id))]),
        },
        ["leaf"] = Convert.ToHexStringLower(batch.Tree.LeafOf(entry.WithdrawalId)),
        ["branch"] = new JsonArray(
            [.. batch.Tree.BranchOf(entry.WithdrawalId).Select(step => new JsonObject { ["side"] = step.SideName, ["hash"] = Convert.ToHexStringLower(step.Hash) })]),
        ["merkle_root"] = Convert.ToHexStringLower(batch.Tree.Root()),
        ["commitment"] = Convert.ToHexStringLower(batch.Commitment),
        ["txid"] = batch.Txid,
        ["block_hash"] = batch.BlockHash,
        ["block_height"] = batch.BlockHeight,
        ["txout_proof"] = batch.TxOutProof,
        ["commitment_txid"] = batch.Txid,
        ["amount"] = ((decimal)entry.AmountUnits / 100_000_000m).ToString("0.00000000", CultureInfo.InvariantCulture),
    };

    private Task<PayoutProofCheck> CheckAsync(JsonObject proof) =>
        PythonProofChecker.CheckAsync(proof.ToJsonString(), _node.Rpc.Endpoint, _node.RpcLogin.User, _node.RpcLogin.Password);

    /// <summary>Coinbase outputs mature after 100 blocks, so 101 blocks to the wallet give it coins to spend.</summary>
    private async Task EnsureSpendableCoinsAsync()
    {
        if (await _node.Rpc.GetBlockCountAsync() < 101)
        {
            await _node.Rpc.GenerateToAddressAsync(101, await _node.Wallet.GetNewAddressAsync("bech32"));
        }
    }
}
