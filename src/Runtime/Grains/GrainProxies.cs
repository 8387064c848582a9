using System.Reflection;
using System.Text.Json;
using CryptoPay.Runtime.Execution;
using CryptoPay.Runtime.Storage;

namespace CryptoPay.Runtime.Grains;

/// <summary>A typed reference whose calls run as turns of the target grain through a silo.</summary>
public class GrainCallProxy : DispatchProxy
{
    private Silo? silo;
    private GrainTypeInfo? type;
    private GrainId id;
    private bool assumeNew;

    internal void Bind(Silo owner, GrainTypeInfo grainType, GrainId grainId, bool isNew)
    {
        silo = owner;
        type = grainType;
        id = grainId;
        assumeNew = isNew;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (targetMethod.DeclaringType == typeof(object))
        {
            return targetMethod.Name == nameof(ToString) ? id.ToString() : targetMethod.Invoke(this, args);
        }

        var method = type!.GetMethod(targetMethod);
        return method.ToCallerResult(silo!.InvokeAsync(id, method, args ?? [], assumeNew));
    }
}

/// <summary>A typed reference whose calls are recorded as messages of the current turn.</summary>
public class GrainMessageProxy : DispatchProxy
{
    private TurnContext? turn;
    private GrainTypeInfo? type;
    private GrainId target;
    private JsonSerializerOptions? json;

    internal void Bind(TurnContext currentTurn, GrainTypeInfo grainType, GrainId targetId, JsonSerializerOptions options)
    {
        turn = currentTurn;
        type = grainType;
        target = targetId;
        json = options;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        var method = type!.GetMethod(targetMethod);
        if (!method.IsOneWayCompatible)
        {
            throw new GrainUsageException($"{type.Name}.{method.Name} returns a value and cannot be sent as a message; return Task instead.");
        }

        var arguments = args ?? [];
        var encoded = new JsonElement[arguments.Length];
        for (var i = 0; i < arguments.Length; i++)
        {
            encoded[i] = JsonSerializer.SerializeToElement(arguments[i], method.ParameterTypes[i], json);
        }

        turn!.Send(target, method.Name, JsonSerializer.Serialize(encoded, json));
        return method.ToCallerResult(Task.FromResult<object?>(null));
    }
}
