using CryptoPay.Chains.Payouts;
using CryptoPay.Chains.Rpc;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Storage;
using CryptoPay.Grains.Webhooks;
using CryptoPay.Grains.Withdrawals;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Settlements;

/// <summary>
/// One settlement batch of one network (ARCHITECTURE.md, Money out): claims the queued withdrawals it was opened with,
/// commits a Merkle root over them, pays them in one signed UTXO transaction (or EVM transfers under one commitment
/// transaction), follows the transactions to the confirmations required, then completes each withdrawal or fails it.
/// </summary>
[Alias("cryptopay.settlement-batch")]
public interface ISettlementBatchGrain : IGrainWithGuidKey, IWakeable
{
    /// <summary>Opens the batch with these queued withdrawals (a repeat changes nothing) and moves it on as far as it can go now.</summary>
    Task<SettlementState> Open(string network, long sequence, IReadOnlyList<Guid> candidates, int requiredConfirmations);

    Task<SettlementState?> Get();

    /// <summary>Asks the node now instead of at the next poll; answers the batch as it then stands.</summary>
    Task<SettlementState> Advance();

    /// <summary>Operator: a batch not yet broadcast (e.g. waiting for a hot wallet that stays short) fails; its withdrawals fail and are released.</summary>
    Task<SettlementState> Fail(string reason);
}

