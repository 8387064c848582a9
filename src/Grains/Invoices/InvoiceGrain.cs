using System.Numerics;
using CryptoPay.Grains.Idempotency;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Telemetry;
using CryptoPay.Grains.Webhooks;
using CryptoPay.Runtime.Grains;

namespace CryptoPay.Grains.Invoices;

/// <summary>The state change asked for is not possible from the invoice's current status.</summary>
public sealed class InvalidInvoiceTransitionException(string message) : Exception(message);

/// <summary>An output seen on a chain paying one of the invoice's addresses.</summary>
public sealed record PaymentObservation(string Address, string Txid, int OutputIndex, BigInteger AmountUnits, int Confirmations);

[GrainType(InvoiceProjection.GrainType)]
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

    /// <summary>
    /// For the public status endpoint: what <see cref="GetCached"/> promises, as a small immutable answer that
    /// pollers of an unchanged invoice share (null: no such invoice). Being shared, it is the stored status: readers
    /// apply <see cref="InvoiceStatusView.AsOf"/> to see an invoice past its expiry as expired.
    /// </summary>
    [CachedRead(500, Shared = true)]
    Task<InvoiceStatusView?> GetStatus();

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

    /// <summary>
    /// Sets a recorded payment's confirmations (0: its block was reorganised away and it waits in the mempool again).
    /// A confirmed invoice whose confirmed payments no longer suffice goes back with <c>exception: reorged</c>.
    /// </summary>
    Task UpdateConfirmations(string txid, int outputIndex, int confirmations);

    /// <summary>Removes a payment that left the chain (its block reorganised away and the transaction in no block or mempool); its credit is reversed.</summary>
    Task RemovePayment(string txid, int outputIndex);
}

public sealed class InvoiceGrain(GatewayMetrics? metrics = null) : Grain<InvoiceState>, IInvoiceGrain, IRemindable
{
    public const string ExpiryReminder = "expire";

    public async Task<InvoiceState> Create(InvoiceSpec spec)
    {
        if (State.Exists && spec.RequestFingerprint is not null && State.Spec.RequestFingerprint != spec.RequestFingerprint)
        {
            throw new IdempotencyKeyReusedException($"Invoice {State.Id} was created by another request with this Idempotency-Key.");
        }

        await Open(spec);
        return State.AsOf(Now);
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
        metrics?.InvoiceCreated(spec.Mode);
    }

    public Task<InvoiceState?> Get() => Task.FromResult(State.Exists ? State.AsOf(Now) : null);

    public Task<InvoiceState?> GetCached() => Get();

    public Task<InvoiceStatusView?> GetStatus() =>
        Task.FromResult(State.Exists ? InvoiceStatusView.Of(State) : null);

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
        if (method is null || State.Status == InvoiceStatus.Archived)
        {
            return;
        }

        if (method.Payments.Exists(p => p.Txid == payment.Txid && p.OutputIndex == payment.OutputIndex))
        {
            // Seen again (mined after the mempool, or re-mined after a reorganisation): only its confirmations change.
            await UpdateConfirmations(payment.Txid, payment.OutputIndex, payment.Confirmations);
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
        await CreditOutputsSince(credited);
        await PublishEventsSince(before);
    }

    public async Task RemovePayment(string txid, int outputIndex)
    {
        var before = WebhookEventTypes.InvoiceMark.Of(State);
        var credited = InvoiceCredits.Of(State);
        foreach (var method in State.PaymentMethods)
        {
            if (method.Payments.RemoveAll(p => p.Txid == txid && p.OutputIndex == outputIndex) > 0)
            {
                Settle(method, late: false);
                Touch();
            }
        }

        await CreditOutputsSince(credited);
        await PublishEventsSince(before);
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

        await CreditOutputsSince(credited);
        await PublishEventsSince(before);
    }

    public async Task ReceiveReminder(string reminderName, ReminderTick tick)
    {
        if (reminderName != ExpiryReminder || State.Status != InvoiceStatus.Pending)
        {
            return;
        }

        var before = WebhookEventTypes.InvoiceMark.Of(State);
        var credited = InvoiceCredits.Of(State);
        InvoiceState.Expired(State);
        // The confirmed part of an underpayment is the merchant's now.
        await CreditOutputsSince(credited);
        await PublishEventsSince(before);
    }

    /// <summary>
    /// Emits the webhook events of this turn's change as one message of this turn, so they exist if and only if the
    /// change committed; the message's id gives the events their ids.
    /// </summary>
    private async Task PublishEventsSince(WebhookEventTypes.InvoiceMark before)
    {
        var types = WebhookEventTypes.Between(before, State).ToList();
        if (types.Count == 0)
        {
            return;
        }

        // Without a callback URL only the merchant's endpoints can want the events, and a merchant who never
        // configured one has no endpoints grain stored: then the events cost no message and no turn.
        var key = WebhookEndpointsGrain.KeyFor(State.Spec.MerchantId, State.Spec.Mode);
        var endpoints = State.Spec.CallbackUrl is null ? SendIfExists<IWebhookEndpointsGrain>(key) : Send<IWebhookEndpointsGrain>(key);
        await endpoints.PublishAll(new WebhookEventBatch(types, Now.ToUnixTimeSeconds(), State));
    }

