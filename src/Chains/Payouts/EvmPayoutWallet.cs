using System.Globalization;
using System.Numerics;
using CryptoPay.Chains.Addresses;
using CryptoPay.Chains.Rpc;
using Nethereum.Model;
using Nethereum.Signer;
using Nethereum.Util;

namespace CryptoPay.Chains.Payouts;

/// <summary>Gas limits of the transactions an <see cref="EvmPayoutWallet"/> signs; each must cover the worst case (unused gas is refunded).</summary>
/// <param name="Native">A value transfer: 21,000, the whole cost of paying an account. A contract recipient (a smart-contract wallet) needs more and would revert.</param>
/// <param name="TokenTransfer">An ERC-20 <c>transfer</c> call: standard tokens use 35,000–65,000 (more to a first-time holder).</param>
/// <param name="Commitment">The commitment transaction: 21,000 plus 16 gas per non-zero and 4 per zero data byte (37 bytes: at most 21,592).</param>
public sealed record EvmPayoutGasLimits(long Native = 21_000, long TokenTransfer = 100_000, long Commitment = 30_000);

/// <summary>
/// The hot wallet of an EVM network (eth, bsc), signing legacy EIP-155 transactions with one key.
/// <list type="bullet">
/// <item><see cref="SignAsync"/> reads the key's next nonce n (pending included) and the gas price once, checks that the
/// native balance covers the native outputs plus every gas limit × price and that each token balance covers its outputs
/// (else <see cref="PayoutFundsException"/>, nothing signed), then signs: nonce n, a 0-value transaction to the wallet
/// itself whose input is the commitment (so the batch's Merkle root is on chain before any payment of it); nonces n+1,
/// n+2, … one transfer per output in the given order. Nothing is broadcast.</item>
/// <item>Exactly once: the caller stores the signed bytes before broadcasting and only ever rebroadcasts those bytes.
/// Every transfer has a fixed nonce, so the same payment can be mined once at most; signing the batch again would make
/// new transactions, which is never done for a batch whose bytes may have reached a node.</item>
/// <item><see cref="BroadcastAsync"/> sends the bytes; a refusal because the node already has them (its pool or a
/// block) is success, a refusal because another transaction used the nonce is a <see cref="PayoutRejectedException"/>
/// (the transaction can never be mined), any other node error and every transport failure propagate for a retry.</item>
/// <item><see cref="GetStatusAsync"/> follows one transaction: its receipt (Confirmed or Reverted), else the node's pool
/// (Pending), else the wallet's mined nonce says whether the nonce went to another transaction (Conflicted) or the
/// transaction may still be broadcast (Unknown).</item>
/// </list>
/// The key's nonces must be this wallet's alone, and a batch's transactions are broadcast in order: after a Conflicted
/// transaction, the later ones of its batch must not be broadcast (their nonces may still be free).
/// </summary>
public sealed class EvmPayoutWallet : IPayoutWallet
{
    /// <summary>The commitment's size limit, as for an OP_RETURN: enough for a tag and a hash, not a data store.</summary>
    public const int MaxCommitmentBytes = 80;

    private const long TransactionBaseGas = 21_000;

    // Messages by which nodes say they already hold these exact bytes: geth/erigon/bsc "already known", OpenEthereum
    // "…already imported", Besu and older geth "known transaction", Nethermind "AlreadyKnown".
    private static readonly string[] AlreadyKnownMessages = ["already known", "already imported", "known transaction", "alreadyknown"];

    private readonly EvmRpcClient _rpc;
    private readonly byte[] _privateKey;
    private readonly long? _chainId;
    private readonly EvmPayoutGasLimits _gasLimits;

