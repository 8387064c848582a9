using System.Numerics;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Webhooks;
using CryptoPay.Runtime.Grains;

namespace CryptoPay.Grains.Invoices;

/// <summary>The state change asked for is not possible from the invoice's current status.</summary>
public sealed class InvalidInvoiceTransitionException(string message) : Exception(message);

/// <summary>An output seen on a chain paying one of the invoice's addresses.</summary>
public sealed record PaymentObservation(string Address, string Txid, int OutputIndex, BigInteger AmountUnits, int Confirmations);

[GrainType("invoice")]
public interface IInvoiceGrain : IGrainWithGuidKey
{
    /// <summary>Creates the invoice; when it exists already (a retried or raced creation) returns it unchanged.</summary>
    Task<InvoiceState> Create(InvoiceSpec spec);

    /// <summary>The same as <see cref="Create"/>, sent as a message by the order index.</summary>
    Task Open(InvoiceSpec spec);

    Task<InvoiceState?> Get();

    /// <summary>For public polling (status, events): may trail another silo's change by up to 500 ms, never this silo's.</summary>
    [CachedRead(500)]
    Task<InvoiceState?> GetCached();

    Task<InvoiceState> Cancel();

    /// <summary>Manual marking by the merchant: confirmed or cancelled, with a comment.</summary>
    Task<InvoiceState> Mark(InvoiceStatus status, string? comment);

    /// <summary>
    /// Gives a payment method its deposit address (allocated when the customer chose it). Idempotent:
    /// a method that has an address keeps it, and the invoice is returned unchanged.
    /// </summary>
    Task<InvoiceState> AssignAddress(string method, string address);

    /// <summary>Records a payment (idempotent per txid and output index); payments after expiry are kept as paid_late.</summary>
    Task RecordPayment(PaymentObservation payment);

    Task UpdateConfirmations(string txid, int outputIndex, int confirmations);
}

public sealed class InvoiceGrain : Grain<InvoiceState>, IInvoiceGrain, IRemindable
{
    public const string ExpiryReminder = "expire";

    public async Task<InvoiceState> Create(InvoiceSpec spec)
    {
        await Open(spec);
        return State;
    }

    public async Task Open(InvoiceSpec spec)
    {
        if (State.Exists)
        {
            return;
        }

        var before = WebhookEventTypes.InvoiceMark.Of(State);

        State = new InvoiceState
        {
            Id = GetPrimaryKey(),
            Spec = spec with { PaymentMethods = [] },
            Status = spec.Archived ? InvoiceStatus.Archived : InvoiceStatus.Pending,
            UpdatedAt = spec.Archived ? spec.CreatedAt : Now,
            PaymentMethods = [.. spec.PaymentMethods],
            Revision = 1,
        };
        if (!spec.Archived)
        {
            RegisterReminderAt(ExpiryReminder, spec.ExpiresAt);
        }

        await PublishEventsSince(before);
    }

    public Task<InvoiceState?> Get() => Task.FromResult(State.Exists ? State : null);

    public Task<InvoiceState?> GetCached() => Get();

    public async Task<InvoiceState> Cancel()
    {
        EnsureExists();
        var before = WebhookEventTypes.InvoiceMark.Of(State);
        if (State.Status != InvoiceStatus.Pending || State.HasPayments)
        {
            throw new InvalidInvoiceTransitionException($"An invoice can be cancelled only while pending and unpaid; it is {Describe(State.Status)}{(State.HasPayments ? " with payments" : "")}.");
        }

        State.Status = InvoiceStatus.Cancelled;
        Touch();
        UnregisterReminder(ExpiryReminder);
        await PublishEventsSince(before);
        return State;
    }

    public async Task<InvoiceState> Mark(InvoiceStatus status, string? comment)
    {
        EnsureExists();
        var before = WebhookEventTypes.InvoiceMark.Of(State);
        var credited = InvoiceCredits.Of(State);
        if (status is not (InvoiceStatus.Confirmed or InvoiceStatus.Cancelled))
        {
            throw new InvalidInvoiceTransitionException("An invoice can be marked only confirmed or cancelled.");
        }

        if (State.Status is InvoiceStatus.Confirmed or InvoiceStatus.Cancelled or InvoiceStatus.Archived)
        {
            throw new InvalidInvoiceTransitionException($"The invoice is {Describe(State.Status)} already; its status is final.");
        }

        State.Status = status;
        State.Exception = InvoiceException.Marked;
        State.Comment = comment;
        if (status == InvoiceStatus.Confirmed)
        {
            State.ConfirmedAt = Now;
        }

        Touch();
        UnregisterReminder(ExpiryReminder);
        await PublishEventsSince(before);
        await CreditOutputsSince(credited);
        return State;
    }

