using CryptoPay.Chains.Addresses;
using CryptoPay.Chains.Networks;
using NBitcoin;
using Network = CryptoPay.Chains.Networks.Network;

namespace CryptoPay.Chains.Hd;

/// <summary>
/// Derives deposit addresses from an account-level extended public key: the receive address at index i is
/// account/0/i (BIP44/BIP84 external chain). The external chain's key and chain code are derived once, so each
/// address costs NBitcoin's CKDpub step (one HMAC-SHA512, one fixed-base multiplication and a point addition) plus
/// the encoding. Immutable and thread-safe.
/// </summary>
public sealed class AddressDeriver
{
    private const uint ExternalChain = 0;

    private readonly PubKey _externalKey;
    private readonly byte[] _externalChainCode;

    public AddressDeriver(Network network, ExtendedKey accountKey)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(accountKey);
        if (!network.AccountKeyVersions.Contains(accountKey.Version))
        {
            throw new ArgumentException(
                $"A {accountKey.Version.PublicPrefix} key does not fit {network}: expected one of "
                + $"{string.Join(", ", network.AccountKeyVersions.Select(v => v.PublicPrefix))} for the account m/{network.AccountPath()}"
                + (accountKey.Version.Script == ExtendedKeyScript.NestedSegwit ? " (ypub/upub/Mtub describe BIP49 P2SH-P2WPKH accounts, not BIP84)." : "."),
                nameof(accountKey));
        }

        Network = network;
        AccountKey = accountKey.Neuter();
        var external = AccountKey.PublicExtKey.Derive(ExternalChain);
        _externalKey = external.PubKey;
        _externalChainCode = external.ChainCode;
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
        var key = DeriveReceiveKey(index);
        return Network.Family switch
        {
            NetworkFamily.Utxo => key.WitHash.GetAddress(Network.UtxoNetwork!).ToString(),
            NetworkFamily.Evm => EvmAddress.FromPublicKey(key),
            NetworkFamily.Tron => TronAddress.FromPublicKey(key),
            NetworkFamily.Sandbox => SandboxAddress.FromPublicKey(key.ToBytes()),
            _ => throw new NotSupportedException($"No deposit addresses for {Network.Family}."),
        };
    }

    /// <summary>The compressed public key at account/0/<paramref name="index"/>.</summary>
    public byte[] DeriveReceivePublicKey(uint index) => DeriveReceiveKey(index).ToBytes();

    private PubKey DeriveReceiveKey(uint index)
    {
        if (Bip32.IsHardened(index))
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, "Deposit addresses use non-hardened indexes below 2^31.");
        }

        try
        {
            // PubKey.Derivate is CKDpub without building an ExtPubKey (no parent fingerprint to hash).
            return _externalKey.Derivate(_externalChainCode, index, out _);
        }
        catch (ArgumentException exception)
        {
            throw new InvalidChildKeyException(index, exception);
        }
    }
}
