using System.Security.Cryptography;
using System.Text;
using CryptoPay.Grains.Merchants;

namespace CryptoPay.Grains.ApiKeys;

/// <summary>
/// A freshly generated key: the secret is shown once and never stored. Its id is taken from the
/// SHA-256 of the secret, so authenticating a request is a single grain call with no index table.
/// </summary>
public sealed record ApiKeySecret(string Secret, Guid Id, string Hash, string Prefix, Mode Mode)
{
    public const string LivePrefix = "cp_live_";
    public const string TestPrefix = "cp_test_";
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const int RandomLength = 40;

    public static ApiKeySecret Generate(Mode mode)
    {
        var secret = (mode == Mode.Live ? LivePrefix : TestPrefix) + RandomNumberGenerator.GetString(Base62, RandomLength);
        return Describe(secret, mode);
    }

    /// <summary>Id, hash and mode of a presented key; null when it is not shaped like one of ours.</summary>
    public static ApiKeySecret? Parse(string? presented)
    {
        if (presented is null || presented.Length is < 40 or > 200)
        {
            return null;
        }

        Mode mode;
        if (presented.StartsWith(LivePrefix, StringComparison.Ordinal))
        {
            mode = Mode.Live;
        }
        else if (presented.StartsWith(TestPrefix, StringComparison.Ordinal))
        {
            mode = Mode.Test;
        }
        else
        {
            return null;
        }

        return presented.AsSpan(LivePrefix.Length).ContainsAnyExcept(Base62) ? null : Describe(presented, mode);
    }

    /// <summary>Compares the stored hash with this secret's in constant time.</summary>
    public bool Matches(string storedHash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash), Encoding.ASCII.GetBytes(storedHash));

    private static ApiKeySecret Describe(string secret, Mode mode)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
        return new ApiKeySecret(secret, new Guid(digest.AsSpan(0, 16)), Convert.ToHexStringLower(digest), secret[..(LivePrefix.Length + 8)], mode);
    }
}
