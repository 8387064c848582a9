using System.Globalization;

namespace CryptoPay.Runtime.Bench;

/// <summary>Sizes and durations of one run; <c>--quick</c> shrinks every scenario for a smoke run.</summary>
internal sealed record BenchSettings
{
    public bool Quick { get; init; }

    /// <summary>Statement preparation for the baseline and the store alike (the store's production default), so the ratio is fair.</summary>
    public const int MaxAutoPrepare = 64;

    /// <summary>The store's production pool settings (PostgresGrainStore.CreateDataSource), given to the baseline too.</summary>
    public static void ApplyStorePoolSettings(Npgsql.NpgsqlConnectionStringBuilder connection)
    {
        connection.MaxAutoPrepare = MaxAutoPrepare;
        connection.AutoPrepareMinUsages = 2;
        connection.NoResetOnClose = true;
    }

    /// <summary>Concurrent closed-loop workers, each on its own row or grain.</summary>
    public int Concurrency { get; init; } = 32;

    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan Measure { get; init; } = TimeSpan.FromSeconds(10);

    public int SpreadReminders { get; init; } = 10_000;

    public int SpreadRatePerSecond { get; init; } = 1_000;

    public int BurstReminders { get; init; } = 10_000;

    /// <summary>How far ahead of registration the burst is due, so registration is never measured.</summary>
    public TimeSpan BurstLead { get; init; } = TimeSpan.FromSeconds(20);

    public int MessageSenders { get; init; } = 200;

    public int MessagesPerSender { get; init; } = 50;

    public int MessageReceivers { get; init; } = 1_000;

    public int Messages => MessageSenders * MessagesPerSender;

    public static BenchSettings Parse(IReadOnlyList<string> args)
    {
        var settings = args.Contains("--quick", StringComparer.Ordinal)
            ? new BenchSettings
            {
                Quick = true,
                WarmUp = TimeSpan.FromSeconds(1),
                Measure = TimeSpan.FromSeconds(3),
                SpreadReminders = 2_000,
                BurstReminders = 2_000,
                BurstLead = TimeSpan.FromSeconds(6),
                MessageSenders = 40,
                MessageReceivers = 200,
            }
            : new BenchSettings();

        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    break;
                case "--concurrency" when i + 1 < args.Count:
                    settings = settings with { Concurrency = PositiveInt(args[++i], "--concurrency") };
                    break;
                case "--seconds" when i + 1 < args.Count:
                    settings = settings with { Measure = TimeSpan.FromSeconds(PositiveInt(args[++i], "--seconds")) };
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'. Usage: [--quick] [--concurrency N] [--seconds N]");
            }
        }

        return settings;
    }

    private static int PositiveInt(string text, string name) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new ArgumentException($"{name} needs a positive integer, not '{text}'.");
}
