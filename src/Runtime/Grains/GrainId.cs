namespace CryptoPay.Runtime.Grains;

/// <summary>Identity of a grain: its registered type name and its key (string or Guid, as text).</summary>
public readonly record struct GrainId(string Type, string Key)
{
    public override string ToString() => $"{Type}/{Key}";
}
