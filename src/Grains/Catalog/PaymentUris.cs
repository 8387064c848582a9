using System.Numerics;
using CryptoPay.Chains.Networks;
using CryptoPay.Chains.Uris;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Invoices;

namespace CryptoPay.Grains.Catalog;

/// <summary>
/// The payment URI of an invoice's payment method (QR code, "open in wallet"): BIP21 on btc/ltc, EIP-681 on
/// eth/bsc (native or token transfer), <c>tron:</c> on TRON, and the sandbox's own form. The amount asked is
/// what is still due (all of it before any payment).
/// </summary>
public sealed class PaymentUris(LiveNetworks networks)
{
    /// <summary>The URI, or null while the method has no address (or a token whose contract is no longer configured).</summary>
    public string? For(InvoicePaymentMethod method)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method.Address is not { } address)
        {
            return null;
        }

        var due = method.AmountUnits - method.PaidUnits;
        var units = due > BigInteger.Zero ? due : method.AmountUnits;
        if (!Network.TryGet(method.Network, NetworkChain.Mainnet, out var known))
        {
            return null;
        }

        var network = networks.Find(known.Id)?.Network ?? known;
        var native = method.Asset == network.NativeSymbol;
        return network.Family switch
        {
            NetworkFamily.Utxo => PaymentUri.Bip21(network.Id == Network.Btc.Id ? "bitcoin" : "litecoin", address, units, method.Decimals),
            NetworkFamily.Evm when native => PaymentUri.Eip681Native(address, network.EvmChainId, units),
            NetworkFamily.Evm => networks.TokenContract(network.Id, method.Asset) is { } contract
                ? PaymentUri.Eip681Token(contract, network.EvmChainId, address, units)
                : null,
            NetworkFamily.Tron when native => PaymentUri.Tron(address, units, method.Decimals, null),
            NetworkFamily.Tron => networks.TokenContract(network.Id, method.Asset) is { } contract
                ? PaymentUri.Tron(address, units, method.Decimals, contract)
                : null,
            _ => $"{method.Network}:{address}?asset={method.Asset}&amount={Amounts.Format(Amounts.FromUnits(units, method.Decimals), method.Decimals)}",
        };
    }
}
