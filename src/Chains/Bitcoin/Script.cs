namespace CryptoPay.Chains.Bitcoin;

/// <summary>The standard output scripts (scriptPubKey) chain watchers match outputs against.</summary>
public static class Script
{
    private const byte OpDup = 0x76;
    private const byte OpHash160 = 0xa9;
    private const byte OpEqual = 0x87;
    private const byte OpEqualVerify = 0x88;
    private const byte OpCheckSig = 0xac;
    private const byte Op1 = 0x51;

    public static byte[] ForPayToPubKeyHash(ReadOnlySpan<byte> pubKeyHash)
    {
        RequireHash160(pubKeyHash);
        var script = new byte[25];
        script[0] = OpDup;
        script[1] = OpHash160;
        script[2] = 20;
        pubKeyHash.CopyTo(script.AsSpan(3));
        script[23] = OpEqualVerify;
        script[24] = OpCheckSig;
        return script;
    }

    public static byte[] ForPayToScriptHash(ReadOnlySpan<byte> scriptHash)
    {
        RequireHash160(scriptHash);
        var script = new byte[23];
        script[0] = OpHash160;
        script[1] = 20;
        scriptHash.CopyTo(script.AsSpan(2));
        script[22] = OpEqual;
        return script;
    }

    public static byte[] ForWitnessProgram(int witnessVersion, ReadOnlySpan<byte> program)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(witnessVersion);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(witnessVersion, 16);
        var script = new byte[program.Length + 2];
        script[0] = witnessVersion == 0 ? (byte)0 : (byte)(Op1 + witnessVersion - 1);
        script[1] = (byte)program.Length;
        program.CopyTo(script.AsSpan(2));
        return script;
    }

    private static void RequireHash160(ReadOnlySpan<byte> hash)
    {
        if (hash.Length != 20)
        {
            throw new ArgumentException("A HASH160 is 20 bytes.", nameof(hash));
        }
    }
}
