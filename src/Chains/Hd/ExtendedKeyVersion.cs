namespace CryptoPay.Chains.Hd;

/// <summary>
/// A pair of BIP32 serialization version bytes (public, private). SLIP-132 registers variants that also say
/// which script the account's addresses use (ypub: P2SH-P2WPKH, zpub: P2WPKH).
/// </summary>
public sealed record ExtendedKeyVersion(
    string PublicPrefix,
    string PrivatePrefix,
    uint PublicVersion,
    uint PrivateVersion,
    bool IsTestnet,
    ExtendedKeyScript Script)
{
    public static readonly ExtendedKeyVersion Xpub = new("xpub", "xprv", 0x0488B21E, 0x0488ADE4, false, ExtendedKeyScript.Unspecified);
    public static readonly ExtendedKeyVersion Tpub = new("tpub", "tprv", 0x043587CF, 0x04358394, true, ExtendedKeyScript.Unspecified);
    public static readonly ExtendedKeyVersion Ypub = new("ypub", "yprv", 0x049D7CB2, 0x049D7878, false, ExtendedKeyScript.NestedSegwit);
    public static readonly ExtendedKeyVersion Upub = new("upub", "uprv", 0x044A5262, 0x044A4E28, true, ExtendedKeyScript.NestedSegwit);
    public static readonly ExtendedKeyVersion Zpub = new("zpub", "zprv", 0x04B24746, 0x04B2430C, false, ExtendedKeyScript.NativeSegwit);
    public static readonly ExtendedKeyVersion Vpub = new("vpub", "vprv", 0x045F1CF6, 0x045F18BC, true, ExtendedKeyScript.NativeSegwit);
    public static readonly ExtendedKeyVersion Ltub = new("Ltub", "Ltpv", 0x019DA462, 0x019D9CFE, false, ExtendedKeyScript.Unspecified);
    public static readonly ExtendedKeyVersion Mtub = new("Mtub", "Mtpv", 0x01B26EF6, 0x01B26792, false, ExtendedKeyScript.NestedSegwit);
    public static readonly ExtendedKeyVersion Ttub = new("ttub", "ttpv", 0x0436F6E1, 0x0436EF7D, true, ExtendedKeyScript.Unspecified);

    public static IReadOnlyList<ExtendedKeyVersion> Known { get; } = [Xpub, Tpub, Ypub, Upub, Zpub, Vpub, Ltub, Mtub, Ttub];

    /// <summary>Finds the registered version for four serialized version bytes and says whether they mark a private key.</summary>
    public static bool TryFind(uint version, out ExtendedKeyVersion found, out bool isPrivate)
    {
        foreach (var candidate in Known)
        {
            if (candidate.PublicVersion == version || candidate.PrivateVersion == version)
            {
                found = candidate;
                isPrivate = candidate.PrivateVersion == version;
                return true;
            }
        }

        found = Xpub;
        isPrivate = false;
        return false;
    }

    public override string ToString() => $"{PublicPrefix}/{PrivatePrefix}";
}

/// <summary>What a version's addresses are, per SLIP-132; plain xpub/tpub do not say.</summary>
public enum ExtendedKeyScript
{
    Unspecified,
    NestedSegwit,
    NativeSegwit,
}
