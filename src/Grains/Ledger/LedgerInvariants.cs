using System.Numerics;
using CryptoPay.Grains.Settlements;
using CryptoPay.Grains.Withdrawals;

namespace CryptoPay.Grains.Ledger;

/// <summary>
/// The ledger's invariants as code, checked after every test and chaos run on a quiet cluster
/// (messages between journals and balances delivered). Each failure throws
/// <see cref="LedgerInvariantException"/> naming the invariant.
/// </summary>
public static class LedgerInvariants
{
    public static async Task CheckAsync(ILedgerQuery ledger, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        Check(await ledger.SnapshotAsync(ct).ConfigureAwait(false));
    }

    public static void Check(LedgerSnapshot snapshot)
    {
        var movementIds = new HashSet<string>(StringComparer.Ordinal);
        var outputs = new HashSet<(string, string, int)>();
        var journalPerAsset = new Dictionary<string, BigInteger>(StringComparer.Ordinal);
        var accountTotals = new Dictionary<(string Asset, string Account), BigInteger>();
        var movementsPerBalance = new Dictionary<string, long>(StringComparer.Ordinal);

        foreach (var output in snapshot.Outputs)
        {
            if (!outputs.Add((output.Network, output.Txid, output.OutputIndex)))
            {
                throw new LedgerInvariantException("no output credited twice", $"output {output.OutputKey} has two journals.");
            }

            CheckJournal(output, movementIds);
            var balanceKey = LedgerKeys.Balance(output.MerchantId, output.Mode, output.Asset);
            movementsPerBalance[balanceKey] = movementsPerBalance.GetValueOrDefault(balanceKey) + output.Movements.Count;
            foreach (var entry in output.Movements.SelectMany(m => m.Entries))
            {
                journalPerAsset[entry.Asset] = journalPerAsset.GetValueOrDefault(entry.Asset) + entry.Amount;
                accountTotals[(entry.Asset, entry.Account)] = accountTotals.GetValueOrDefault((entry.Asset, entry.Account)) + entry.Amount;
            }
        }

        foreach (var withdrawal in snapshot.Withdrawals ?? [])
        {
            CheckJournal(withdrawal, movementIds);
            var spec = withdrawal.Spec!;
            movementsPerBalance[spec.BalanceKey] = movementsPerBalance.GetValueOrDefault(spec.BalanceKey) + withdrawal.Movements.Count;
            foreach (var entry in withdrawal.Movements.SelectMany(m => m.Entries))
            {
                journalPerAsset[entry.Asset] = journalPerAsset.GetValueOrDefault(entry.Asset) + entry.Amount;
                accountTotals[(entry.Asset, entry.Account)] = accountTotals.GetValueOrDefault((entry.Asset, entry.Account)) + entry.Amount;
            }
        }

        var withdrawalsById = (snapshot.Withdrawals ?? []).Where(w => w.Spec is not null).ToDictionary(w => w.Spec!.Id);
        foreach (var settlement in snapshot.Settlements ?? [])
        {
            CheckSettlement(settlement, withdrawalsById, movementIds);
            foreach (var entry in settlement.Movements.SelectMany(m => m.Entries))
            {
                journalPerAsset[entry.Asset] = journalPerAsset.GetValueOrDefault(entry.Asset) + entry.Amount;
                accountTotals[(entry.Asset, entry.Account)] = accountTotals.GetValueOrDefault((entry.Asset, entry.Account)) + entry.Amount;
            }
        }

        foreach (var (asset, sum) in journalPerAsset.Where(a => !a.Value.IsZero))
        {
            throw new LedgerInvariantException("sum of all entries per asset is zero", $"the entries of {asset} sum to {sum}.");
        }

        foreach (var balance in snapshot.Balances)
        {
            var key = LedgerKeys.Balance(balance.MerchantId, balance.Mode, balance.Asset);
            var journal = accountTotals.GetValueOrDefault((balance.Asset, LedgerKeys.MerchantAvailable(balance.MerchantId, balance.Mode)));
            if (balance.Available != journal)
            {
                throw new LedgerInvariantException("balance equals its journal", $"balance {key} holds {balance.Available} but its entries sum to {journal}.");
            }

            var reservedJournal = accountTotals.GetValueOrDefault((balance.Asset, LedgerKeys.MerchantReserved(balance.MerchantId, balance.Mode)));
            if (balance.Reserved != reservedJournal || balance.Reserved != balance.Reservations.Values.Aggregate(BigInteger.Zero, (s, v) => s + v))
            {
                throw new LedgerInvariantException("reserved equals its journal", $"balance {key} holds {balance.Reserved} reserved; its entries sum to {reservedJournal}, its open reservations to {balance.Reservations.Values.Aggregate(BigInteger.Zero, (s, v) => s + v)}.");
            }

            if (balance.Available.Sign < 0 || balance.Reserved.Sign < 0)
            {
                throw new LedgerInvariantException("no balance below zero", $"balance {key}: available {balance.Available}, reserved {balance.Reserved}.");
            }

            if (balance.Available + balance.Reserved != balance.Deposited - balance.Fees - balance.Withdrawn)
            {
                throw new LedgerInvariantException("balance equals deposits - fees - withdrawals", $"balance {key}: {balance.Available} available + {balance.Reserved} reserved != {balance.Deposited} - {balance.Fees} - {balance.Withdrawn}.");
            }

            if (balance.MovementCount != movementsPerBalance.GetValueOrDefault(key))
            {
                throw new LedgerInvariantException("every movement posted once", $"balance {key} applied {balance.MovementCount} movements; its journals hold {movementsPerBalance.GetValueOrDefault(key)}.");
            }
        }

        foreach (var asset in journalPerAsset.Keys)
        {
            var balances = snapshot.Balances.Where(b => b.Asset == asset).ToList();
            var merchants = balances.Aggregate(BigInteger.Zero, (s, b) => s + b.Available + b.Reserved);
            var deposited = -accountTotals.Where(a => a.Key.Asset == asset && a.Key.Account.StartsWith("deposits:", StringComparison.Ordinal)).Aggregate(BigInteger.Zero, (s, a) => s + a.Value);
            // The fees charged, whether the operator kept them or paid them on to the network.
            var fees = accountTotals.GetValueOrDefault((asset, LedgerKeys.OperatorFees)) +
                accountTotals.Where(a => a.Key.Asset == asset && a.Key.Account.StartsWith("network-fees:", StringComparison.Ordinal)).Aggregate(BigInteger.Zero, (s, a) => s + a.Value);
            var withdrawn = balances.Aggregate(BigInteger.Zero, (s, b) => s + b.Withdrawn);
            var paidOut = accountTotals.Where(a => a.Key.Asset == asset && a.Key.Account.StartsWith("payouts:", StringComparison.Ordinal)).Aggregate(BigInteger.Zero, (s, a) => s + a.Value);
            if (withdrawn != paidOut)
            {
                throw new LedgerInvariantException("balance equals deposits - fees - withdrawals", $"{asset}: balances withdrew {withdrawn}, but the journals paid out {paidOut}.");
            }
            if (merchants != deposited - fees - withdrawn)
            {
                throw new LedgerInvariantException("balance equals deposits - fees - withdrawals", $"{asset}: merchants hold {merchants}, but {deposited} credited - {fees} fees - {withdrawn} withdrawn = {deposited - fees - withdrawn}.");
            }
        }
    }

