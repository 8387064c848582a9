using System.Buffers.Binary;
using CryptoPay.Chains.Addresses;
using CryptoPay.Chains.Bitcoin;
using CryptoPay.Chains.Crypto;
using CryptoPay.Chains.Encoding;
using CryptoPay.Chains.Networks;
using Org.BouncyCastle.Math.EC;
using HMACSHA512 = System.Security.Cryptography.HMACSHA512;

namespace CryptoPay.Chains.Hd;

/// <summary>
/// Derives deposit addresses from an account-level extended public key: the receive address at index i is
/// account/0/i (BIP44/BIP84 external chain). The external chain's point and chain code are computed once, so each
/// address costs one HMAC-SHA512, one fixed-base multiplication and one point addition. Immutable and thread-safe.
/// </summary>
public sealed class AddressDeriver
{
    private const uint ExternalChain = 0;

    private readonly byte[] _chainCode;
    private readonly byte[] _hmacInputPrefix;
    private readonly ECPoint _parentPoint;

    public AddressDeriver(Network network, ExtendedKey accountKey)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(accountKey);
        if (!network.AccountKeyVersions.Contains(accountKey.Version))
        {
            throw new ArgumentException(
                $"A {accountKey.Version.PublicPrefix} key does not fit {network}: expected one of "
                + $"{string.Join(", ", network.AccountKeyVersions.Select(v => v.PublicPrefix))} for the account {network.AccountPath()}"
                + (accountKey.Version.Script == ExtendedKeyScript.NestedSegwit ? " (ypub/upub/Mtub describe BIP49 P2SH-P2WPKH accounts, not BIP84)." : "."),
                nameof(accountKey));
        }

        Network = network;
        AccountKey = accountKey.Neuter();
        var external = AccountKey.Derive(ExternalChain);
        _chainCode = external.ChainCode.ToArray();
        _hmacInputPrefix = external.PublicKey.ToArray();
        _parentPoint = Secp256k1.DecodePoint(_hmacInputPrefix);
    }

    public Network Network { get; }

    /// <summary>The account key, always public.</summary>
    public ExtendedKey AccountKey { get; }

    public static AddressDeriver Create(Network network, string accountExtendedKey) => new(network, ExtendedKey.Parse(accountExtendedKey));

    /// <summary>The receive address account/0/<paramref name="index"/> in the network's deposit format.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is hardened (≥ 2^31).</exception>
    /// <exception cref="InvalidChildKeyException">BIP32's negligible invalid child; skip to the next index.</exception>
    public string DeriveReceiveAddress(uint index)
    {
        var point = DeriveChildPoint(index);
        return Network.Family switch
        {
            NetworkFamily.Utxo => SegwitAddress.Encode(Network.Bech32Hrp!, 0, Hashes.Hash160(point.GetEncoded(true))),
            NetworkFamily.Evm => EvmAddress.ToChecksumAddress(EvmAddress.AccountBytesFromUncompressed(point.GetEncoded(false))),
            NetworkFamily.Tron => TronAddress.Encode(EvmAddress.AccountBytesFromUncompressed(point.GetEncoded(false))),
            NetworkFamily.Sandbox => SandboxAddress.Prefix + Hex.Encode(Hashes.Hash160(point.GetEncoded(true))),
            _ => throw new NotSupportedException($"No deposit addresses for {Network.Family}."),
        };
    }

    /// <summary>The compressed public key at account/0/<paramref name="index"/>.</summary>
    public byte[] DeriveReceivePublicKey(uint index) => DeriveChildPoint(index).GetEncoded(true);

    private ECPoint DeriveChildPoint(uint index)
    {
        if (KeyPath.IsHardened(index))
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, "Deposit addresses use non-hardened indexes below 2^31.");
        }

        Span<byte> data = stackalloc byte[37];
        _hmacInputPrefix.CopyTo(data);
        BinaryPrimitives.WriteUInt32BigEndian(data[33..], index);
        Span<byte> i = stackalloc byte[64];
        HMACSHA512.HashData(_chainCode, data, i);

        var tweak = i[..32];
        if (!Secp256k1.IsBelowOrder(tweak))
        {
            throw new InvalidChildKeyException(index);
        }

        var child = Secp256k1.AddMultipleOfGeneratorPublic(_parentPoint, tweak);
        if (child.IsInfinity)
        {
            throw new InvalidChildKeyException(index);
        }

        return child;
    }
}
