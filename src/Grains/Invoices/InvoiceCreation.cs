using System.Globalization;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Rates;
using CryptoPay.Grains.Sandbox;
using Orleans;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CryptoPay.Grains.Invoices;

public enum InvoiceRefusalReason
{
    /// <summary>Fiat pricing needs fresh rates (503).</summary>
    RatesUnavailable,

    /// <summary>The amount is above <see cref="InvoiceOrder.MaxUsdAmount"/> in USD.</summary>
    AmountAboveLimit,

    /// <summary>No payment method fits the mode, the configured networks, the merchant's methods and the currency.</summary>
    UnsupportedNetwork,

    /// <summary>The order id belongs to another invoice (<see cref="InvoiceRefusal.ExistingInvoiceId"/>).</summary>
    OrderIdExists,

    /// <summary>The amount is below the minimum of a payment method asked for by name, or of every method that applies.</summary>
    AmountBelowMinimum,
}

/// <summary>Why an invoice was not created; <see cref="Field"/> names the request field at fault, if one is.</summary>
public sealed record InvoiceRefusal(InvoiceRefusalReason Reason, string? Field, string Message, Guid? ExistingInvoiceId = null);

/// <summary>The created (or, for a retried request, the existing) invoice, or why there is none.</summary>
public sealed record InvoiceCreationResult(InvoiceState? Invoice, InvoiceRefusal? Refusal)
{
    public static InvoiceCreationResult Refused(InvoiceRefusalReason reason, string? field, string message, Guid? existing = null) =>
        new(null, new InvoiceRefusal(reason, field, message, existing));
}

/// <summary>Who asks: the merchant, as it stands, and the mode of the key used.</summary>
public sealed record InvoiceRequester(Guid MerchantId, Mode Mode, MerchantState Merchant);

