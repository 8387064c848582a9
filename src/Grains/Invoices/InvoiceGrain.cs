using System.Numerics;
using CryptoPay.Grains.Idempotency;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Telemetry;
using CryptoPay.Grains.Webhooks;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Serialization;

namespace CryptoPay.Grains.Invoices;

/// <summary>The state change asked for is not possible from the invoice's current status.</summary>
[GenerateSerializer]
[Alias("cryptopay.invalid-invoice-transition")]
public sealed class InvalidInvoiceTransitionException(string message) : Exception(message);

/// <summary>An output seen on a chain paying one of the invoice's addresses.</summary>
[GenerateSerializer]
[Alias("cryptopay.payment-observation")]
public sealed record PaymentObservation([property: Id(0)] string Address, [property: Id(1)] string Txid, [property: Id(2)] int OutputIndex, [property: Id(3)] BigInteger AmountUnits, [property: Id(4)] int Confirmations);

[Alias("cryptopay.invoice")]
public interface IInvoiceGrain : IGrainWithGuidKey, IWakeable
{
    /// <summary>Creates the invoice; when it exists already (a retried or raced creation) returns it unchanged.</summary>
    Task<InvoiceState> Create(InvoiceSpec spec);

    /// <summary>The same as <see cref="Create"/>, as the effect of the order index that reserved the invoice's order id.</summary>
    Task Open(OpenInvoice effect);

    Task<InvoiceState?> Get();

    /// <summary>
    /// For the public status endpoint: a small answer (null: no such invoice). It is the stored status: readers apply
    /// <see cref="InvoiceStatusView.AsOf"/> to see an invoice past its expiry as expired.
    /// </summary>
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

    /// <summary><see cref="RecordPayment"/> as the effect of a chain watcher.</summary>
    Task Observe(ObservePayment effect);

    /// <summary>
    /// Sets a recorded payment's confirmations (0: its block was reorganised away and it waits in the mempool again).
    /// A confirmed invoice whose confirmed payments no longer suffice goes back with <c>exception: reorged</c>.
    /// </summary>
    Task Confirm(SetConfirmations effect);

    /// <summary>Removes a payment that left the chain (its block reorganised away and the transaction in no block or mempool); its credit is reversed.</summary>
    Task Remove(RemovePaymentEffect effect);
}

