namespace CryptoPay.Grains.AutoSettlement;

/// <summary>How often a merchant's balance of one asset is paid out automatically.</summary>
public enum SettlementSchedule
{
    Hourly,
    Daily,
    Weekly,
}

/// <summary>
/// Numbered windows of a schedule in UTC: hourly windows start on the hour, daily ones at midnight, weekly ones on Monday
/// at midnight. Window n of a schedule is the same interval on every silo, so its number can name its payout.
/// </summary>
public static class SettlementSchedules
{
    /// <summary>A Monday: weekly windows start on Mondays.</summary>
    private static readonly DateTimeOffset WeeklyOrigin = new(1970, 1, 5, 0, 0, 0, TimeSpan.Zero);

    public static IReadOnlyList<SettlementSchedule> All { get; } = Enum.GetValues<SettlementSchedule>();

    public static string Name(SettlementSchedule schedule) => schedule switch
    {
        SettlementSchedule.Hourly => "hourly",
        SettlementSchedule.Daily => "daily",
        SettlementSchedule.Weekly => "weekly",
        _ => throw new ArgumentOutOfRangeException(nameof(schedule), schedule, "Unknown schedule."),
    };

    public static SettlementSchedule? Parse(string? name) => All.Cast<SettlementSchedule?>().FirstOrDefault(s => Name(s!.Value) == name);

    public static TimeSpan Period(SettlementSchedule schedule) => schedule switch
    {
        SettlementSchedule.Hourly => TimeSpan.FromHours(1),
        SettlementSchedule.Daily => TimeSpan.FromDays(1),
        SettlementSchedule.Weekly => TimeSpan.FromDays(7),
        _ => throw new ArgumentOutOfRangeException(nameof(schedule), schedule, "Unknown schedule."),
    };

    /// <summary>The number of the window holding <paramref name="at"/>.</summary>
    public static long WindowAt(SettlementSchedule schedule, DateTimeOffset at)
    {
        var ticks = (at - Origin(schedule)).Ticks;
        var period = Period(schedule).Ticks;
        // Exact integer floor division: a double would misplace instants on a boundary.
        return ticks >= 0 ? ticks / period : -((-ticks + period - 1) / period);
    }

    /// <summary>When window <paramref name="window"/> starts (and window − 1 closes).</summary>
    public static DateTimeOffset StartOf(SettlementSchedule schedule, long window) => Origin(schedule) + TimeSpan.FromTicks(Period(schedule).Ticks * window);

    private static DateTimeOffset Origin(SettlementSchedule schedule) => schedule == SettlementSchedule.Weekly ? WeeklyOrigin : DateTimeOffset.UnixEpoch;
}