    /// <param name="rpc">The network's node.</param>
    /// <param name="privateKey">The hot wallet's 32-byte secp256k1 key (copied).</param>
    /// <param name="chainId">The network's EIP-155 chain id, checked against the node's before every signing; null: the node's.</param>
    /// <param name="gasLimits">Null: <see cref="EvmPayoutGasLimits"/>' defaults.</param>
    public EvmPayoutWallet(EvmRpcClient rpc, byte[] privateKey, long? chainId = null, EvmPayoutGasLimits? gasLimits = null)
    {
        ArgumentNullException.ThrowIfNull(rpc);
        ArgumentNullException.ThrowIfNull(privateKey);
        if (privateKey.Length != 32)
        {
            throw new ArgumentException("An EVM private key is 32 bytes.", nameof(privateKey));
        }

        if (chainId is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(chainId), chainId, "A chain id is positive.");
        }

        _gasLimits = gasLimits ?? new EvmPayoutGasLimits();
        ArgumentOutOfRangeException.ThrowIfLessThan(_gasLimits.Native, TransactionBaseGas, nameof(gasLimits));
        ArgumentOutOfRangeException.ThrowIfLessThan(_gasLimits.TokenTransfer, TransactionBaseGas, nameof(gasLimits));
        ArgumentOutOfRangeException.ThrowIfLessThan(_gasLimits.Commitment, TransactionBaseGas, nameof(gasLimits));
        _rpc = rpc;
        _privateKey = [.. privateKey];
        _chainId = chainId;
        Address = EvmAddress.ToChecksumAddress(new EthECKey(_privateKey, isPrivate: true).GetPublicAddress());
    }

    /// <summary>The hot wallet's address (EIP-55): where it is funded, and the recipient of its commitment transactions.</summary>
    public string Address { get; }

    /// <inheritdoc />
    /// <param name="commitment">Put on chain as given (1 to <see cref="MaxCommitmentBytes"/> bytes), not interpreted.</param>
    public async Task<SignedPayoutBatch> SignAsync(IReadOnlyList<PayoutOutput> outputs, byte[] commitment, CancellationToken ct)
    {
        ValidateBatch(outputs, commitment);
        var terms = await _rpc.GetTransferTermsAsync(Address, _gasLimits.Commitment, ct);
        if (_chainId is { } chainId && chainId != terms.ChainId)
        {
            throw new InvalidOperationException($"The node at {_rpc.Endpoint} serves chain {terms.ChainId}, not the wallet's chain {chainId}: nothing was signed.");
        }

        var gasLimits = outputs.Select(o => o.TokenContract is null ? _gasLimits.Native : _gasLimits.TokenTransfer).Prepend(_gasLimits.Commitment).ToArray();
        var maxFee = gasLimits.Aggregate(BigInteger.Zero, (sum, gas) => sum + gas) * terms.GasPrice;
        await RequireFundsAsync(outputs, maxFee, ct);

        var transactions = new List<SignedPayout>(outputs.Count + 1)
        {
            ToSignedPayout(EvmTransferSigner.SignData(_privateKey, Address, commitment, terms)),
        };
        for (var i = 0; i < outputs.Count; i++)
        {
            var output = outputs[i];
            var outputTerms = terms with { Nonce = terms.Nonce + 1 + i, GasLimit = gasLimits[i + 1] };
            transactions.Add(ToSignedPayout(output.TokenContract is null
                ? EvmTransferSigner.SignNative(_privateKey, output.Address, output.Units, outputTerms)
                : EvmTransferSigner.SignToken(_privateKey, output.TokenContract, output.Address, output.Units, outputTerms)));
        }

        return new SignedPayoutBatch(transactions, maxFee);
    }

    /// <inheritdoc />
    public async Task BroadcastAsync(SignedPayout transaction, CancellationToken ct)
    {
        _ = Decode(transaction);
        string nodeTxid;
        try
        {
            nodeTxid = await _rpc.SendRawTransactionAsync(transaction.Hex, ct);
        }
        catch (JsonRpcException refusal)
        {
            if (AlreadyKnownMessages.Any(m => refusal.RpcMessage.Contains(m, StringComparison.OrdinalIgnoreCase)))
            {
                return;
            }

            // Other refusals ("nonce too low", "underpriced" for a copy in the pool, …) are worded differently by every
            // node: the node's state says what they mean.
            var status = await GetStatusAsync(transaction, ct);
            switch (status.State)
            {
                case PayoutTransactionState.Pending or PayoutTransactionState.Confirmed or PayoutTransactionState.Reverted:
                    return;
                case PayoutTransactionState.Conflicted:
                    throw new PayoutRejectedException(
                        $"Transaction {transaction.Txid} can never be mined: another transaction of {Address} used its nonce ({refusal.RpcMessage}).", refusal);
                default:
                    throw;
            }
        }

        if (!string.Equals(nodeTxid, transaction.Txid, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"The node reports {nodeTxid} for the transaction whose hash is {transaction.Txid}: its id would not be followed.");
        }
    }

    /// <inheritdoc />
    public async Task<PayoutTransactionStatus> GetStatusAsync(SignedPayout transaction, CancellationToken ct)
    {
        var signed = Decode(transaction);
        if (await MinedStatusAsync(transaction, signed, ct) is { } mined)
        {
            return mined;
        }

        if (await _rpc.GetTransactionByHashAsync(transaction.Txid, ct) is not null)
        {
            return new PayoutTransactionStatus(PayoutTransactionState.Pending);
        }

        var nextNonce = await _rpc.GetTransactionCountAsync(Address, includePending: false, ct);
        if (nextNonce <= signed.Nonce)
        {
            return new PayoutTransactionStatus(PayoutTransactionState.Unknown);
        }

        // The nonce is used: by this transaction if it was mined after the first look, else by another one.
        return await MinedStatusAsync(transaction, signed, ct) ?? new PayoutTransactionStatus(PayoutTransactionState.Conflicted);
    }

    private async Task<PayoutTransactionStatus?> MinedStatusAsync(SignedPayout transaction, SignedFields signed, CancellationToken ct)
    {
        var receipt = await _rpc.GetTransactionReceiptAsync(transaction.Txid, ct);
        if (receipt is null)
        {
            return null;
        }

        var tip = await _rpc.GetBlockNumberAsync(ct);
        return new PayoutTransactionStatus(
            receipt.Succeeded == false ? PayoutTransactionState.Reverted : PayoutTransactionState.Confirmed,
            Confirmations: (int)Math.Max(0, tip - receipt.BlockNumber + 1),
            BlockHash: receipt.BlockHash,
            BlockHeight: receipt.BlockNumber,
            FeeUnits: receipt.GasUsed * (receipt.EffectiveGasPrice ?? signed.GasPrice),
            InclusionProof: receipt.TransactionIndex.ToString(CultureInfo.InvariantCulture));
    }

    private async Task RequireFundsAsync(IReadOnlyList<PayoutOutput> outputs, BigInteger maxFee, CancellationToken ct)
    {
        var shortfalls = new List<string>();
        var nativeNeeded = outputs.Where(o => o.TokenContract is null).Aggregate(maxFee, (sum, o) => sum + o.Units);
        var nativeBalance = await _rpc.GetBalanceAsync(Address, ct);
        if (nativeBalance < nativeNeeded)
        {
            shortfalls.Add($"{nativeBalance} wei of the {nativeNeeded} needed (native outputs and at most {maxFee} wei of gas)");
        }

        foreach (var token in outputs.Where(o => o.TokenContract is not null).GroupBy(o => EvmAddress.ToChecksumAddress(o.TokenContract!)))
        {
            var needed = token.Aggregate(BigInteger.Zero, (sum, o) => sum + o.Units);
            var balance = await _rpc.GetErc20BalanceAsync(token.Key, Address, ct);
            if (balance < needed)
            {
                shortfalls.Add($"{balance} units of token {token.Key} of the {needed} needed");
            }
        }

        if (shortfalls.Count > 0)
        {
            throw new PayoutFundsException($"The hot wallet {Address} holds {string.Join("; ", shortfalls)}: nothing was signed.");
        }
    }

    private void ValidateBatch(IReadOnlyList<PayoutOutput> outputs, byte[] commitment)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(commitment);
        if (outputs.Count == 0)
        {
            throw new ArgumentException("A batch pays at least one output.", nameof(outputs));
        }

        foreach (var output in outputs)
        {
            ArgumentNullException.ThrowIfNull(output, nameof(outputs));
            if (output.Units.Sign <= 0)
            {
                throw new ArgumentException($"The output to {output.Address} pays {output.Units}: every output pays a positive amount.", nameof(outputs));
            }

            RequireAddress(output.Address, nameof(outputs));
            if (output.TokenContract is not null)
            {
                RequireAddress(output.TokenContract, nameof(outputs));
            }
        }

        if (commitment.Length is 0 or > MaxCommitmentBytes)
        {
            throw new ArgumentException($"A commitment is 1 to {MaxCommitmentBytes} bytes, not {commitment.Length}.", nameof(commitment));
        }

        // A node refuses a transaction whose gas limit is below its intrinsic gas for good: fail before signing instead.
        var zeros = commitment.Count(b => b == 0);
        var intrinsicGas = TransactionBaseGas + (16L * (commitment.Length - zeros)) + (4L * zeros);
        if (intrinsicGas > _gasLimits.Commitment)
        {
            throw new ArgumentException(
                $"The {commitment.Length}-byte commitment needs {intrinsicGas} gas, more than the commitment gas limit of {_gasLimits.Commitment}.", nameof(commitment));
        }
    }

    private static void RequireAddress(string address, string parameter)
    {
        if (!EvmAddress.TryParse(address, out _, out var error))
        {
            throw new ArgumentException($"'{address}' is not an EVM address: {error}.", parameter);
        }
    }

    private static SignedPayout ToSignedPayout(string signedHex) =>
        new(TxidOf(Convert.FromHexString(signedHex.AsSpan(2))), signedHex);

    /// <summary>The transaction hash as nodes print it: Keccak-256 of the signed bytes, 0x and lower-case hex.</summary>
    private static string TxidOf(byte[] signedBytes) => "0x" + Convert.ToHexStringLower(Sha3Keccack.Current.CalculateHash(signedBytes));

    /// <summary>The nonce and gas price of a transaction this wallet signed, after checking that its id is the hash of its bytes.</summary>
    private SignedFields Decode(SignedPayout transaction)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        byte[] bytes;
        try
        {
            bytes = Convert.FromHexString(transaction.Hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? transaction.Hex.AsSpan(2) : transaction.Hex);
        }
        catch (FormatException exception)
        {
            throw new ArgumentException($"The bytes of {transaction.Txid} are not hex.", nameof(transaction), exception);
        }

        if (!string.Equals(TxidOf(bytes), transaction.Txid, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"{transaction.Txid} is not the hash of the bytes given with it.", nameof(transaction));
        }

        if (TransactionFactory.CreateTransaction(bytes) is not LegacyTransactionChainId legacy)
        {
            throw new ArgumentException($"{transaction.Txid} is not an EIP-155 legacy transaction, as this wallet signs.", nameof(transaction));
        }

        var sender = new TransactionVerificationAndRecoveryImp().GetSenderAddress(legacy);
        if (!string.Equals(sender, Address, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"{transaction.Txid} is signed by {sender}, not by this wallet ({Address}).", nameof(transaction));
        }

        return new SignedFields(ToUnsigned(legacy.Nonce), ToUnsigned(legacy.GasPrice));
    }

    private static BigInteger ToUnsigned(byte[]? bigEndian) => new(bigEndian ?? [], isUnsigned: true, isBigEndian: true);

    private sealed record SignedFields(BigInteger Nonce, BigInteger GasPrice);
}
