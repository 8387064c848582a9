using System.Globalization;
using System.Text;

namespace CryptoPay.Chains.Hd;

/// <summary>A BIP32 derivation path such as <c>m/84'/0'/0'/0/5</c>; hardened steps are marked ', h or H.</summary>
public sealed class KeyPath : IEquatable<KeyPath>
{
    public const uint HardenedOffset = 0x80000000;

    private readonly uint[] _indexes;

    public KeyPath(params uint[] indexes) => _indexes = (uint[])indexes.Clone();

    public IReadOnlyList<uint> Indexes => _indexes;

    public static KeyPath Parse(string path) =>
        TryParse(path, out var parsed, out var error) ? parsed : throw new FormatException($"Invalid derivation path '{path}': {error}.");

    /// <summary>Accepts "m", "m/…" and relative "0/1"; a step is a decimal below 2^31, optionally hardened.</summary>
    public static bool TryParse(string path, out KeyPath parsed, out string error)
    {
        parsed = new KeyPath();
        ArgumentNullException.ThrowIfNull(path);
        var text = path.Trim();
        if (text.Length == 0)
        {
            error = "empty path";
            return false;
        }

        if (text == "m")
        {
            error = string.Empty;
            return true;
        }

        if (text.StartsWith("m/", StringComparison.Ordinal))
        {
            text = text[2..];
        }

        var steps = text.Split('/');
        var indexes = new uint[steps.Length];
        for (var i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            var hardened = step.Length > 0 && step[^1] is '\'' or 'h' or 'H';
            var digits = hardened ? step[..^1] : step;
            if (digits.Length == 0 || !digits.All(char.IsAsciiDigit)
                || !uint.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                || index >= HardenedOffset)
            {
                error = $"step '{step}' is not an index in 0..2147483647";
                return false;
            }

            indexes[i] = hardened ? index | HardenedOffset : index;
        }

        parsed = new KeyPath(indexes);
        error = string.Empty;
        return true;
    }

    public static bool IsHardened(uint index) => index >= HardenedOffset;

    public KeyPath Append(uint index) => new([.. _indexes, index]);

    public override string ToString()
    {
        var builder = new StringBuilder("m");
        foreach (var index in _indexes)
        {
            builder.Append('/');
            builder.Append((index & ~HardenedOffset).ToString(CultureInfo.InvariantCulture));
            if (IsHardened(index))
            {
                builder.Append('\'');
            }
        }

        return builder.ToString();
    }

    public bool Equals(KeyPath? other) => other is not null && _indexes.AsSpan().SequenceEqual(other._indexes);

    public override bool Equals(object? obj) => Equals(obj as KeyPath);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (var index in _indexes)
        {
            hash.Add(index);
        }

        return hash.ToHashCode();
    }
}
