using System.Reflection;
using CryptoPay.Runtime.Storage;

namespace CryptoPay.Runtime.Grains;

/// <summary>A registered grain type: its stored name, interface, implementation, methods and optional projection.</summary>
public sealed class GrainTypeInfo
{
    private readonly Dictionary<MethodInfo, GrainMethod> byMethod = [];
    private readonly Dictionary<string, GrainMethod> byName = new(StringComparer.Ordinal);

    internal GrainTypeInfo(string name, Type grainInterface, Type implementation, StateProjection? projection)
    {
        Name = name;
        Interface = grainInterface;
        Implementation = implementation;
        Projection = projection;
        var methods = new[] { grainInterface }
            .Concat(grainInterface.GetInterfaces())
            .Where(i => i != typeof(IGrain) && i != typeof(IGrainWithStringKey) && i != typeof(IGrainWithGuidKey))
            .SelectMany(i => i.GetMethods());
        foreach (var method in methods)
        {
            if (byName.ContainsKey(method.Name))
            {
                throw new GrainUsageException($"{grainInterface.Name}.{method.Name}: overloaded grain methods are not supported (messages name methods by name).");
            }

            var grainMethod = new GrainMethod(grainInterface, method);
            byMethod[method] = grainMethod;
            byName[method.Name] = grainMethod;
            AnnouncesChanges |= grainMethod.CachedReadMaxAge is not null;
        }

        if (typeof(IRemindable).IsAssignableFrom(implementation))
        {
            var receive = typeof(IRemindable).GetMethod(nameof(IRemindable.ReceiveReminder))!;
            ReminderMethod = new GrainMethod(typeof(IRemindable), receive);
        }
    }

    public string Name { get; }

    public Type Interface { get; }

    public Type Implementation { get; }

    public StateProjection? Projection { get; }

    internal GrainMethod? ReminderMethod { get; }

    /// <summary>Some method answers cached reads: changes of this type are announced on the store's change feed.</summary>
    internal bool AnnouncesChanges { get; }

    internal GrainMethod GetMethod(MethodInfo method) =>
        byMethod.TryGetValue(method, out var m) ? m : throw new GrainUsageException($"{method.Name} is not a method of grain {Name}.");

    internal GrainMethod GetMethod(string name) =>
        byName.TryGetValue(name, out var m) ? m : throw new GrainUsageException($"Grain {Name} has no method '{name}'.");
}

/// <summary>Which grain interfaces exist and which class implements each. Filled at start-up, read-only afterwards.</summary>
public sealed class GrainTypeRegistry
{
    private readonly Dictionary<Type, GrainTypeInfo> byInterface = [];
    private readonly Dictionary<string, GrainTypeInfo> byName = new(StringComparer.Ordinal);

    public IReadOnlyCollection<GrainTypeInfo> Types => byName.Values;

    public GrainTypeRegistry Add<TInterface, TGrain>(StateProjection? projection = null)
        where TInterface : IGrain
        where TGrain : Grain, TInterface =>
        Add(typeof(TInterface), typeof(TGrain), projection);

    public GrainTypeRegistry Add(Type grainInterface, Type implementation, StateProjection? projection = null)
    {
        if (!grainInterface.IsInterface || !typeof(IGrain).IsAssignableFrom(grainInterface))
        {
            throw new GrainUsageException($"{grainInterface.Name} must be an interface deriving from IGrainWithStringKey or IGrainWithGuidKey.");
        }

        if (!typeof(Grain).IsAssignableFrom(implementation) || !grainInterface.IsAssignableFrom(implementation) || implementation.IsAbstract)
        {
            throw new GrainUsageException($"{implementation.Name} must be a concrete Grain implementing {grainInterface.Name}.");
        }

        var name = grainInterface.GetCustomAttribute<GrainTypeAttribute>()?.Name ?? grainInterface.Name.TrimStart('I');
        if (byName.ContainsKey(name) || byInterface.ContainsKey(grainInterface))
        {
            throw new GrainUsageException($"Grain type '{name}' ({grainInterface.Name}) is registered twice.");
        }

        var info = new GrainTypeInfo(name, grainInterface, implementation, projection);
        byInterface[grainInterface] = info;
        byName[name] = info;
        return this;
    }

    public GrainTypeInfo Get(Type grainInterface) =>
        byInterface.TryGetValue(grainInterface, out var info)
            ? info
            : throw new GrainUsageException($"Grain interface {grainInterface.Name} is not registered with the runtime.");

    public GrainTypeInfo Get(string name) =>
        byName.TryGetValue(name, out var info) ? info : throw new GrainUsageException($"Grain type '{name}' is not registered with the runtime.");
}
