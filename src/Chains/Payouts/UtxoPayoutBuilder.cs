using NBitcoin;
using Network = CryptoPay.Chains.Networks.Network;

namespace CryptoPay.Chains.Payouts;

/// <summary>One destination of a payout and its exact amount in satoshis (litoshis).</summary>
public sealed record UtxoPayment(string Address, long Satoshis);

/// <summary>
/// Builds and signs one transaction paying several destinations on a UTXO network with NBitcoin's
/// <see cref="TransactionBuilder"/>: the given coins as inputs, change to one address, the fee from a rate. The
/// caller broadcasts it (<see cref="Rpc.BitcoinRpcClient.SendRawTransactionAsync"/>) and records its txid first.
/// </summary>
public static class UtxoPayoutBuilder
{
    /// <param name="coins">Outputs the hot wallet owns, with their value and script (from the node or our own records).</param>
    /// <param name="keys">The private keys of those outputs.</param>
    /// <exception cref="ArgumentException">A destination is not an address of <paramref name="network"/>.</exception>
    /// <exception cref="NotEnoughFundsException">The coins do not cover the payments and the fee.</exception>
    public static Transaction BuildAndSign(
        Network network,
        IReadOnlyList<Coin> coins,
        IReadOnlyList<Key> keys,
        IReadOnlyList<UtxoPayment> payments,
        string changeAddress,
        FeeRate feeRate)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(payments);
        var utxo = network.UtxoNetwork ?? throw new ArgumentException($"{network} is not a UTXO network.", nameof(network));
        if (payments.Count == 0 || payments.Any(p => p.Satoshis <= 0))
        {
            throw new ArgumentException("A payout pays at least one destination a positive amount.", nameof(payments));
        }

        var builder = utxo.CreateTransactionBuilder();
        builder.AddCoins(coins);
        builder.AddKeys([.. keys]);
        foreach (var payment in payments)
        {
            builder.Send(Destination(payment.Address, utxo), Money.Satoshis(payment.Satoshis));
        }

        builder.SetChange(Destination(changeAddress, utxo));
        builder.SendEstimatedFees(feeRate);
        var transaction = builder.BuildTransaction(sign: true);
        if (!builder.Verify(transaction, out var errors))
        {
            throw new InvalidOperationException($"The payout transaction does not verify: {string.Join("; ", errors.Select(e => e.ToString()))}.");
        }

        return transaction;
    }

    private static BitcoinAddress Destination(string address, NBitcoin.Network utxo)
    {
        try
        {
            return BitcoinAddress.Create(address, utxo);
        }
        catch (FormatException exception)
        {
            throw new ArgumentException($"'{address}' is not an address of {utxo}: {exception.Message}", nameof(address), exception);
        }
    }
}