    /// <summary>
    /// Brings the merchant's balance in line with this turn, as messages of this turn: credits for outputs it made count,
    /// compensating reversals for outputs it stopped counting (reorganised away), and pending amounts shown or dropped.
    /// </summary>
    private async Task CreditOutputsSince(InvoiceCredits credited)
    {
        var changes = credited.Since(State);
        if (changes.Lost.Count > 0)
        {
            State.Exception = InvoiceException.Reorged;
        }

        foreach (var credit in changes.Lost)
        {
            await Send<ILedgerOutputGrain>(credit.OutputKey).Reverse();
        }

        foreach (var credit in changes.Credits)
        {
            await Send<ILedgerOutputGrain>(credit.OutputKey).Credit(credit);
        }

        foreach (var pending in changes.NewlyPending)
        {
            var balance = Send<IMerchantBalanceGrain>(pending.BalanceKey);
            await (changes.Lost.Any(l => l.OutputKey == pending.OutputKey) ? balance.Unconfirm(pending) : balance.Detect(pending));
        }

        foreach (var dropped in changes.Dropped)
        {
            await Send<IMerchantBalanceGrain>(dropped.BalanceKey).Forget(dropped);
        }

        changes.MarkCredited(State);
    }

    /// <summary>
    /// Moves the invoice along after a payment, confirmation or loss on <paramref name="method"/>: forward as payments
    /// arrive and confirm, and back (with <c>exception: reorged</c>) when a reorganisation takes away what it counted.
    /// </summary>
    private void Settle(InvoicePaymentMethod method, bool late)
    {
        var paid = method.PaidUnits;
        var sufficient = paid >= Tolerated(method);
        if (late)
        {
            State.Exception = InvoiceException.PaidLate;
            if (!sufficient && State.Status == InvoiceStatus.Expired)
            {
                // An expired invoice that receives less than its price after all is an expired underpaid one.
                State.Status = InvoiceStatus.PaidPartial;
            }
        }

        if (sufficient && State.Status is InvoiceStatus.Pending or InvoiceStatus.Expired or InvoiceStatus.PaidPartial)
        {
            State.Status = InvoiceStatus.Confirming;
            State.PaidAt ??= Now;
            UnregisterReminder(ExpiryReminder);
            if (!late && State.Exception != InvoiceException.Reorged)
            {
                State.Exception = paid < method.AmountUnits ? InvoiceException.Underpaid
                    : paid > method.AmountUnits ? InvoiceException.Overpaid
                    : null;
            }
        }

        if (State.Status == InvoiceStatus.Confirming && sufficient &&
            method.Payments.TrueForAll(p => p.Confirmations >= method.RequiredConfirmations))
        {
            State.Status = InvoiceStatus.Confirmed;
            State.ConfirmedAt = Now;
        }

        SettleBack();
    }

    /// <summary>
    /// A reorganisation took confirmations or payments away: a confirmed invoice whose confirmed payments no longer
    /// reach the tolerance goes back to confirming, or further back when what is left does not suffice at all
    /// (pending while time remains, paid_partial or expired after). Marked invoices stay as the merchant marked them.
    /// </summary>
    private void SettleBack()
    {
        if (State.Exception == InvoiceException.Marked || State.Status is not (InvoiceStatus.Confirmed or InvoiceStatus.Confirming))
        {
            return;
        }

        if (State.Status == InvoiceStatus.Confirmed && !State.PaymentMethods.Exists(m => ConfirmedUnits(m) >= Tolerated(m)))
        {
            State.Status = InvoiceStatus.Confirming;
            State.ConfirmedAt = null;
            State.Exception = InvoiceException.Reorged;
        }

        if (State.Status == InvoiceStatus.Confirming && !State.PaymentMethods.Exists(m => m.PaidUnits >= Tolerated(m)))
        {
            State.PaidAt = null;
            State.Exception = InvoiceException.Reorged;
            if (Now < State.Spec.ExpiresAt)
            {
                State.Status = InvoiceStatus.Pending;
                RegisterReminderAt(ExpiryReminder, State.Spec.ExpiresAt);
            }
            else
            {
                State.Status = State.HasPayments ? InvoiceStatus.PaidPartial : InvoiceStatus.Expired;
            }
        }
    }

    /// <summary>Within the merchant's tolerance counts as paid: required × (100 − error%) / 100, rounded up.</summary>
    private BigInteger Tolerated(InvoicePaymentMethod method) =>
        Ceiling(method.AmountUnits * (BigInteger)((100m - State.Spec.AllowedErrorPercent) * 10_000m), 1_000_000);

    private static BigInteger ConfirmedUnits(InvoicePaymentMethod method) =>
        method.Payments.Where(p => p.Confirmations >= method.RequiredConfirmations).Aggregate(BigInteger.Zero, (s, p) => s + p.AmountUnits);

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
