using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Effects;

/// <summary>
/// The durable trigger behind an <see cref="EffectOutbox{TEffect}"/>: a reminder that exists while effects may be
/// pending, so effects left behind by a crash are delivered even if nothing calls the sender again. It is registered
/// before the state write that adds the first pending effect (a crash between the two leaves only a reminder that
/// finds nothing to do) and removed once the outbox is empty. One instance per activation remembers whether the
/// reminder exists, so a sender that stays busy pays for it once.
/// </summary>
public sealed class EffectRedelivery(IGrainBase grain)
{
    public const string ReminderName = "deliver-effects";

    /// <summary>How often a sender retries effects its receivers did not acknowledge.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMinutes(1);

    private bool? armed;

    /// <summary>Call before writing a state whose outbox has effects: makes sure the reminder exists.</summary>
    public async Task ArmAsync()
    {
        if (armed != true)
        {
            await grain.RegisterOrUpdateReminder(ReminderName, Period, Period);
            armed = true;
        }
    }

    /// <summary>Call once the outbox is empty and written: removes the reminder if it exists.</summary>
    public async Task DisarmAsync()
    {
        if (armed == false)
        {
            return;
        }

        if (await grain.GetReminder(ReminderName) is { } reminder)
        {
            await grain.UnregisterReminder(reminder);
        }

        armed = false;
    }
}
