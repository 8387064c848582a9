using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using CryptoPay.Chains.Payouts;
using CryptoPay.Chains.Rpc;
using CryptoPay.TestSupport.Litecoin;
using NBitcoin;
using Network = CryptoPay.Chains.Networks.Network;

namespace CryptoPay.Integration.Tests.Chains;

/// <summary>The Bitcoin Core JSON-RPC client against a real litecoind -regtest, paying addresses our deriver makes.</summary>
[Collection("litecoin")]
public sealed class LitecoinRegtestTests(LitecoinFixture fixture)
{
    private static readonly Network Regtest = Network.Litecoin(NetworkChain.Regtest);
    private readonly LitecoinRegtestNode _node = fixture.Node;

    [Fact]
    public async Task A_payment_to_a_derived_vpub_address_is_found_in_its_block_with_the_exact_litoshis()
    {
        await EnsureSpendableCoinsAsync();
        var accountKey = TestAccounts.AccountKey(Regtest, ExtendedKeyVersion.Vpub);
        Assert.StartsWith("vpub", accountKey.ToString(), StringComparison.Ordinal);
        var address = new AddressDeriver(Regtest, accountKey).DeriveReceiveAddress(0);
        Assert.StartsWith("rltc1q", address, StringComparison.Ordinal);
        const long amount = 12_345_678; // 0.12345678 LTC: every digit must survive the round trip

        var txid = await _node.Wallet.SendToAddressAsync(address, amount);
        Assert.Contains(txid, await _node.Rpc.GetRawMempoolAsync());
        var unconfirmed = await _node.Rpc.GetRawTransactionAsync(txid, verbose: true);
        Assert.Null(unconfirmed.BlockHash);
        Assert.Contains(unconfirmed.Details!.Outputs, o => o.Address == address && o.Value == amount);

        var tipBefore = await _node.Rpc.GetBestBlockHashAsync();
        var blockHash = Assert.Single(await _node.Rpc.GenerateToAddressAsync(1, await _node.Wallet.GetNewAddressAsync("bech32")));
        var height = await _node.Rpc.GetBlockCountAsync();
        Assert.Equal(blockHash, await _node.Rpc.GetBlockHashAsync(height));

        var block = await _node.Rpc.GetBlockAsync(blockHash);
        Assert.Equal(blockHash, block.Hash);
        Assert.Equal(height, block.Height);
        Assert.Equal(tipBefore, block.PreviousBlockHash);
        Assert.Equal(1, block.Confirmations);
        Assert.True(block.Transactions[0].IsCoinbase);
        var payment = Assert.Single(block.Transactions, t => t.Txid == txid);
        var output = Assert.Single(payment.Outputs, o => o.Address == address);
        Assert.Equal(amount, output.Value);
        Assert.StartsWith("0014", output.ScriptPubKeyHex, StringComparison.Ordinal); // P2WPKH: OP_0 PUSH20
        Assert.DoesNotContain(txid, await _node.Rpc.GetRawMempoolAsync());

        var confirmed = await _node.Rpc.GetRawTransactionAsync(txid, verbose: true);
        Assert.Equal(blockHash, confirmed.BlockHash);
        Assert.Equal(1, confirmed.Confirmations);
        Assert.Equal(confirmed.Hex, (await _node.Rpc.GetRawTransactionAsync(txid, verbose: false)).Hex);
    }

