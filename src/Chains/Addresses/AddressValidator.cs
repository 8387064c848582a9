using CryptoPay.Chains.Networks;
using NBitcoin;
using NBitcoin.DataEncoders;
using Network = CryptoPay.Chains.Networks.Network;

namespace CryptoPay.Chains.Addresses;

/// <summary>
/// Decides whether an address can receive funds on a network and chain (withdrawal destinations, merchant input).
/// It accepts only output types the gateway can pay safely: P2PKH, P2SH, P2WPKH, P2WSH and P2TR on UTXO networks.
/// </summary>
public static class AddressValidator
{
    private static readonly Network[] UtxoNetworks =
        [.. Network.Ids.SelectMany(id => Enum.GetValues<NetworkChain>().Select(chain => Network.Get(id, chain))).Where(n => n.IsUtxo)];

    public static AddressValidationResult Validate(Network network, string? address)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (string.IsNullOrWhiteSpace(address))
        {
            return AddressValidationResult.Invalid("empty address");
        }

        if (address.Length != address.Trim().Length)
        {
            return AddressValidationResult.Invalid("leading or trailing whitespace");
        }

        return network.Family switch
        {
            NetworkFamily.Utxo => ValidateUtxo(network, address),
            NetworkFamily.Evm => ValidateEvm(address),
            NetworkFamily.Tron => ValidateTron(address),
            NetworkFamily.Sandbox => SandboxAddress.IsValid(address)
                ? AddressValidationResult.Valid(AddressKind.Sandbox, address)
                : AddressValidationResult.Invalid("a sandbox address is sbx_ followed by 40 lowercase hexadecimal digits"),
            _ => AddressValidationResult.Invalid($"unsupported network family {network.Family}"),
        };
    }

    private static AddressValidationResult ValidateUtxo(Network network, string address)
    {
        var hrp = network.Bech32Hrp!;
        if (address.StartsWith(hrp + "1", StringComparison.OrdinalIgnoreCase))
        {
            return ValidateSegwit(network, hrp, address);
        }

        byte[] payload;
        try
        {
            payload = Encoders.Base58Check.DecodeData(address);
        }
        catch (FormatException base58Error)
        {
            // Recognise the other chains' segwit addresses so the reason names the mix-up.
            var other = UtxoNetworks.FirstOrDefault(n => address.StartsWith(n.Bech32Hrp + "1", StringComparison.OrdinalIgnoreCase));
            return AddressValidationResult.Invalid(other is not null
                ? $"segwit address for '{other.Bech32Hrp}' ({other}), but {network} addresses start with '{hrp}1'"
                : $"not a {network} address: neither '{hrp}1…' segwit nor base58check ({base58Error.Message})");
        }

        return ValidateBase58(network, payload, address);
    }

    private static AddressValidationResult ValidateSegwit(Network network, string hrp, string address)
    {
        byte[] program;
        byte witnessVersion;
        try
        {
            // NBitcoin applies BIP173 and BIP350: checksum variant per version, program lengths, case, padding.
            program = Encoders.Bech32(hrp).Decode(address, out witnessVersion);
        }
        catch (FormatException error)
        {
            return AddressValidationResult.Invalid(error.Message);
        }

        if ((witnessVersion, program.Length) is not ((0, 20) or (0, 32) or (1, 32)))
        {
            // BIP350 keeps these valid for forward compatibility, but coins sent there today are anyone-can-spend.
            return AddressValidationResult.Invalid(
                $"witness version {witnessVersion} with a {program.Length}-byte program is not a defined output type on {network}");
        }

        var decoded = BitcoinAddress.Create(address.ToLowerInvariant(), network.UtxoNetwork!);
        var kind = decoded switch
        {
            BitcoinWitPubKeyAddress => AddressKind.P2wpkh,
            BitcoinWitScriptAddress => AddressKind.P2wsh,
            _ => AddressKind.P2tr,
        };
        return AddressValidationResult.Valid(kind, decoded.ToString(), decoded.ScriptPubKey.ToBytes());
    }

    private static AddressValidationResult ValidateBase58(Network network, byte[] payload, string address)
    {
        if (payload.Length != 21)
        {
            return AddressValidationResult.Invalid($"base58check payload is {payload.Length} bytes, an address has 21");
        }

        var utxo = network.UtxoNetwork!;
        var version = payload[0];
        var hash = payload[1..];
        if (version == utxo.GetVersionBytes(Base58Type.PUBKEY_ADDRESS, true)![0])
        {
            return AddressValidationResult.Valid(AddressKind.P2pkh, address, new KeyId(hash).ScriptPubKey.ToBytes());
        }

        if (version == utxo.GetVersionBytes(Base58Type.SCRIPT_ADDRESS, true)![0]
            || (network.Id == Network.Ltc.Id && version == LitecoinNetworks.LegacyScriptHashVersion(network.Chain)))
        {
            return AddressValidationResult.Valid(AddressKind.P2sh, address, new ScriptId(hash).ScriptPubKey.ToBytes());
        }

        return AddressValidationResult.Invalid($"version byte 0x{version:x2} is not a P2PKH or P2SH version of {network}");
    }

    private static AddressValidationResult ValidateEvm(string address)
    {
        if (!EvmAddress.TryParse(address, out var bytes, out var error))
        {
            return AddressValidationResult.Invalid(error!);
        }

        if (EvmAddress.IsZero(bytes))
        {
            return AddressValidationResult.Invalid("the zero address burns funds");
        }

        return AddressValidationResult.Valid(AddressKind.Evm, EvmAddress.ToChecksumAddress(bytes));
    }

    private static AddressValidationResult ValidateTron(string address)
    {
        if (!TronAddress.TryDecode(address, out var bytes, out var error))
        {
            return AddressValidationResult.Invalid(error!);
        }

        if (EvmAddress.IsZero(bytes))
        {
            return AddressValidationResult.Invalid("the zero address burns funds");
        }

        return AddressValidationResult.Valid(AddressKind.Tron, address);
    }
}
