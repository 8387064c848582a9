using System.Diagnostics;
using CryptoPay.OrleansProcessHost;

namespace CryptoPay.OrleansTests.Membership;

/// <summary>What the failover tests share: a grain placed on the silo to fail, and calls that retry until answered.</summary>
internal static class Failover
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(1);

    /// <summary>A counter grain activated on the silo <paramref name="onVictim"/> recognises, with its state after one write.</summary>
    public static async Task<(ICounterGrain Grain, CounterReading Reading)> ActivatedOnAsync(IGrainFactory grains, string keyPrefix, Func<CounterReading, bool> onVictim)
    {
        for (var i = 0; i < 1000; i++)
        {
            var grain = grains.GetGrain<ICounterGrain>($"{keyPrefix}:{i}");
            var reading = await grain.AddAsync(i + 1);
            if (onVictim(reading))
            {
                return (grain, reading);
            }
        }

        throw new InvalidOperationException("no grain was placed on the silo to fail");
    }

    /// <summary>Calls until the answer satisfies <paramref name="done"/>; a call that fails or hangs is retried.</summary>
    public static async Task<T> PollAsync<T>(Func<Task<T>> call, Func<T, bool> done, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        var last = "no answer";
        while (clock.Elapsed < limit)
        {
            try
            {
                var answer = await call().WaitAsync(CallTimeout);
                if (done(answer))
                {
                    return answer;
                }

                last = $"answer {answer}";
            }
            // A client still holding the killed silo's gateway fails to connect until membership drops it: also a retry.
            catch (Exception error) when (error is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException
                or Orleans.Runtime.Messaging.ConnectionFailedException)
            {
                last = error.GetType().Name;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"no satisfying answer within {limit.TotalSeconds:0} s; last: {last}");
    }
}