/// <summary>
/// The one way invoices are created, whatever the entry point (the /v1 API, payment links, compatibility profiles):
/// chooses the payment methods, prices them at the current rates (locked into the invoice), allocates the deposit
/// address of a single live method, reserves the order id and opens the invoice grain. Everything that can refuse
/// the request does so before an address is allocated; an index lost to a later failure is skipped, never reused.
/// </summary>
public sealed class InvoiceCreation(
    IGrainFactory grains, IRateProvider rates, IOptions<RateOptions> rateOptions, LiveNetworks live, DepositAllocation allocation, [FromKeyedServices(GatewayClock.Key)] TimeProvider time)
{
    /// <param name="id">The new invoice's id (derived from an Idempotency-Key, see <see cref="InvoiceIds"/>, or random).</param>
    /// <param name="requestFingerprint">With a derived id: the request's fingerprint, so a different request reaching the id is refused.</param>
    public async Task<InvoiceCreationResult> CreateAsync(InvoiceOrder order, InvoiceRequester requester, Guid id, string? requestFingerprint, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var snapshot = await rates.GetAsync(ct);
        var fresh = snapshot is not null && now - snapshot.AsOf <= rateOptions.Value.MaxAge;
        if (order.Currency.IsFiat && !fresh)
        {
            return InvoiceCreationResult.Refused(InvoiceRefusalReason.RatesUnavailable, null,
                "Exchange rates are stale or unavailable; fiat-priced invoices cannot be created now. Crypto-priced invoices still work.");
        }

        if (ExceedsLimit(order, snapshot) is { } tooMuch)
        {
            return tooMuch;
        }

        var (methods, refusal) = ChooseMethods(order, requester);
        if (refusal is not null)
        {
            return refusal;
        }

        var quoted = new List<InvoicePaymentMethod>();
        var belowMinimum = new List<string>();
        PaymentMethodInfo? allocated = null;
        foreach (var method in methods!)
        {
            var rate = order.Currency.IsFiat ? snapshot!.Price(method.Asset, order.Currency.Code) : 1m;
            if (rate is not { } price || price <= 0)
            {
                return InvoiceCreationResult.Refused(InvoiceRefusalReason.RatesUnavailable, null, $"No {method.Asset}/{order.Currency.Code} rate is known.");
            }

            var amount = Amounts.RoundUp(order.Amount / price, method.Decimals);
            if (amount < method.Minimum)
            {
                // The advertised minimum (/v1/currencies): a smaller payment costs more to move than it is worth.
                belowMinimum.Add($"{method.Id} needs at least {method.Minimum.ToString(CultureInfo.InvariantCulture)} {method.Asset} (this invoice would ask {amount.ToString(CultureInfo.InvariantCulture)})");
                continue;
            }

            allocated = method;
            quoted.Add(new InvoicePaymentMethod
            {
                Method = method.Id,
                Network = method.Network,
                Asset = method.Asset,
                Decimals = method.Decimals,
                Address = method.IsSandbox ? SandboxChainGrain.AddressFor(id, method.Id) : null,
                Amount = amount,
                AmountUnits = Amounts.ToUnits(amount, method.Decimals),
                Rate = price,
                RequiredConfirmations = live.RequiredConfirmations(method, requester.Merchant),
            });
        }

        // Methods asked for by name must all be payable; otherwise those below their minimum are left out of the offer.
        if (belowMinimum.Count > 0 && (order.PaymentMethods is not null || quoted.Count == 0))
        {
            return InvoiceCreationResult.Refused(InvoiceRefusalReason.AmountBelowMinimum, "amount", $"is below the minimum payment: {string.Join("; ", belowMinimum)}.");
        }

        // API.md: with exactly one live method its address is in the response; with several the customer's choice allocates one.
        if (quoted is [{ Address: null } only])
        {
            var deposit = await allocation.AllocateAsync(id, requester.MerchantId, requester.Mode, allocated!, only.RequiredConfirmations);
            only.Address = deposit.Address;
        }

        var spec = Spec(order, requester, snapshot, now, now + order.ExpiresIn, archived: false) with { PaymentMethods = quoted, RequestFingerprint = requestFingerprint };
        return await OpenAsync(id, spec);
    }

    /// <summary>
    /// The payment methods in <paramref name="asset"/> an invoice of <paramref name="requester"/> can offer now: enabled by
    /// the merchant and payable in the key's mode on this gateway (for a client that names the coin, not the network).
    /// </summary>
    public IReadOnlyList<PaymentMethodInfo> MethodsPaying(string asset, InvoiceRequester requester)
    {
        ArgumentNullException.ThrowIfNull(requester);
        return [.. requester.Merchant.EnabledPaymentMethods.Select(Assets.FindMethod).OfType<PaymentMethodInfo>()
            .Where(m => string.Equals(m.Asset, asset, StringComparison.OrdinalIgnoreCase) && live.Offers(m, requester.Mode))];
    }

    /// <summary>Imports a historical invoice as it was: archived, priced in the reporting currency at today's rate, never watched.</summary>
    public async Task<InvoiceCreationResult> ImportAsync(InvoiceOrder order, InvoiceRequester requester, Guid id, string? requestFingerprint, CancellationToken ct)
    {
        var snapshot = await rates.GetAsync(ct);
        if (snapshot?.Price(order.Currency.Code, requester.Merchant.ReportingCurrency) is null)
        {
            return InvoiceCreationResult.Refused(InvoiceRefusalReason.RatesUnavailable, null, "No rate is known to convert the amount to the reporting currency.");
        }

        if (ExceedsLimit(order, snapshot) is { } tooMuch)
        {
            return tooMuch;
        }

        var created = order.CreatedAt ?? throw new ArgumentException("An imported invoice needs its creation time.", nameof(order));
        return await OpenAsync(id, Spec(order, requester, snapshot, created, created, archived: true) with { RequestFingerprint = requestFingerprint });
    }

    private async Task<InvoiceCreationResult> OpenAsync(Guid id, InvoiceSpec spec)
    {
        if (spec.OrderId is { } orderId)
        {
            var owner = await grains.GetGrain<IOrderIndexGrain>(OrderIndexGrain.KeyOf(spec.MerchantId, spec.Mode, orderId)).Reserve(id, spec);
            if (owner != id)
            {
                return InvoiceCreationResult.Refused(InvoiceRefusalReason.OrderIdExists, "order_id", $"Order id '{orderId}' already belongs to invoice {owner}.", owner);
            }
        }

        return new InvoiceCreationResult(await grains.GetGrain<IInvoiceGrain>(id).Create(spec), null);
    }

    private static InvoiceSpec Spec(InvoiceOrder order, InvoiceRequester requester, RateSnapshot? snapshot, DateTimeOffset createdAt, DateTimeOffset expiresAt, bool archived)
    {
        var reporting = Assets.FindCurrency(requester.Merchant.ReportingCurrency)!;
        var toReporting = snapshot?.Price(order.Currency.Code, reporting.Code) ?? 0m;
        return new InvoiceSpec
        {
            MerchantId = requester.MerchantId,
            Mode = requester.Mode,
            Amount = order.Amount,
            Currency = order.Currency.Code,
            Description = order.Description,
            OrderId = order.OrderId,
            CustomerId = order.CustomerId,
            CustomerEmail = order.CustomerEmail,
            MetadataJson = order.MetadataJson,
            LineItems = order.LineItems,
            CreatedAt = createdAt,
            ExpiresAt = expiresAt,
            AllowedErrorPercent = order.AllowedErrorPercent,
            CallbackUrl = order.CallbackUrl,
            RedirectUrl = order.RedirectUrl,
            WebhookFormat = order.WebhookFormat,
            ReportingCurrency = reporting.Code,
            AmountReporting = decimal.Round(order.Amount * toReporting, reporting.Decimals, MidpointRounding.ToEven),
            Archived = archived,
        };
    }

    private static InvoiceCreationResult? ExceedsLimit(InvoiceOrder order, RateSnapshot? snapshot) =>
        snapshot?.Price(order.Currency.Code, "USD") is { } usd && order.Amount * usd > InvoiceOrder.MaxUsdAmount
            ? InvoiceCreationResult.Refused(InvoiceRefusalReason.AmountAboveLimit, "amount", $"must be at most {InvoiceOrder.MaxUsdAmount:0} USD-equivalent.")
            : null;

    /// <summary>
    /// The methods the invoice offers: those asked for, else the merchant's enabled ones, within the key's mode, the
    /// priced asset and (live) the networks this gateway has configured.
    /// </summary>
    private (List<PaymentMethodInfo>? Methods, InvoiceCreationResult? Refusal) ChooseMethods(InvoiceOrder order, InvoiceRequester requester)
    {
        var testMode = requester.Mode == Mode.Test;
        var enabled = requester.Merchant.EnabledPaymentMethods.Select(Assets.FindMethod).OfType<PaymentMethodInfo>().ToList();
        var candidates = order.PaymentMethods is { } asked
            ? asked.Select(m => Assets.FindMethod(m)!).Distinct().ToList()
            : order.Network is { } network
                ? Assets.Methods.Where(m => m.Network == network).ToList()
                : enabled.Where(m => m.IsSandbox == testMode).ToList();
        var field = order.PaymentMethods is null ? "network" : "payment_methods";
        (List<PaymentMethodInfo>?, InvoiceCreationResult?) Refuse(string message) =>
            (null, InvoiceCreationResult.Refused(InvoiceRefusalReason.UnsupportedNetwork, field, message));

        if (candidates.Exists(m => m.IsSandbox != testMode))
        {
            return Refuse(testMode ? "test-mode invoices are paid on the sandbox network only." : "the sandbox network is for test-mode keys only.");
        }

        if (!testMode)
        {
            var unconfigured = candidates.Where(m => !live.Offers(m, Mode.Live)).ToList();
            if (order.PaymentMethods is not null && unconfigured.Count > 0)
            {
                return Refuse($"{string.Join(", ", unconfigured.Select(m => $"'{m.Id}'"))} {(unconfigured.Count == 1 ? "is" : "are")} not configured for live payments on this gateway; "
                    + $"configured: {Configured()}.");
            }

            candidates = candidates.Except(unconfigured).ToList();
            if (candidates.Count == 0)
            {
                return Refuse(order.Network is { } askedNetwork
                    ? $"the {askedNetwork} network is not configured for live payments on this gateway; configured: {Configured()}."
                    : $"none of the merchant's enabled payment methods is configured for live payments on this gateway; configured: {Configured()}.");
            }
        }

        var chosen = candidates.Where(m => enabled.Contains(m) && (order.Currency.IsFiat || m.Asset == order.Currency.Code)).ToList();
        return chosen.Count == 0
            ? Refuse(order.Currency.IsFiat ? "none of the merchant's enabled payment methods applies." : $"no enabled payment method pays in {order.Currency.Code}.")
            : (chosen, null);
    }

    private string Configured() =>
        live.MethodsFor(Mode.Live) is { Count: > 0 } methods ? string.Join(", ", methods.Select(m => m.Id)) : "none";
}
