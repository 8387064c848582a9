using System.Globalization;
using System.Numerics;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.TestSupport.Postgres;
using Npgsql;

namespace CryptoPay.Grains.Tests.Ledger;

public sealed class MemoryLedgerExplorationTests : LedgerExplorationTests;

[Collection("postgres")]
public sealed class PostgresLedgerExplorationTests(PostgresFixture postgres) : LedgerExplorationTests
{
    protected override Task<NpgsqlDataSource?> CreateDataSourceAsync() => PostgresDataSourceAsync(postgres);
}

/// <summary>
/// Seeded random sequences of credits, duplicate credits (new effects from two senders, the same effect delivered
/// again) and reversals, with senders dying between their write and its delivery, against a model of what each
/// output and balance must hold.
/// A failure names its seed; set LEDGER_SEED to replay it exactly.
/// </summary>
public abstract class LedgerExplorationTests : LedgerClusterTests
{
    private const int Steps = 120;

    private sealed record Output(DepositCredit Credit)
    {
        public bool Credited { get; set; }
    }

    [Fact]
    public async Task A_random_sequence_with_duplicates_reversals_and_dying_senders_keeps_the_ledger_exact()
    {
        var seed = Environment.GetEnvironmentVariable("LEDGER_SEED") is { Length: > 0 } fixedSeed
            ? int.Parse(fixedSeed, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        try
        {
            await RunAsync(seed);
        }
        catch (Exception error)
        {
            throw new InvalidOperationException($"Ledger exploration failed with LEDGER_SEED={seed}: {error.Message}", error);
        }
    }

    private async Task RunAsync(int seed)
    {
        var random = new Random(seed);
        Guid[] merchants = [Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()];
        (string Asset, string Network, Mode Mode)[] assets = [("USDT", "tron", Mode.Live), ("BTC", "btc", Mode.Live), ("USDT", "sandbox", Mode.Test)];
        var outputs = new List<Output>();
        var fees = new LedgerOptions { FeeBasisPoints = FeeBasisPoints };

        for (var step = 0; step < Steps; step++)
        {
            var sender = random.Next(2);
            var roll = random.Next(100);
            if (roll < 40 || outputs.Count == 0)
            {
                var (asset, network, mode) = assets[random.Next(assets.Length)];
                var credit = new DepositCredit(merchants[random.Next(merchants.Length)], mode, network, asset,
                    Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64())), random.Next(4), random.Next(1, 50_000_000), Guid.NewGuid());
                if (outputs.Exists(o => o.Credit.OutputKey == credit.OutputKey))
                {
                    continue;
                }

                outputs.Add(new Output(credit) { Credited = true });
                await SendCreditAsync(sender, credit, random.Next(1, 4), direct: random.Next(4) == 0);
            }
            else if (roll < 70)
            {
                var output = outputs[random.Next(outputs.Count)];
                output.Credited = true;
                await SendCreditAsync(sender, output.Credit, random.Next(1, 3), direct: random.Next(2) == 0);
            }
            else if (roll < 90)
            {
                var output = outputs[random.Next(outputs.Count)];
                output.Credited = false;
                await Cluster.Grains.GetGrain<ILedgerSenderGrain>($"sender-{sender}").SendReverse(output.Credit);
            }
            else
            {
                // The sender writes, then dies before or after delivering: its next activation or wake reminder delivers (again).
                var output = outputs[random.Next(outputs.Count)];
                output.Credited = true;
                await Cluster.Grains.GetGrain<ILedgerSenderGrain>($"sender-{sender}").CommitCreditAndCrash(output.Credit, 2, afterDelivering: random.Next(2) == 0);
                await Cluster.AdvanceTimeAsync(TimeSpan.FromMinutes(1));
            }

            await Cluster.RunDueWorkAsync();
        }

        await Cluster.RunDueWorkAsync();
        await LedgerInvariants.CheckAsync(Cluster.Ledger);
        foreach (var output in outputs)
        {
            Assert.True(output.Credited == (await Cluster.Grains.GetGrain<ILedgerOutputGrain>(output.Credit.OutputKey).Get()).Credited, $"output {output.Credit.OutputKey}");
        }

        foreach (var balance in outputs.GroupBy(o => o.Credit.BalanceKey))
        {
            var expected = balance.Where(o => o.Credited).Aggregate(BigInteger.Zero, (s, o) => s + o.Credit.AmountUnits - fees.FeeOf(o.Credit.AmountUnits));
            Assert.Equal(expected, (await Cluster.Grains.GetGrain<IMerchantBalanceGrain>(balance.Key).Get()).Available);
        }
    }

    private async Task SendCreditAsync(int sender, DepositCredit credit, int copies, bool direct)
    {
        if (direct)
        {
            // One effect delivered `copies` times: applied once.
            var effect = Direct(new CreditOutput(credit));
            for (var i = 0; i < copies; i++)
            {
                await Cluster.Grains.GetGrain<ILedgerOutputGrain>(credit.OutputKey).Credit(effect);
            }

            return;
        }

        await Cluster.Grains.GetGrain<ILedgerSenderGrain>($"sender-{sender}").SendCredit(credit, copies);
    }
}
