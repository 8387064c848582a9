using Orleans.Runtime;
using Orleans.Storage;

namespace CryptoPay.Silo.Hosting;

/// <summary>
/// Retries a grain call made from outside any grain (an HTTP request being served) that failed because the silo holding
/// the grain has just died or is shutting down: such a call never reached a live activation, and once membership has
/// declared the silo dead (seconds; docs/ORLEANS.md) the grain answers from a survivor. So a merchant whose request
/// arrives during a failover waits a little instead of seeing an error; after <see cref="Window"/> the failure goes on
/// to the exception handler, which answers 503 with Retry-After. Calls between grains are not retried here: effects
/// have their own redelivery, and a grain turn must not stall.
/// </summary>
internal sealed class TransientCallRetry(ILogger<TransientCallRetry> logger) : IOutgoingGrainCallFilter
{
    /// <summary>How long a call keeps trying: longer than a killed silo's detection time.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(20);

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (context.SourceContext is not null)
        {
            await context.Invoke();
            return;
        }

        var started = DateTime.UtcNow;
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                await context.Invoke();
                return;
            }
            catch (Exception error) when (IsTransient(error) && DateTime.UtcNow - started + delay < Window)
            {
                logger.LogInformation("{Interface}.{Method} on {Grain} failed ({Error}); trying again in {Delay} ms",
                    context.InterfaceName, context.MethodName, context.TargetId, error.Message, delay.TotalMilliseconds);
                await Task.Delay(delay);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1_000));
            }
        }
    }

    /// <summary>
    /// The call met a silo that is dead or leaving, or an activation reloading after a failed save: nothing ran, or what
    /// ran is idempotent by design (effects, derived ids) and was not stored.
    /// </summary>
    public static bool IsTransient(Exception error) => error is SiloUnavailableException or OrleansMessageRejectionException or InconsistentStateException;
}