    /// <summary>
    /// A withdrawal's journal: nothing before it is reserved (or when refused); else its reservation of amount + fee, then
    /// nothing while it waits, the exact release once rejected, cancelled or failed, or the payout once completed.
    /// </summary>
    private static void CheckJournal(WithdrawalState withdrawal, HashSet<string> movementIds)
    {
        var spec = withdrawal.Spec ?? throw new LedgerInvariantException("a withdrawal spends a balance", "a stored withdrawal has no request.");
        var movements = withdrawal.Movements;
        foreach (var movement in movements)
        {
            movement.EnsureBalanced();
            if (!movementIds.Add(movement.Id))
            {
                throw new LedgerInvariantException("every movement posted once", $"movement {movement.Id} is recorded twice.");
            }
        }

        LedgerMovementKind[] expected = withdrawal.Status switch
        {
            WithdrawalStatus.Reserving or WithdrawalStatus.Refused => [],
            WithdrawalStatus.Review or WithdrawalStatus.Queued or WithdrawalStatus.Processing => [LedgerMovementKind.WithdrawalReservation],
            WithdrawalStatus.Completed => [LedgerMovementKind.WithdrawalReservation, LedgerMovementKind.WithdrawalPayout],
            _ => [LedgerMovementKind.WithdrawalReservation, LedgerMovementKind.WithdrawalRelease],
        };
        if (!movements.Select(m => m.Kind).SequenceEqual(expected))
        {
            throw new LedgerInvariantException("a withdrawal's journal follows its status", $"withdrawal {spec.Id} is {withdrawal.Status} with movements [{string.Join(", ", movements.Select(m => m.Kind))}].");
        }

        if (movements.Count == 0)
        {
            return;
        }

        var reserve = movements[0];
        var reserved = reserve.AmountOn(LedgerKeys.MerchantReserved(spec.MerchantId, spec.Mode));
        if (reserved != spec.TotalUnits || reserve.AmountOn(LedgerKeys.MerchantAvailable(spec.MerchantId, spec.Mode)) != -spec.TotalUnits)
        {
            throw new LedgerInvariantException("a reservation holds amount + fee", $"withdrawal {spec.Id} reserved {reserved} for {spec.AmountUnits} + {spec.FeeUnits}.");
        }

        if (movements.Count == 2)
        {
            var closing = movements[1];
            var exact = closing.Kind == LedgerMovementKind.WithdrawalRelease
                ? reserve.Entries.Count == closing.Entries.Count && reserve.Entries.Zip(closing.Entries).All(p => p.First.Account == p.Second.Account && p.First.Amount == -p.Second.Amount)
                : closing.AmountOn(LedgerKeys.MerchantReserved(spec.MerchantId, spec.Mode)) == -spec.TotalUnits &&
                  closing.AmountOn(LedgerKeys.Payouts(spec.Network)) == spec.AmountUnits && closing.AmountOn(LedgerKeys.OperatorFees) == spec.FeeUnits;
            if (!exact)
            {
                throw new LedgerInvariantException("a release or payout spends its reservation exactly", $"movement {closing.Id} does not close {reserve.Id}.");
            }
        }
    }

