namespace CryptoPay.Chains.Bitcoin;

/// <summary>A decoded native segwit address: witness version and program (BIP141), plus its output script.</summary>
public sealed record SegwitAddress(string Hrp, int WitnessVersion, byte[] Program)
{
    public const int MinProgramLength = 2;
    public const int MaxProgramLength = 40;

    /// <summary>OP_n (0x00, or 0x51..0x60), push of the program length, the program.</summary>
    public byte[] ScriptPubKey => Script.ForWitnessProgram(WitnessVersion, Program);

    public override string ToString() => Encode(Hrp, WitnessVersion, Program);

    /// <summary>Encodes with bech32 for version 0 and bech32m for versions 1..16 (BIP350).</summary>
    public static string Encode(string hrp, int witnessVersion, ReadOnlySpan<byte> program)
    {
        var error = CheckProgram(witnessVersion, program.Length);
        if (error is not null)
        {
            throw new ArgumentException(error, nameof(program));
        }

        Bech32.TryConvertBits(program, 8, 5, pad: true, out var converted);
        var data = new byte[converted.Length + 1];
        data[0] = (byte)witnessVersion;
        converted.CopyTo(data, 1);
        return Bech32.Encode(hrp, data, witnessVersion == 0 ? Bech32Variant.Bech32 : Bech32Variant.Bech32m);
    }

    public static SegwitAddress Decode(string expectedHrp, string address) =>
        TryDecode(expectedHrp, address, out var decoded, out var error) ? decoded : throw new FormatException(error);

    /// <summary>
    /// Decodes and applies every BIP173/BIP350 rule. A null <paramref name="expectedHrp"/> accepts any human-readable part.
    /// </summary>
    public static bool TryDecode(string? expectedHrp, string address, out SegwitAddress decoded, out string error)
    {
        decoded = new SegwitAddress(string.Empty, 0, []);
        if (!Bech32.TryDecode(address, out var bech, out error))
        {
            return false;
        }

        if (expectedHrp is not null && !string.Equals(bech.Hrp, expectedHrp, StringComparison.Ordinal))
        {
            error = $"human-readable part '{bech.Hrp}' is not '{expectedHrp}'";
            return false;
        }

        if (bech.Data.Length == 0)
        {
            error = "empty data section";
            return false;
        }

        int version = bech.Data[0];
        if (version > 16)
        {
            error = $"invalid witness version {version}";
            return false;
        }

        var expectedVariant = version == 0 ? Bech32Variant.Bech32 : Bech32Variant.Bech32m;
        if (bech.Variant != expectedVariant)
        {
            error = $"witness version {version} must use {expectedVariant}, not {bech.Variant}";
            return false;
        }

        if (!Bech32.TryConvertBits(bech.Data.AsSpan(1), 5, 8, pad: false, out var program))
        {
            error = "invalid padding in the 5-to-8 bit conversion";
            return false;
        }

        var programError = CheckProgram(version, program.Length);
        if (programError is not null)
        {
            error = programError;
            return false;
        }

        decoded = new SegwitAddress(bech.Hrp, version, program);
        return true;
    }

    private static string? CheckProgram(int witnessVersion, int programLength)
    {
        if (witnessVersion is < 0 or > 16)
        {
            return $"invalid witness version {witnessVersion}";
        }

        if (programLength is < MinProgramLength or > MaxProgramLength)
        {
            return $"invalid witness program length {programLength} (2..40 bytes)";
        }

        if (witnessVersion == 0 && programLength is not (20 or 32))
        {
            return $"invalid program length {programLength} for witness version 0 (20 or 32 bytes)";
        }

        return null;
    }
}
