using System.Numerics;
using CryptoPay.Chains.Addresses;
using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using CryptoPay.Chains.Payouts;
using CryptoPay.Chains.Rpc;
using CryptoPay.TestSupport.Evm;

namespace CryptoPay.Integration.Tests.Chains;

/// <summary>The EVM JSON-RPC client and the TRON adapter against a real EVM dev node, paying addresses our deriver makes.</summary>
[Collection("evm")]
public sealed class EvmDevNodeTests(EvmDevNodeFixture fixture)
{
    private readonly EvmDevNode _node = fixture.Node;
    private EvmRpcClient Rpc => _node.Rpc;

    [Fact]
    public async Task The_node_reports_the_configured_chain_id()
    {
        Assert.Equal(EvmDevNodeFixture.ChainId, await Rpc.GetChainIdAsync());
        Assert.StartsWith("Ganache/v7.9.2", _node.Version, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_native_transfer_to_a_derived_eip55_address_is_found_in_its_block_with_the_exact_wei()
    {
        var address = TestAccounts.Deriver(Network.Ethereum(NetworkChain.Regtest), ExtendedKeyVersion.Tpub).DeriveReceiveAddress(0);
        Assert.Equal(EvmAddress.ToChecksumAddress(address), address);
        var value = BigInteger.Parse("1234567890123456789", System.Globalization.CultureInfo.InvariantCulture); // 1.234567890123456789 ETH
        var sender = (await Rpc.GetAccountsAsync())[0];
        var before = await Rpc.GetBalanceAsync(address);

        var hash = await Rpc.SendTransactionAsync(new EvmTransactionRequest(sender, address, value));
        var receipt = await RequireReceiptAsync(hash);
        Assert.True(receipt.Succeeded);
        Assert.Equal(receipt.BlockNumber, await Rpc.GetBlockNumberAsync());

        var block = await Rpc.GetBlockByNumberAsync(receipt.BlockNumber, fullTransactions: true);
        Assert.NotNull(block);
        Assert.Equal(receipt.BlockHash, block.Hash);
        Assert.Equal((await Rpc.GetBlockByNumberAsync(receipt.BlockNumber - 1, fullTransactions: false))!.Hash, block.ParentHash);
        var transfer = Assert.Single(block.Transactions, t => t.Hash == hash);
        Assert.Equal(address, transfer.To);
        Assert.Equal(sender, transfer.From);
        Assert.Equal(value, transfer.Value);
        Assert.Equal("0x", transfer.Input);
        Assert.Equal(before + value, await Rpc.GetBalanceAsync(address));
    }

    [Fact]
    public async Task Reverting_to_a_snapshot_removes_the_blocks_and_the_payment_mined_after_it()
    {
        var address = TestAccounts.Deriver(Network.Ethereum(NetworkChain.Regtest), ExtendedKeyVersion.Tpub).DeriveReceiveAddress(1);
        var sender = (await Rpc.GetAccountsAsync())[1];
        var snapshot = await Rpc.SnapshotAsync();
        var height = await Rpc.GetBlockNumberAsync();
        var balance = await Rpc.GetBalanceAsync(address);

        var hash = await Rpc.SendTransactionAsync(new EvmTransactionRequest(sender, address, new BigInteger(42)));
        await Rpc.MineAsync();
        Assert.Equal(height + 2, await Rpc.GetBlockNumberAsync());
        var paidIn = (await RequireReceiptAsync(hash)).BlockHash;
        Assert.Equal(balance + 42, await Rpc.GetBalanceAsync(address));

        Assert.True(await Rpc.RevertAsync(snapshot));

        Assert.Equal(height, await Rpc.GetBlockNumberAsync());
        Assert.Equal(balance, await Rpc.GetBalanceAsync(address));
        Assert.Null(await Rpc.GetTransactionReceiptAsync(hash));
        Assert.Null(await Rpc.GetBlockByNumberAsync(height + 1, fullTransactions: false));
        // A new block at the same height is a different block: what a watcher sees as a reorganisation.
        await Rpc.MineAsync();
        Assert.NotEqual(paidIn, (await Rpc.GetBlockByNumberAsync(height + 1, fullTransactions: false))!.Hash);
    }

    [Fact]
    public async Task An_erc20_transfer_to_a_derived_address_is_found_by_eth_getLogs_and_decoded_exactly()
    {
        var recipient = TestAccounts.Deriver(Network.Ethereum(NetworkChain.Regtest), ExtendedKeyVersion.Tpub).DeriveReceiveAddress(2);
        var sender = (await Rpc.GetAccountsAsync())[2];
        var token = await _node.DeployTestTokenAsync(sender, BigInteger.Pow(10, 30));
        var value = BigInteger.Parse("123456789012345678901234", System.Globalization.CultureInfo.InvariantCulture); // beyond 64 bits

        var hash = await Rpc.SendTransactionAsync(new EvmTransactionRequest(sender, token, BigInteger.Zero, Erc20.EncodeTransfer(recipient, value)));
        var receipt = await RequireReceiptAsync(hash);
        Assert.True(receipt.Succeeded);

        var transfers = await Rpc.GetErc20TransfersAsync(0, receipt.BlockNumber, [token], [recipient]);
        var transfer = Assert.Single(transfers); // the mint to the deployer is filtered out by the recipient topic
        Assert.Equal(token, transfer.Contract);
        Assert.Equal(sender, transfer.From);
        Assert.Equal(recipient, transfer.To);
        Assert.Equal(value, transfer.Value);
        Assert.Equal(hash, transfer.TransactionHash);
        Assert.Equal(receipt.BlockNumber, transfer.BlockNumber);
        Assert.Equal(receipt.BlockHash, transfer.BlockHash);
        Assert.False(transfer.Removed);
        Assert.Equal(Erc20.TransferTopic, Assert.Single(receipt.Logs).Topics[0]);
        var unpaid = TestAccounts.Deriver(Network.Ethereum(NetworkChain.Regtest), ExtendedKeyVersion.Tpub).DeriveReceiveAddress(3);
        Assert.Empty(await Rpc.GetErc20TransfersAsync(0, receipt.BlockNumber, [token], [unpaid]));
        var mint = Assert.Single(await Rpc.GetErc20TransfersAsync(0, receipt.BlockNumber, [token], [sender]));
        Assert.Equal("0x0000000000000000000000000000000000000000", mint.From);
        Assert.Equal(BigInteger.Pow(10, 30), mint.Value);
    }

    [Fact]
    public async Task The_tron_adapter_finds_transfers_to_a_derived_tron_address_and_reports_them_in_tron_format()
    {
        var tronDeposit = TestAccounts.Deriver(Network.TronNetwork(NetworkChain.Regtest), ExtendedKeyVersion.Tpub).DeriveReceiveAddress(0);
        Assert.StartsWith("T", tronDeposit, StringComparison.Ordinal);
        var asEvm = TronRpcAdapter.ToEvm(tronDeposit);
        Assert.Equal(tronDeposit, TronRpcAdapter.ToTron(asEvm));
        Assert.Equal(tronDeposit, TronRpcAdapter.ToTron("0x41" + asEvm[2..])); // TRON's 21-byte hex form
        var tron = new TronRpcAdapter(Rpc);
        var sender = (await Rpc.GetAccountsAsync())[3];
        var token = await _node.DeployTestTokenAsync(sender, BigInteger.Pow(10, 18));
        var tronToken = TronAddress.FromEvmAddress(token);

        var tokenHash = await Rpc.SendTransactionAsync(new EvmTransactionRequest(sender, token, BigInteger.Zero, Erc20.EncodeTransfer(asEvm, 25_000_000)));
        var nativeHash = await Rpc.SendTransactionAsync(new EvmTransactionRequest(sender, asEvm, new BigInteger(7_000_000)));
        var nativeBlock = (await RequireReceiptAsync(nativeHash)).BlockNumber;

        var transfer = Assert.Single(await tron.GetTrc20TransfersAsync(0, await tron.GetBlockNumberAsync(), [tronToken], [tronDeposit]));
        Assert.Equal(tronDeposit, transfer.To);
        Assert.Equal(tronToken, transfer.Contract);
        Assert.Equal(TronAddress.FromEvmAddress(sender), transfer.From);
        Assert.Equal(new BigInteger(25_000_000), transfer.Value);
        Assert.Equal(tokenHash, transfer.TransactionHash);

        var block = await tron.GetBlockByNumberAsync(nativeBlock);
        var native = Assert.Single(block!.Transactions, t => t.Hash == nativeHash);
        Assert.Equal(tronDeposit, native.To);
        Assert.Equal(new BigInteger(7_000_000), native.Value);
    }

    [Fact]
    public async Task Payouts_signed_with_a_derived_key_move_the_exact_native_and_token_amounts()
    {
        var network = Network.Ethereum(NetworkChain.Regtest);
        var deriver = TestAccounts.Deriver(network, ExtendedKeyVersion.Tpub);
        var hotWallet = deriver.DeriveReceiveAddress(900);
        var hotKey = TestAccounts.PrivateKey(network, 900).ToBytes();
        var recipient = deriver.DeriveReceiveAddress(901);
        var sender = (await Rpc.GetAccountsAsync())[0];
        var token = await _node.DeployTestTokenAsync(sender, BigInteger.Pow(10, 24));
        await RequireReceiptAsync(await Rpc.SendTransactionAsync(new EvmTransactionRequest(sender, hotWallet, BigInteger.Pow(10, 18))));
        await RequireReceiptAsync(await Rpc.SendTransactionAsync(new EvmTransactionRequest(sender, token, BigInteger.Zero, Erc20.EncodeTransfer(hotWallet, 50_000_000))));
        var before = await Rpc.GetBalanceAsync(recipient);
        var wei = BigInteger.Parse("123456789012345678", System.Globalization.CultureInfo.InvariantCulture);

        var native = EvmTransferSigner.SignNative(hotKey, recipient, wei, await Rpc.GetTransferTermsAsync(hotWallet, 21_000));
        var nativeReceipt = await RequireReceiptAsync(await Rpc.SendRawTransactionAsync(native));
        var tokenTransfer = EvmTransferSigner.SignToken(hotKey, token, recipient, 12_345_678, await Rpc.GetTransferTermsAsync(hotWallet, 100_000));
        var tokenReceipt = await RequireReceiptAsync(await Rpc.SendRawTransactionAsync(tokenTransfer));

        Assert.True(nativeReceipt.Succeeded);
        Assert.True(tokenReceipt.Succeeded);
        Assert.Equal(before + wei, await Rpc.GetBalanceAsync(recipient));
        var transfer = Assert.Single(await Rpc.GetErc20TransfersAsync(tokenReceipt.BlockNumber, tokenReceipt.BlockNumber, [token], [recipient]));
        Assert.Equal(hotWallet, transfer.From);
        Assert.Equal(new BigInteger(12_345_678), transfer.Value);
    }

    [Fact]
    public async Task A_failing_call_reports_the_nodes_error_code_and_message()
    {
        var error = await Assert.ThrowsAsync<JsonRpcException>(() => Rpc.SendTransactionAsync(
            new EvmTransactionRequest("0x0000000000000000000000000000000000000001", null, BigInteger.One)));
        Assert.Equal("eth_sendTransaction", error.Method);
        Assert.NotEqual(0, error.Code);
        Assert.False(string.IsNullOrWhiteSpace(error.RpcMessage));
    }

    /// <summary>The node mines every transaction at once (instamine eager), so the receipt exists when the call returns.</summary>
    private async Task<EvmReceipt> RequireReceiptAsync(string hash) =>
        await Rpc.GetTransactionReceiptAsync(hash) ?? throw new InvalidOperationException($"No receipt for {hash}.\n{_node.Log}");
}