/// <summary>
/// One invoice. Its state and the <c>invoices</c> list columns are one write (<see cref="InvoiceProjection"/>); its
/// webhook events and ledger changes are effects of that write; its expiry is its stored wake time (<c>wake_at</c>).
/// </summary>
/// <remarks>
/// Placed on the silo that first calls it: the one serving the request that creates it, so a creation makes no hop
/// between silos and its first activation skips the read of a key drawn there (<see cref="NewGrainKeys"/>); the load
/// balancer spreads creations, and with them invoices, over the silos.
/// </remarks>
[GrainType(InvoiceProjection.GrainType)]
[PreferLocalPlacement]
public sealed class InvoiceGrain(
    [PersistentState(InvoiceProjection.StateName, ProjectedGrainStorage.Name)] IPersistentState<GrainRecord<InvoiceState>> record,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    ILogger<InvoiceGrain> logger,
    GatewayMetrics? metrics = null)
    : EffectGrain<InvoiceState>(record, clock, logger), IInvoiceGrain
{
    private DeepCopier<InvoiceState>? copier;

    protected override DateTimeOffset? DueAt =>
        State.Exists && State.Status == InvoiceStatus.Pending ? State.Spec.ExpiresAt : null;

    /// <summary>
    /// Invoices keep no reminder each: their wake time is the <c>invoices.wake_at</c> column, written with their state,
    /// and <see cref="InvoiceWakeSweeperGrain"/> wakes those whose time has passed (an expiry, a retry of events).
    /// </summary>
    protected override bool WokenBySweep => true;

    public async Task<InvoiceState> Create(InvoiceSpec spec)
    {
        if (State.Exists && spec.RequestFingerprint is not null && State.Spec.RequestFingerprint != spec.RequestFingerprint)
        {
            throw new IdempotencyKeyReusedException($"Invoice {State.Id} was created by another request with this Idempotency-Key.");
        }

        await OpenAsync(spec);
        return State.AsOf(Now);
    }

    public async Task Open(OpenInvoice effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        if (await AcceptAsync(effect))
        {
            await OpenAsync(effect.Spec);
        }
    }

    private async Task OpenAsync(InvoiceSpec spec)
    {
        if (State.Exists)
        {
            return;
        }

        var before = WebhookEventTypes.InvoiceMark.Of(State);
        State = new InvoiceState
        {
            Id = this.GetPrimaryKey(),
            Spec = spec with { PaymentMethods = [] },
            Status = spec.Archived ? InvoiceStatus.Archived : InvoiceStatus.Pending,
            UpdatedAt = spec.Archived ? spec.CreatedAt : Now,
            PaymentMethods = [.. spec.PaymentMethods],
            Revision = 1,
        };
        PublishEventsSince(before);
        await SaveAsync();
        metrics?.InvoiceCreated(spec.Mode);
    }

    public Task<InvoiceState?> Get() => Task.FromResult(State.Exists ? State.AsOf(Now) : null);

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
        PublishEventsSince(before);
        await SaveAsync();
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
        CreditOutputsSince(credited);
        PublishEventsSince(before);
        await SaveAsync();
        return State;
    }

    public async Task<InvoiceState> AssignAddress(string method, string address)
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
            await SaveAsync();
        }

        return State;
    }

    public async Task RecordPayment(PaymentObservation payment)
    {
        if (ApplyPayment(payment))
        {
            await SaveAsync();
        }
    }

    public async Task Observe(ObservePayment effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        if (await AcceptAsync(effect))
        {
            ApplyPayment(effect.Payment);
            await SaveAsync();
        }
    }

    public async Task Confirm(SetConfirmations effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        if (await AcceptAsync(effect))
        {
            ApplyConfirmations(effect.Txid, effect.OutputIndex, effect.Confirmations);
            await SaveAsync();
        }
    }

    public async Task Remove(RemovePaymentEffect effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        if (!await AcceptAsync(effect))
        {
            return;
        }

        var before = WebhookEventTypes.InvoiceMark.Of(State);
        var credited = InvoiceCredits.Of(State);
        foreach (var method in State.PaymentMethods)
        {
            if (method.Payments.RemoveAll(p => p.Txid == effect.Txid && p.OutputIndex == effect.OutputIndex) > 0)
            {
                Settle(method, late: false);
                Touch();
            }
        }

        CreditOutputsSince(credited);
        PublishEventsSince(before);
        await SaveAsync();
    }

    protected override async Task OnWakeAsync()
    {
        if (!State.Exists || !InvoiceState.IsPastExpiry(State.Status, State.Spec.ExpiresAt, Now))
        {
            return;
        }

        var before = WebhookEventTypes.InvoiceMark.Of(State);
        var credited = InvoiceCredits.Of(State);
        InvoiceState.Expired(State);
        // The confirmed part of an underpayment is the merchant's now.
        CreditOutputsSince(credited);
        PublishEventsSince(before);
        await SaveAsync();
    }

    /// <summary>Applies a payment; false when there is nothing to write (not ours, or seen with these confirmations).</summary>
    private bool ApplyPayment(PaymentObservation payment)
    {
        var method = State.PaymentMethods.Find(m => string.Equals(m.Address, payment.Address, StringComparison.Ordinal));
        if (method is null || State.Status == InvoiceStatus.Archived)
        {
            return false;
        }

        if (method.Payments.Exists(p => p.Txid == payment.Txid && p.OutputIndex == payment.OutputIndex))
        {
            // Seen again (mined after the mempool, or re-mined after a reorganisation): only its confirmations change.
            return ApplyConfirmations(payment.Txid, payment.OutputIndex, payment.Confirmations);
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
        CreditOutputsSince(credited);
        PublishEventsSince(before);
        return true;
    }

    private bool ApplyConfirmations(string txid, int outputIndex, int confirmations)
    {
        var before = WebhookEventTypes.InvoiceMark.Of(State);
        var credited = InvoiceCredits.Of(State);
        var changed = false;
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
            changed = true;
        }

        CreditOutputsSince(credited);
        PublishEventsSince(before);
        return changed;
    }

    /// <summary>
    /// Emits the webhook events of this call's change as one effect, written with the change, so they exist if and only
    /// if the change was written; the effect's id gives the events their ids. The last change of every call before its
    /// save: the events' invoice is the state that save writes, so the record stores it once
    /// (<see cref="WebhookEventBatch.InvoiceIsRecordState"/>).
    /// </summary>
    private void PublishEventsSince(WebhookEventTypes.InvoiceMark before)
    {
        var types = WebhookEventTypes.Between(before, State).ToList();
        if (types.Count > 0)
        {
            var key = WebhookEndpointsGrain.KeyFor(State.Spec.MerchantId, State.Spec.Mode);
            Send(new PublishInvoiceEvents(key, new WebhookEventBatch(types, Now.ToUnixTimeSeconds(), Snapshot()) { InvoiceIsRecordState = true }));
        }
    }

    protected override GrainEffect Restored(GrainEffect effect) =>
        effect is PublishInvoiceEvents { Batch.InvoiceIsRecordState: true } publish
            ? publish with { Batch = publish.Batch.WithInvoice(Snapshot()) }
            : effect;

    protected override void Written(GrainEffect effect)
    {
        if (effect is PublishInvoiceEvents publish)
        {
            publish.Batch.InvoiceIsRecordState = false;
        }
    }

    /// <summary>A copy of the state a later change must not reach: Orleans' generated copier, not a round trip through JSON.</summary>
    private InvoiceState Snapshot() => (copier ??= ServiceProvider.GetRequiredService<DeepCopier<InvoiceState>>()).Copy(State);

    /// <summary>
    /// Brings the merchant's balance in line with this call, as effects of its write: credits for outputs it made count,
    /// compensating reversals for outputs it stopped counting (reorganised away), and pending amounts shown or dropped.
    /// </summary>
    private void CreditOutputsSince(InvoiceCredits credited)
    {
        var changes = credited.Since(State);
        if (changes.Lost.Count > 0)
        {
            State.Exception = InvoiceException.Reorged;
        }

        foreach (var credit in changes.Lost)
        {
            Send(new ReverseOutput(credit.OutputKey));
        }

        foreach (var credit in changes.Credits)
        {
            Send(new CreditOutput(credit));
        }

        foreach (var pending in changes.NewlyPending)
        {
            Send(new ShowPending(pending, changes.Lost.Any(l => l.OutputKey == pending.OutputKey) ? PendingChange.Unconfirm : PendingChange.Detect));
        }

        foreach (var dropped in changes.Dropped)
        {
            Send(new ShowPending(dropped, PendingChange.Forget));
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
            throw new KeyNotFoundException($"Invoice {this.GetPrimaryKey()} does not exist.");
        }
    }

    private static string Describe(InvoiceStatus status) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(status.ToString());
}