    [Fact]
    public async Task One_sendmany_to_1000_derived_addresses_puts_all_1000_exact_outputs_in_one_block()
    {
        await EnsureSpendableCoinsAsync();
        var deriver = TestAccounts.Deriver(Regtest, ExtendedKeyVersion.Vpub);
        var payments = Enumerable.Range(0, 1000).ToDictionary(
            i => deriver.DeriveReceiveAddress(1000 + (uint)i),
            i => 100_000L + i); // distinct amounts, so a swapped output would be caught

        var txid = await _node.Wallet.SendManyAsync(payments);
        var blockHash = Assert.Single(await _node.Rpc.GenerateToAddressAsync(1, await _node.Wallet.GetNewAddressAsync("bech32")));

        var block = await _node.Rpc.GetBlockAsync(blockHash);
        var transaction = Assert.Single(block.Transactions, t => t.Txid == txid);
        var found = transaction.Outputs
            .Where(o => o.Address is not null && payments.ContainsKey(o.Address))
            .ToDictionary(o => o.Address!, o => o.Value);
        Assert.Equal(1000, found.Count);
        Assert.Equal(payments.OrderBy(p => p.Key, StringComparer.Ordinal), found.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    [Fact]
    public async Task Invalidating_the_tip_and_mining_a_longer_chain_changes_the_block_hash_at_that_height()
    {
        await EnsureSpendableCoinsAsync();
        var miner = await _node.Wallet.GetNewAddressAsync("bech32");
        await _node.Rpc.GenerateToAddressAsync(1, miner);
        var height = await _node.Rpc.GetBlockCountAsync();
        var original = await _node.Rpc.GetBlockHashAsync(height);

        await _node.Rpc.InvalidateBlockAsync(original);
        Assert.Equal(height - 1, await _node.Rpc.GetBlockCountAsync());
        var competitor = TestAccounts.Deriver(Regtest, ExtendedKeyVersion.Vpub).DeriveReceiveAddress(5000);
        await _node.Rpc.GenerateToAddressAsync(2, competitor);
        // Reconsidering the old tip must not bring it back: the competing chain is longer.
        await _node.Rpc.ReconsiderBlockAsync(original);

        Assert.Equal(height + 1, await _node.Rpc.GetBlockCountAsync());
        var replacement = await _node.Rpc.GetBlockHashAsync(height);
        Assert.NotEqual(original, replacement);
        Assert.Equal(-1, (await _node.Rpc.GetBlockAsync(original)).Confirmations);
        var replaced = await _node.Rpc.GetBlockAsync(replacement);
        Assert.Equal(2, replaced.Confirmations);
        Assert.Equal(competitor, Assert.Single(replaced.Transactions[0].Outputs, o => o.Value > 0).Address);
    }

    [Fact]
    public async Task An_unknown_block_hash_fails_with_the_nodes_error_code_and_message()
    {
        var error = await Assert.ThrowsAsync<JsonRpcException>(() => _node.Rpc.GetBlockAsync(new string('0', 64)));
        Assert.Equal("getblock", error.Method);
        Assert.Equal(-5, error.Code); // RPC_INVALID_ADDRESS_OR_KEY
        Assert.Contains("Block not found", error.RpcMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_payout_built_and_signed_with_a_derived_key_pays_every_destination_exactly()
    {
        await EnsureSpendableCoinsAsync();
        var deriver = TestAccounts.Deriver(Regtest, ExtendedKeyVersion.Vpub);
        var hotKey = TestAccounts.PrivateKey(Regtest, 900);
        var hotWallet = deriver.DeriveReceiveAddress(900);
        Assert.Equal(hotWallet, hotKey.PubKey.GetAddress(ScriptPubKeyType.Segwit, LitecoinNetworks.Regtest).ToString());
        var fundingTxid = await _node.Wallet.SendToAddressAsync(hotWallet, 50_000_000);
        await _node.Rpc.GenerateToAddressAsync(1, await _node.Wallet.GetNewAddressAsync("bech32"));
        var funding = Transaction.Parse((await _node.Rpc.GetRawTransactionAsync(fundingTxid, verbose: false)).Hex, LitecoinNetworks.Regtest);
        var coin = funding.Outputs.AsCoins().Single(c => c.ScriptPubKey == hotKey.PubKey.WitHash.ScriptPubKey);
        UtxoPayment[] payments =
        [
            new(deriver.DeriveReceiveAddress(901), 10_000_001),
            new(deriver.DeriveReceiveAddress(902), 12_345_678),
            new(await _node.Wallet.GetNewAddressAsync("legacy"), 7_000_000),
        ];
        var change = deriver.DeriveReceiveAddress(903);

        var payout = UtxoPayoutBuilder.BuildAndSign(Regtest, [coin], [hotKey], payments, change, new FeeRate(Money.Satoshis(20), 1));
        Assert.Equal(payout.GetHash().ToString(), await _node.Rpc.SendRawTransactionAsync(payout));
        var blockHash = Assert.Single(await _node.Rpc.GenerateToAddressAsync(1, await _node.Wallet.GetNewAddressAsync("bech32")));

        var mined = Assert.Single((await _node.Rpc.GetBlockAsync(blockHash)).Transactions, t => t.Txid == payout.GetHash().ToString());
        foreach (var payment in payments)
        {
            Assert.Equal(payment.Satoshis, Assert.Single(mined.Outputs, o => o.Address == payment.Address).Value);
        }

        var fee = 50_000_000 - mined.Outputs.Sum(o => o.Value);
        Assert.InRange(fee, 1, 20 * payout.GetVirtualSize() + 100);
        Assert.Equal(50_000_000 - payments.Sum(p => p.Satoshis) - fee, Assert.Single(mined.Outputs, o => o.Address == change).Value);
        Assert.Throws<NotEnoughFundsException>(() => UtxoPayoutBuilder.BuildAndSign(
            Regtest, [coin], [hotKey], [new(change, 50_000_000)], change, new FeeRate(Money.Satoshis(20), 1)));
    }

    /// <summary>Coinbase outputs mature after 100 blocks, so 101 blocks to the wallet give it coins to spend.</summary>
    private async Task EnsureSpendableCoinsAsync()
    {
        if (await _node.Rpc.GetBlockCountAsync() < 101)
        {
            await _node.Rpc.GenerateToAddressAsync(101, await _node.Wallet.GetNewAddressAsync("bech32"));
        }
    }
}
