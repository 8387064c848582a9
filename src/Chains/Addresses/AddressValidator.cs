using CryptoPay.Chains.Bitcoin;
using CryptoPay.Chains.Encoding;
using CryptoPay.Chains.Networks;

namespace CryptoPay.Chains.Addresses;

/// <summary>
/// Decides whether an address can receive funds on a network and chain (withdrawal destinations, merchant input).
/// It accepts only output types the gateway can pay safely: P2PKH, P2SH, P2WPKH, P2WSH and P2TR on UTXO networks.
/// </summary>
public static class AddressValidator
{
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

        if (Base58Check.TryDecode(address, out var payload, out var base58Error))
        {
            return ValidateBase58(network, payload, address);
        }

        // Recognise segwit addresses of the other chains so the reason names the mix-up.
        if (SegwitAddress.TryDecode(null, address, out var other, out _))
        {
            return AddressValidationResult.Invalid(
                $"segwit address for '{other.Hrp}', but {network} addresses start with '{hrp}1'");
        }

        return AddressValidationResult.Invalid($"not a {network} address: neither '{hrp}1…' segwit nor base58check ({base58Error})");
    }

    private static AddressValidationResult ValidateSegwit(Network network, string hrp, string address)
    {
        if (!SegwitAddress.TryDecode(hrp, address, out var segwit, out var error))
        {
            return AddressValidationResult.Invalid(error);
        }

        var kind = (segwit.WitnessVersion, segwit.Program.Length) switch
        {
            (0, 20) => AddressKind.P2wpkh,
            (0, 32) => AddressKind.P2wsh,
            (1, 32) => AddressKind.P2tr,
            _ => AddressKind.Unknown,
        };
        if (kind == AddressKind.Unknown)
        {
            // BIP350 keeps these valid for forward compatibility, but coins sent there today are anyone-can-spend.
            return AddressValidationResult.Invalid(
                $"witness version {segwit.WitnessVersion} with a {segwit.Program.Length}-byte program is not a defined output type on {network}");
        }

        return AddressValidationResult.Valid(kind, address.ToLowerInvariant(), segwit.ScriptPubKey);
    }

    private static AddressValidationResult ValidateBase58(Network network, byte[] payload, string address)
    {
        if (payload.Length != 21)
        {
            return AddressValidationResult.Invalid($"base58check payload is {payload.Length} bytes, an address has 21");
        }

        var version = payload[0];
        var hash = payload.AsSpan(1);
        if (version == network.PubKeyHashVersion)
        {
            return AddressValidationResult.Valid(AddressKind.P2pkh, address, Script.ForPayToPubKeyHash(hash));
        }

        if (network.ScriptHashVersions.Contains(version))
        {
            return AddressValidationResult.Valid(AddressKind.P2sh, address, Script.ForPayToScriptHash(hash));
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