    /// <summary>
    /// A settlement batch: each entry's withdrawal is processing in it while it is under way, completed with one of the
    /// batch's transactions or failed once it settled; its one movement, once final, is the network fee its mined
    /// transactions paid.
    /// </summary>
    private static void CheckSettlement(SettlementState settlement, Dictionary<Guid, WithdrawalState> withdrawals, HashSet<string> movementIds)
    {
        var key = SettlementIds.Key(settlement.Id);
        foreach (var movement in settlement.Movements)
        {
            movement.EnsureBalanced();
            if (!movementIds.Add(movement.Id))
            {
                throw new LedgerInvariantException("every movement posted once", $"movement {movement.Id} is recorded twice.");
            }
        }

        var settled = settlement.Status is SettlementStatus.Finalized or SettlementStatus.Failed;
        var fee = settled ? settlement.NetworkFeeUnits : BigInteger.Zero;
        var booked = settlement.Movements.Where(m => m.Kind == LedgerMovementKind.SettlementNetworkFee).Aggregate(BigInteger.Zero, (s, m) => s + m.AmountOn(LedgerKeys.NetworkFees(settlement.Network)));
        if (settlement.Movements.Count > 1 || booked != fee)
        {
            throw new LedgerInvariantException("a settlement books its network fee once", $"settlement {key} paid {fee} in network fees but booked {booked} in {settlement.Movements.Count} movements.");
        }

        foreach (var entry in settlement.Entries)
        {
            if (!withdrawals.TryGetValue(entry.WithdrawalId, out var withdrawal) || withdrawal.SettlementId != settlement.Id.ToString("D"))
            {
                throw new LedgerInvariantException("a payout is in one batch", $"settlement {key} pays withdrawal {entry.WithdrawalId}, which names batch {withdrawal?.SettlementId ?? "none"}.");
            }

            var expected = settled ? [WithdrawalStatus.Completed, WithdrawalStatus.Failed] : new[] { WithdrawalStatus.Processing };
            if (!expected.Contains(withdrawal.Status) || (withdrawal.Status == WithdrawalStatus.Completed && settlement.TransactionOf(entry.WithdrawalId)?.Txid != withdrawal.Txid))
            {
                throw new LedgerInvariantException("a payout follows its batch", $"withdrawal {entry.WithdrawalId} is {withdrawal.Status} (txid {withdrawal.Txid}) in settlement {key}, which is {settlement.Status}.");
            }
        }
    }

    /// <summary>An output's journal: balanced movements, credit and exact reversal alternating, the credited flag matching.</summary>
    private static void CheckJournal(LedgerOutputState output, HashSet<string> movementIds)
    {
        for (var i = 0; i < output.Movements.Count; i++)
        {
            var movement = output.Movements[i];
            movement.EnsureBalanced();
            if (!movementIds.Add(movement.Id))
            {
                throw new LedgerInvariantException("no output credited twice", $"movement {movement.Id} is recorded twice.");
            }

            var expected = i % 2 == 0 ? LedgerMovementKind.DepositCredit : LedgerMovementKind.DepositReversal;
            if (movement.Kind != expected || movement.OutputKey != output.OutputKey)
            {
                throw new LedgerInvariantException("no output credited twice", $"output {output.OutputKey} has {movement.Kind} at position {i}; credits and reversals must alternate.");
            }

            if (movement.Kind == LedgerMovementKind.DepositReversal)
            {
                var credit = output.Movements[i - 1];
                var compensates = credit.Entries.Count == movement.Entries.Count &&
                    credit.Entries.Zip(movement.Entries).All(p => p.First.Account == p.Second.Account && p.First.Asset == p.Second.Asset && p.First.Amount == -p.Second.Amount);
                if (!compensates)
                {
                    throw new LedgerInvariantException("a reversal compensates its credit exactly", $"movement {movement.Id} does not negate {credit.Id}.");
                }
            }
            else if (movement.AmountOn(LedgerKeys.Deposits(output.Network)) != -output.GrossUnits)
            {
                throw new LedgerInvariantException("a credit moves the whole output", $"movement {movement.Id} moves {-movement.AmountOn(LedgerKeys.Deposits(output.Network))} of output {output.OutputKey} worth {output.GrossUnits}.");
            }
        }

        if (output.Credited != (output.Movements.Count % 2 == 1))
        {
            throw new LedgerInvariantException("no output credited twice", $"output {output.OutputKey} says credited={output.Credited} after {output.Movements.Count} movements.");
        }
    }
}
