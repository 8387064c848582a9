using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Tests.Hosting;

/// <summary>
/// An incoming call filter of the test cluster that fails the next calls to a chosen grain: before its method runs (the
/// receiver refused), or after (the effect was applied and its acknowledgement lost). It also keeps the first argument of
/// every call a watched grain answered.
/// </summary>
public sealed class CallFailures : IIncomingGrainCallFilter
{
    private readonly Lock gate = new();
    private readonly Dictionary<GrainId, (int Count, bool AfterApplying)> planned = [];
    private readonly Dictionary<GrainId, List<object?>> watched = [];

    /// <summary>From now on, keeps the first argument of each call <paramref name="target"/> answers (<see cref="Answered"/>).</summary>
    public void Watch(GrainId target)
    {
        lock (gate)
        {
            watched.TryAdd(target, []);
        }
    }

    public IReadOnlyList<object?> Answered(GrainId target)
    {
        lock (gate)
        {
            return watched.TryGetValue(target, out var arguments) ? [.. arguments] : [];
        }
    }

    public void FailNext(GrainId target, int count, bool afterApplying)
    {
        lock (gate)
        {
            planned[target] = (count, afterApplying);
        }
    }

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (Take(context.TargetId) is not { } afterApplying)
        {
            await context.Invoke();
            lock (gate)
            {
                if (watched.TryGetValue(context.TargetId, out var arguments))
                {
                    arguments.Add(context.Request.GetArgumentCount() > 0 ? context.Request.GetArgument(0) : null);
                }
            }

            return;
        }

        if (afterApplying)
        {
            await context.Invoke();
        }

        throw new InvalidOperationException(afterApplying ? "The acknowledgement was lost." : "The grain is unavailable.");
    }

    private bool? Take(GrainId target)
    {
        lock (gate)
        {
            if (!planned.TryGetValue(target, out var plan) || plan.Count == 0)
            {
                return null;
            }

            planned[target] = plan with { Count = plan.Count - 1 };
            return plan.AfterApplying;
        }
    }
}