    public Task<InvoiceState> AssignAddress(string method, string address)
    {
        EnsureExists();
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        var target = State.PaymentMethods.Find(m => string.Equals(m.Method, method, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidInvoiceTransitionException($"The invoice offers no '{method}' payment method.");
        if (target.Address is null)
        {
            if (State.Status == InvoiceStatus.Archived)
            {
                throw new InvalidInvoiceTransitionException("An archived invoice takes no payments.");
            }

            target.Address = address;
            Touch();
        }

        return Task.FromResult(State);
    }

    public async Task RecordPayment(PaymentObservation payment)
    {
        var method = State.PaymentMethods.Find(m => string.Equals(m.Address, payment.Address, StringComparison.Ordinal));
        if (method is null || State.Status == InvoiceStatus.Archived ||
            method.Payments.Exists(p => p.Txid == payment.Txid && p.OutputIndex == payment.OutputIndex))
        {
            return;
        }

        var before = WebhookEventTypes.InvoiceMark.Of(State);
        var credited = InvoiceCredits.Of(State);

        method.Payments.Add(new Payment
        {
            Txid = payment.Txid,
            OutputIndex = payment.OutputIndex,
            AmountUnits = payment.AmountUnits,
            Confirmations = payment.Confirmations,
            Status = payment.Confirmations >= method.RequiredConfirmations ? PaymentStatus.Confirmed : PaymentStatus.Detected,
            DetectedAt = Now,
        });
        Settle(method, late: State.Status is InvoiceStatus.Expired or InvoiceStatus.PaidPartial or InvoiceStatus.Cancelled);
        Touch();
        await PublishEventsSince(before);
        await CreditOutputsSince(credited);
    }

    public async Task UpdateConfirmations(string txid, int outputIndex, int confirmations)
    {
        var before = WebhookEventTypes.InvoiceMark.Of(State);
        var credited = InvoiceCredits.Of(State);
        foreach (var method in State.PaymentMethods)
        {
            var payment = method.Payments.Find(p => p.Txid == txid && p.OutputIndex == outputIndex);
            if (payment is null || payment.Confirmations == confirmations)
            {
                continue;
            }

            payment.Confirmations = confirmations;
            payment.Status = confirmations >= method.RequiredConfirmations ? PaymentStatus.Confirmed : PaymentStatus.Detected;
            Settle(method, late: false);
            Touch();
        }

        await PublishEventsSince(before);
        await CreditOutputsSince(credited);
    }

    public async Task ReceiveReminder(string reminderName, ReminderTick tick)
    {
        if (reminderName != ExpiryReminder || State.Status != InvoiceStatus.Pending)
        {
            return;
        }

        var before = WebhookEventTypes.InvoiceMark.Of(State);

        if (State.HasPayments)
        {
            State.Status = InvoiceStatus.PaidPartial;
            State.Exception = InvoiceException.Underpaid;
        }
        else
        {
            State.Status = InvoiceStatus.Expired;
        }

        Touch();
        await PublishEventsSince(before);
    }

    /// <summary>
    /// Emits the webhook events of this turn's change as messages of this turn, so an event exists
    /// if and only if the change committed; each message's id becomes its event id.
    /// </summary>
    private async Task PublishEventsSince(WebhookEventTypes.InvoiceMark before)
    {
        foreach (var type in WebhookEventTypes.Between(before, State))
        {
            await Send<IWebhookEndpointsGrain>(WebhookEndpointsGrain.KeyFor(State.Spec.MerchantId, State.Spec.Mode))
                .Publish(new WebhookEventDraft(type, Now.ToUnixTimeSeconds(), State));
        }
    }

    /// <summary>Credits the merchant's balance with each output this turn made count (confirmed invoice, confirmed payment), as messages of this turn.</summary>
    private async Task CreditOutputsSince(InvoiceCredits credited)
    {
        foreach (var credit in credited.Since(State))
        {
            await Send<IMerchantBalanceGrain>(credit.BalanceKey).Credit(credit);
        }
    }

    /// <summary>Moves the invoice along after a payment or confirmation on <paramref name="method"/>.</summary>
    private void Settle(InvoicePaymentMethod method, bool late)
    {
        var paid = method.PaidUnits;
        // Within the merchant's tolerance counts as paid: required × (100 − error%) / 100, rounded up.
        var tolerated = Ceiling(method.AmountUnits * (BigInteger)((100m - State.Spec.AllowedErrorPercent) * 10_000m), 1_000_000);
        var sufficient = paid >= tolerated;
        if (late)
        {
            State.Exception = InvoiceException.PaidLate;
        }

        if (sufficient && State.Status is InvoiceStatus.Pending or InvoiceStatus.Expired or InvoiceStatus.PaidPartial)
        {
            State.Status = InvoiceStatus.Confirming;
            State.PaidAt ??= Now;
            UnregisterReminder(ExpiryReminder);
            if (!late)
            {
                State.Exception = paid < method.AmountUnits ? InvoiceException.Underpaid
                    : paid > method.AmountUnits ? InvoiceException.Overpaid
                    : null;
            }
        }

        if (State.Status == InvoiceStatus.Confirming && method.PaidUnits >= tolerated &&
            method.Payments.TrueForAll(p => p.Confirmations >= method.RequiredConfirmations))
        {
            State.Status = InvoiceStatus.Confirmed;
            State.ConfirmedAt = Now;
        }
    }

    private static BigInteger Ceiling(BigInteger numerator, BigInteger denominator) =>
        BigInteger.DivRem(numerator, denominator) is var (quotient, remainder) && remainder.IsZero ? quotient : quotient + 1;

    private void Touch()
    {
        State.UpdatedAt = Now;
        State.Revision++;
    }

    private void EnsureExists()
    {
        if (!State.Exists)
        {
            throw new KeyNotFoundException($"Invoice {GetPrimaryKey()} does not exist.");
        }
    }

    private static string Describe(InvoiceStatus status) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(status.ToString());
}