/// <remarks>
/// Exactly once on chain: the signed bytes are written to the batch's state before the first broadcast, and every later
/// step (a retry, a reactivation after a crash, a reorganisation that drops the transaction) broadcasts those bytes
/// again, never a new payment. A withdrawal is in at most one batch because claiming it (queued → processing with this
/// batch's id) is the withdrawal grain's own decision. The grain's wake reminder (at least a minute) carries it across
/// silo failures; while active, a grain timer polls at the network's poll interval.
/// </remarks>
[GrainType("settlement-batch")]
public sealed class SettlementBatchGrain(
    [PersistentState(SettlementProjection.StateName, ProjectedGrainStorage.Name)] IPersistentState<GrainRecord<SettlementState>> record,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    IServiceProvider services,
    ILogger<SettlementBatchGrain> logger)
    : EffectGrain<SettlementState>(record, clock, logger), ISettlementBatchGrain
{
    private readonly PayoutWallets? wallets = services.GetService<PayoutWallets>();
    private readonly FaultPoints? faults = services.GetService<FaultPoints>();
    private IGrainTimer? poll;

    protected override DateTimeOffset? DueAt => IsSettled ? null : Now + (wallets?.PollInterval(State.Network) ?? RetryPeriod);

    private bool IsSettled => State.Status is SettlementStatus.Finalized or SettlementStatus.Failed or SettlementStatus.Empty || State.Candidates.Count == 0;

    private IPayoutWallet Wallet => wallets?.For(State.Network)
        ?? throw new InvalidOperationException($"Network {State.Network} has no payout wallet configured (Chains:Networks:{State.Network}:PayoutWallet or PayoutKey).");

    public async Task<SettlementState> Open(string network, long sequence, IReadOnlyList<Guid> candidates, int requiredConfirmations)
    {
        ArgumentException.ThrowIfNullOrEmpty(network);
        ArgumentNullException.ThrowIfNull(candidates);
        if (SettlementIds.For(network, sequence) != this.GetPrimaryKey() || candidates.Count == 0 || requiredConfirmations < 1)
        {
            throw new ArgumentException($"Settlement {this.GetPrimaryKey()} cannot be opened as {network} #{sequence} with {candidates.Count} candidates.", nameof(candidates));
        }

        if (State.Candidates.Count == 0)
        {
            State = new SettlementState
            {
                Id = this.GetPrimaryKey(),
                Network = network,
                Sequence = sequence,
                Status = SettlementStatus.Claiming,
                Candidates = [.. candidates.Distinct()],
                RequiredConfirmations = requiredConfirmations,
                CreatedAt = Now,
                UpdatedAt = Now,
            };
            await SaveAsync();
        }

        return await Advance();
    }

    public Task<SettlementState?> Get() => Task.FromResult(State.Exists ? State : null);

    public async Task<SettlementState> Advance()
    {
        if (State.Candidates.Count == 0)
        {
            throw new InvalidSettlementTransitionException("No such settlement.");
        }

        await AdvanceAsync(CancellationToken.None);
        return State;
    }

    public async Task<SettlementState> Fail(string reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        if (State.Status == SettlementStatus.Failed)
        {
            return State;
        }

        if (State.Status is not (SettlementStatus.Claiming or SettlementStatus.Signed) || State.Candidates.Count == 0)
        {
            throw new InvalidSettlementTransitionException(
                $"Only a settlement not yet broadcast can be failed by hand; this one is {SettlementProjection.Name(State.Status)}.");
        }

        if (State.Status == SettlementStatus.Signed)
        {
            // Signed bytes may have reached the node through an answer we lost: fail only what the node does not know.
            foreach (var transaction in State.Transactions)
            {
                var status = await Wallet.GetStatusAsync(Signed(transaction), CancellationToken.None);
                if (status.State is not (PayoutTransactionState.Unknown or PayoutTransactionState.Conflicted))
                {
                    throw new InvalidSettlementTransitionException($"Transaction {transaction.Txid} of this settlement is on the node ({status.State}); it can no longer be failed.");
                }
            }
        }

        await SettleAsync(failReason: reason);
        return State;
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!IsSettled && wallets is not null)
        {
            StartPolling();
        }

        return base.OnActivateAsync(cancellationToken);
    }

    protected override Task OnWakeAsync() => IsSettled ? Task.CompletedTask : AdvanceAsync(CancellationToken.None);

    private void StartPolling()
    {
        var period = wallets!.PollInterval(State.Network);
        poll ??= this.RegisterGrainTimer(ct => IsSettled ? Task.CompletedTask : AdvanceAsync(ct), new GrainTimerCreationOptions(period, period) { Interleave = false });
    }

    /// <summary>
    /// Moves the batch as far as the node lets it now; every step is written before the next one starts. A node that does
    /// not answer (or answers an error) leaves the batch where it is, for the next poll.
    /// </summary>
    private async Task AdvanceAsync(CancellationToken ct)
    {
        try
        {
            await StepAsync(ct);
        }
        catch (Exception trouble) when (trouble is HttpRequestException or TimeoutException or JsonRpcException)
        {
            if (State.Reason != trouble.Message)
            {
                logger.LogWarning("Settlement {Settlement} ({Network}) waits for the node: {Reason}", State.Id, State.Network, trouble.Message);
                State.Reason = trouble.Message;
                State.UpdatedAt = Now;
                await SaveAsync();
            }
        }

        if (!IsSettled)
        {
            StartPolling();
        }
    }

    private async Task StepAsync(CancellationToken ct)
    {
        if (State.Status == SettlementStatus.Claiming)
        {
            await ClaimAsync();
            if (State.Status == SettlementStatus.Claiming && !await SignAsync(ct))
            {
                return;
            }
        }

        if (State.Status == SettlementStatus.Signed)
        {
            await BroadcastAsync(ct);
        }

        if (State.Status is SettlementStatus.Broadcast or SettlementStatus.Confirmed)
        {
            await FollowAsync(ct);
        }
    }

    /// <summary>Each candidate becomes processing in this batch, or stays out (cancelled, rejected or claimed by another batch meanwhile).</summary>
    private async Task ClaimAsync()
    {
        // Side by side, a bounded number at a time: a thousand claims are a thousand grain calls, each one write.
        var claimed = new SettlementEntry?[State.Candidates.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, State.Candidates.Count),
            new ParallelOptions { MaxDegreeOfParallelism = EffectOutbox<GrainEffect>.MaxConcurrentReceivers, TaskScheduler = TaskScheduler.Current },
            async (index, _) => claimed[index] = await ClaimAsync(State.Candidates[index]));
        State.Entries = [.. claimed.OfType<SettlementEntry>().OrderBy(e => e.WithdrawalId.ToString("D"), StringComparer.Ordinal)];
        if (State.Entries.Count == 0)
        {
            State.Status = SettlementStatus.Empty;
            State.UpdatedAt = Now;
            await SaveAsync();
        }
    }

    /// <summary>The withdrawal as this batch's entry once it is processing here; null when it refuses (cancelled, rejected, in another batch).</summary>
    private async Task<SettlementEntry?> ClaimAsync(Guid id)
    {
        WithdrawalState withdrawal;
        try
        {
            withdrawal = await GrainFactory.GetGrain<IWithdrawalGrain>(id).StartProcessing(State.Id.ToString("D"));
        }
        catch (InvalidWithdrawalTransitionException refused)
        {
            logger.LogInformation("Settlement {Settlement} leaves out withdrawal {Withdrawal}: {Reason}", State.Id, id, refused.Message);
            return null;
        }

        var spec = withdrawal.Spec!;
        return new SettlementEntry
        {
            WithdrawalId = spec.Id,
            MerchantId = spec.MerchantId,
            Mode = spec.Mode,
            Asset = spec.Asset,
            AssetCode = spec.AssetCode,
            Decimals = spec.Decimals,
            Address = spec.Address,
            AmountUnits = spec.AmountUnits,
            FeeUnits = spec.FeeUnits,
            TokenContract = wallets?.TokenContract(State.Network, spec.AssetCode),
            PaymentIds = [.. spec.PaymentIds],
        };
    }

    /// <summary>Signs the batch and writes the signed bytes (before any broadcast); false when the hot wallet cannot pay it yet.</summary>
    private async Task<bool> SignAsync(CancellationToken ct)
    {
        var tree = SettlementProofs.TreeOf(State);
        SignedPayoutBatch signed;
        try
        {
            signed = await Wallet.SignAsync([.. State.Entries.Select(e => new PayoutOutput(e.Address, e.AmountUnits, e.TokenContract))], PayoutMerkleTree.Commitment(tree.Root()), ct);
        }
        catch (PayoutFundsException short_)
        {
            if (State.Reason != short_.Message)
            {
                logger.LogWarning("Settlement {Settlement} ({Network}) waits: {Reason}", State.Id, State.Network, short_.Message);
                State.Reason = short_.Message;
                State.UpdatedAt = Now;
                await SaveAsync();
            }

            return false;
        }

        // UTXO: one transaction for all. EVM: the commitment first, then one transfer per entry, in entry order.
        var transactions = signed.Transactions;
        State.Transactions = transactions.Count == 1
            ? [new SettlementTransaction { Txid = transactions[0].Txid, Hex = transactions[0].Hex }]
            : [.. transactions.Select((t, i) => new SettlementTransaction { Txid = t.Txid, Hex = t.Hex, WithdrawalId = i == 0 ? null : State.Entries[i - 1].WithdrawalId })];
        if (transactions.Count != 1 && transactions.Count != State.Entries.Count + 1)
        {
            throw new InvalidOperationException($"The {State.Network} wallet signed {transactions.Count} transactions for {State.Entries.Count} payouts.");
        }

        State.MerkleRoot = Convert.ToHexStringLower(tree.Root());
        State.EstimatedFeeUnits = signed.EstimatedFeeUnits;
        State.Reason = null;
        State.Status = SettlementStatus.Signed;
        State.UpdatedAt = Now;
        await SaveAsync();
        await (faults?.ReachAsync(FaultPoints.SettlementSigned) ?? Task.CompletedTask);
        return true;
    }

    private async Task BroadcastAsync(CancellationToken ct)
    {
        foreach (var transaction in State.Transactions)
        {
            try
            {
                await Wallet.BroadcastAsync(Signed(transaction), ct);
            }
            catch (PayoutRejectedException rejected)
            {
                // Settled below from each transaction's own status: one refused EVM transfer fails its payout only.
                logger.LogWarning("The {Network} node refused transaction {Txid} of settlement {Settlement}: {Reason}", State.Network, transaction.Txid, State.Id, rejected.Message);
            }
        }

        await (faults?.ReachAsync(FaultPoints.SettlementBroadcast) ?? Task.CompletedTask);
        State.Reason = null;
        State.Status = SettlementStatus.Broadcast;
        State.BroadcastAt ??= Now;
        State.UpdatedAt = Now;
        await SaveAsync();
    }

    /// <summary>Reads every transaction's status; rebroadcasts what the node lost (a reorganisation, a restarted node); settles once each is final.</summary>
    private async Task FollowAsync(CancellationToken ct)
    {
        var changed = false;
        var final = true;
        var outcomes = new Dictionary<string, PayoutTransactionStatus>(StringComparer.Ordinal);
        foreach (var transaction in State.Transactions)
        {
            var status = await Wallet.GetStatusAsync(Signed(transaction), ct);
            if (status.State == PayoutTransactionState.Unknown)
            {
                try
                {
                    await Wallet.BroadcastAsync(Signed(transaction), ct);
                }
                catch (PayoutRejectedException)
                {
                    status = await Wallet.GetStatusAsync(Signed(transaction), ct);
                }
            }

            outcomes[transaction.Txid] = status;
            var mined = status.State is PayoutTransactionState.Confirmed or PayoutTransactionState.Reverted;
            var confirmations = mined ? status.Confirmations : 0;
            if (transaction.Confirmations != confirmations || transaction.BlockHash != (mined ? status.BlockHash : null))
            {
                transaction.Confirmations = confirmations;
                transaction.BlockHash = mined ? status.BlockHash : null;
                transaction.BlockHeight = mined ? status.BlockHeight : null;
                transaction.FeeUnits = mined ? status.FeeUnits : null;
                transaction.InclusionProof = mined ? status.InclusionProof : null;
                changed = true;
            }

            final &= status.State == PayoutTransactionState.Conflicted || (mined && confirmations >= State.RequiredConfirmations);
        }

        if (final)
        {
            await SettleAsync(outcomes);
            return;
        }

        var next = State.Transactions.All(t => t.Confirmations > 0) ? SettlementStatus.Confirmed : SettlementStatus.Broadcast;
        if (changed || next != State.Status)
        {
            if (next == SettlementStatus.Broadcast && State.Status == SettlementStatus.Confirmed)
            {
                logger.LogWarning("Settlement {Settlement} ({Network}) left the chain in a reorganisation; its signed transactions were broadcast again", State.Id, State.Network);
            }

            State.Status = next;
            State.UpdatedAt = Now;
            await SaveAsync();
        }
    }

    /// <summary>
    /// Completes the withdrawals whose transfer is final and fails the others (all of them when <paramref name="failReason"/>
    /// is given), books the network fee actually paid to the operator, and ends the batch. Each step repeats harmlessly.
    /// </summary>
    private async Task SettleAsync(IReadOnlyDictionary<string, PayoutTransactionStatus>? outcomes = null, string? failReason = null)
    {
        var completed = 0;
        foreach (var entry in State.Entries)
        {
            var transaction = State.TransactionOf(entry.WithdrawalId);
            var paid = failReason is null && transaction is not null && outcomes is not null &&
                outcomes.TryGetValue(transaction.Txid, out var outcome) && outcome.State == PayoutTransactionState.Confirmed;
            var withdrawal = GrainFactory.GetGrain<IWithdrawalGrain>(entry.WithdrawalId);
            if (paid)
            {
                await withdrawal.Complete(transaction!.Txid);
                completed++;
            }
            else
            {
                await withdrawal.Fail(failReason ?? $"The payout transaction {transaction?.Txid} can never confirm on {State.Network}.");
            }
        }

        var fee = State.NetworkFeeUnits;
        if (!fee.IsZero && State.Movements.Count == 0)
        {
            State.Movements.Add(SettlementMovements.NetworkFee(SettlementIds.Key(State.Id), State.Network, fee, Now));
        }

        State.Status = completed > 0 ? SettlementStatus.Finalized : SettlementStatus.Failed;
        State.Reason = failReason ?? (completed < State.Entries.Count ? $"{State.Entries.Count - completed} of {State.Entries.Count} payouts can never confirm." : null);
        State.FinalizedAt = Now;
        State.UpdatedAt = Now;
        if (State.Status == SettlementStatus.Finalized)
        {
            // Each merchant paid in the batch hears of it once, seeing its own payouts; the effects are written with this state.
            foreach (var (merchantId, mode) in State.Entries.Select(e => (e.MerchantId, e.Mode)).Distinct())
            {
                Send(new PublishSettlementEvent(WebhookEndpointsGrain.KeyFor(merchantId, mode),
                    new SettlementEvent(SettlementEventTypes.Finalized, Now.ToUnixTimeSeconds(), merchantId, mode, StateJson.Clone(State))));
            }
        }

        await SaveAsync();
        poll?.Dispose();
        poll = null;
        logger.LogInformation("Settlement {Settlement} ({Network}) is {Status}: {Completed} of {Count} payouts completed, network fee {Fee}",
            State.Id, State.Network, SettlementProjection.Name(State.Status), completed, State.Entries.Count, fee);
    }

    private static SignedPayout Signed(SettlementTransaction transaction) => new(transaction.Txid, transaction.Hex);
}
