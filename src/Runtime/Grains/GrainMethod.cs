using System.Numerics;
using System.Reflection;
using System.Text.Json;

namespace CryptoPay.Runtime.Grains;

/// <summary>A grain interface method: how to invoke it on a grain and how to hand its result back to a typed caller.</summary>
internal sealed class GrainMethod
{
    private static readonly MethodInfo FromTaskOfT = typeof(GrainMethod).GetMethod(nameof(AwaitTask), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo FromValueTaskOfT = typeof(GrainMethod).GetMethod(nameof(AwaitValueTask), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo ToTaskOfT = typeof(GrainMethod).GetMethod(nameof(CastTask), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo ToValueTaskOfT = typeof(GrainMethod).GetMethod(nameof(CastValueTask), BindingFlags.NonPublic | BindingFlags.Static)!;

    private readonly Func<object, Task<object?>> awaitResult;
    private readonly Func<Task<object?>, object> toCallerResult;

    public GrainMethod(Type grainInterface, MethodInfo method)
    {
        Method = method;
        Name = method.Name;
        var cachedRead = method.GetCustomAttribute<CachedReadAttribute>();
        CachedReadMaxAge = cachedRead?.MaxAge;
        ParameterTypes = method.GetParameters().Select(p => p.ParameterType).ToArray();
        if (method.GetParameters().Any(p => p.IsOut || p.ParameterType.IsByRef))
        {
            throw new GrainUsageException($"{grainInterface.Name}.{method.Name}: ref and out parameters are not supported.");
        }

        if (method.IsGenericMethodDefinition)
        {
            throw new GrainUsageException($"{grainInterface.Name}.{method.Name}: generic grain methods are not supported.");
        }

        var returnType = method.ReturnType;
        if (returnType == typeof(Task))
        {
            IsOneWayCompatible = true;
            awaitResult = static async o => { await ((Task)o).ConfigureAwait(false); return null; };
            toCallerResult = static t => t;
        }
        else if (returnType == typeof(ValueTask))
        {
            IsOneWayCompatible = true;
            awaitResult = static async o => { await ((ValueTask)o).ConfigureAwait(false); return null; };
            toCallerResult = static t => new ValueTask(t);
        }
        else if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(Task<>))
        {
            var resultType = returnType.GetGenericArguments()[0];
            ResultType = resultType;
            awaitResult = FromTaskOfT.MakeGenericMethod(resultType).CreateDelegate<Func<object, Task<object?>>>();
            toCallerResult = ToTaskOfT.MakeGenericMethod(resultType).CreateDelegate<Func<Task<object?>, object>>();
        }
        else if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(ValueTask<>))
        {
            var resultType = returnType.GetGenericArguments()[0];
            ResultType = resultType;
            awaitResult = FromValueTaskOfT.MakeGenericMethod(resultType).CreateDelegate<Func<object, Task<object?>>>();
            toCallerResult = ToValueTaskOfT.MakeGenericMethod(resultType).CreateDelegate<Func<Task<object?>, object>>();
        }
        else
        {
            throw new GrainUsageException($"{grainInterface.Name}.{method.Name} must return Task, Task<T>, ValueTask or ValueTask<T>.");
        }

        if (cachedRead is { Shared: true })
        {
            if (ParameterTypes.Length > 0 || ResultType is null || !IsDeeplyImmutable(ResultType, []))
            {
                throw new GrainUsageException($"{grainInterface.Name}.{method.Name}: a shared cached read takes no parameters and returns a deeply immutable type (sealed, readonly fields of immutable types).");
            }

            SharesAnswer = true;
        }
    }

    public MethodInfo Method { get; }

    public string Name { get; }

    public Type[] ParameterTypes { get; }

    /// <summary>How stale a read-only answer of this method may be; null: always checked against the store.</summary>
    public TimeSpan? CachedReadMaxAge { get; }

    /// <summary>A cached read whose last answer callers may share (<see cref="CachedReadAttribute.Shared"/>).</summary>
    public bool SharesAnswer { get; }

    /// <summary>The declared result type; null for Task and ValueTask.</summary>
    public Type? ResultType { get; }

    /// <summary>Returns no result, so it can be sent as a message.</summary>
    public bool IsOneWayCompatible { get; }

    /// <summary>Runs the method on a grain and awaits it, surfacing the grain's own exception (not a reflection wrapper).</summary>
    public Task<object?> InvokeAsync(object grain, object?[] args)
    {
        object? returned;
        try
        {
            returned = Method.Invoke(grain, BindingFlags.DoNotWrapExceptions, binder: null, args, culture: null);
        }
        catch (Exception ex)
        {
            return Task.FromException<object?>(ex);
        }

        return returned is null
            ? Task.FromException<object?>(new GrainUsageException($"{Method.DeclaringType?.Name}.{Name} returned null instead of a task."))
            : awaitResult(returned);
    }

    /// <summary>
    /// A copy of a result, made inside the turn, so a caller never holds the grain's live state
    /// (which the next turn may change). Immutable values pass as they are.
    /// </summary>
    public object? CopyResult(object? value, JsonSerializerOptions options)
    {
        if (value is null || ResultType is null || IsImmutable(value.GetType()))
        {
            return value;
        }

        return JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(value, ResultType, options), ResultType, options);
    }

    private static bool IsImmutable(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(Guid) ||
        type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(TimeSpan) || type == typeof(BigInteger);

    /// <summary>Immutable all the way down: no field anywhere in the value's graph can be assigned after construction.</summary>
    private static bool IsDeeplyImmutable(Type type, HashSet<Type> seen)
    {
        if (IsImmutable(type))
        {
            return true;
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return IsDeeplyImmutable(underlying, seen);
        }

        if (type.IsArray || type.IsInterface || type.IsPointer || !(type.IsValueType || type.IsSealed))
        {
            return false;
        }

        // A type already being checked (a cycle) is judged by its own fields.
        return !seen.Add(type) || type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .All(f => f.IsInitOnly && IsDeeplyImmutable(f.FieldType, seen));
    }

    /// <summary>Converts the runtime's untyped result task into the method's declared return type.</summary>
    public object ToCallerResult(Task<object?> result) => toCallerResult(result);

    private static async Task<object?> AwaitTask<T>(object task) => await ((Task<T>)task).ConfigureAwait(false);

    private static async Task<object?> AwaitValueTask<T>(object task) => await ((ValueTask<T>)task).ConfigureAwait(false);

    private static object CastTask<T>(Task<object?> task) => CastAsync<T>(task);

    private static object CastValueTask<T>(Task<object?> task) => new ValueTask<T>(CastAsync<T>(task));

    private static async Task<T> CastAsync<T>(Task<object?> task) => (T)(await task.ConfigureAwait(false))!;
}
