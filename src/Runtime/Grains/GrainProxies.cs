using System.Buffers;
using System.Reflection;
using System.Text;
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
    private bool onlyIfTargetExists;

    internal void Bind(TurnContext currentTurn, GrainTypeInfo grainType, GrainId targetId, JsonSerializerOptions options, bool ifTargetExists)
    {
        turn = currentTurn;
        type = grainType;
        target = targetId;
        json = options;
        onlyIfTargetExists = ifTargetExists;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        var method = type!.GetMethod(targetMethod);
        if (!method.IsOneWayCompatible)
        {
            throw new GrainUsageException($"{type.Name}.{method.Name} returns a value and cannot be sent as a message; return Task instead.");
        }

        // The arguments as one JSON array, written in one pass.
        var arguments = args ?? [];
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            for (var i = 0; i < arguments.Length; i++)
            {
                JsonSerializer.Serialize(writer, arguments[i], method.ParameterTypes[i], json);
            }

            writer.WriteEndArray();
        }

        turn!.Send(target, method.Name, Encoding.UTF8.GetString(buffer.WrittenSpan), onlyIfTargetExists);
        return method.ToCallerResult(Task.FromResult<object?>(null));
    }
}
