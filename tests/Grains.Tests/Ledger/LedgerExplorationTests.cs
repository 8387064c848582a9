using System.Globalization;
using System.Numerics;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.Runtime.Grains;
using CryptoPay.Runtime.Storage;
using CryptoPay.Runtime.Storage.Memory;
using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.Grains.Tests.Ledger;

public sealed class MemoryLedgerExplorationTests : LedgerExplorationTests
{
    protected override Task<IGrainStore> CreateStoreAsync() => Task.FromResult<IGrainStore>(new MemoryGrainStore());
}

[Collection("postgres")]
public sealed class PostgresLedgerExplorationTests(PostgresFixture postgres) : LedgerExplorationTests
{
    protected override Task<IGrainStore> CreateStoreAsync() => PostgresStoreAsync(postgres);
}

/// <summary>
/// Seeded random sequences of credits, duplicate credits (messages, direct calls, both silos) and
/// reversals, with silos killed mid-way, against a model of what each output and balance must hold.
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
    public async Task A_random_sequence_with_duplicates_reversals_and_a_killed_silo_keeps_the_ledger_exact()
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
            var silo = random.Next(2);
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
                await SendCreditAsync(silo, credit, random.Next(1, 4), direct: random.Next(4) == 0);
            }
            else if (roll < 70)
            {
                var output = outputs[random.Next(outputs.Count)];
                output.Credited = true;
                await SendCreditAsync(silo, output.Credit, random.Next(1, 3), direct: random.Next(2) == 0);
            }
            else if (roll < 90)
            {
                var output = outputs[random.Next(outputs.Count)];
                output.Credited = false;
                await Cluster.FactoryOf(silo).GetGrain<ILedgerSenderGrain>($"sender-{silo}").SendReverse(output.Credit);
            }
            else
            {
                // The sender commits, then its silo dies before or after delivering: another silo redelivers once the lease runs out.
                var output = outputs[random.Next(outputs.Count)];
                output.Credited = true;
                await SendCreditAsync(silo, output.Credit, 2, direct: false);
                Cluster.KillSilo(silo);
                await Cluster.AdvanceTimeAsync(TimeSpan.FromMinutes(1));
                await Cluster.RestartSiloAsync(silo);
            }

            await Cluster.RunUntilIdleAsync();
        }

        await Cluster.RunUntilIdleAsync();
        await LedgerInvariants.CheckAsync(Store);
        foreach (var output in outputs)
        {
            Assert.True(output.Credited == (await Cluster.Client.GetGrain<ILedgerOutputGrain>(output.Credit.OutputKey).Get()).Credited, $"output {output.Credit.OutputKey}");
        }

        foreach (var balance in outputs.GroupBy(o => o.Credit.BalanceKey))
        {
            var expected = balance.Where(o => o.Credited).Aggregate(BigInteger.Zero, (s, o) => s + o.Credit.AmountUnits - fees.FeeOf(o.Credit.AmountUnits));
            Assert.Equal(expected, (await Cluster.Client.GetGrain<IMerchantBalanceGrain>(balance.Key).Get()).Available);
        }
    }

    private async Task SendCreditAsync(int silo, DepositCredit credit, int copies, bool direct)
    {
        if (direct)
        {
            await Cluster.FactoryOf(silo).GetGrain<ILedgerOutputGrain>(credit.OutputKey).Credit(credit);
            return;
        }

        await Cluster.FactoryOf(silo).GetGrain<ILedgerSenderGrain>($"sender-{silo}").SendCredit(credit, copies);
    }
}
