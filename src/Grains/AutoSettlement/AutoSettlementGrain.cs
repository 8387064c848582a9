using System.Numerics;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Withdrawals;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;

namespace CryptoPay.Grains.AutoSettlement;

/// <summary>
/// Automatic settlement of one merchant's live balance of one asset (issue 14): at the end of each window of the
/// merchant's schedule, the available balance less the withdrawal fee is requested as a withdrawal to the saved
/// address, listing the deposits credited since the last payout as its payment ids.
/// </summary>
[Alias("cryptopay.auto-settlement")]
public interface IAutoSettlementGrain : IGrainWithStringKey, IWakeable
{
    /// <summary>Saves the setting; the first window to run is the one open now (it runs when it closes).</summary>
    Task<AutoSettlementState> Configure(Guid merchantId, AutoSettlementSetting setting);

    /// <summary>The state; its <see cref="AutoSettlementState.Setting"/> is null when none is saved.</summary>
    Task<AutoSettlementState> Get();

    /// <summary>Deletes the setting (no further windows run); false when there was none.</summary>
    Task<bool> Remove();
}

/// <remarks>
/// Idempotent per window: the window's number is saved with its payout before the withdrawal is requested, and the
/// withdrawal's id derives from (merchant, asset, schedule, window), so running a window twice, or again after a
/// crash, requests the same withdrawal once. The wake reminder (<see cref="EffectGrain{TState}.DueAt"/> = the end of
/// the open window) carries the schedule; "now" is the gateway clock.
/// </remarks>
[GrainType("auto-settlement")]
public sealed class AutoSettlementGrain(
    [PersistentState("auto-settlement")] IPersistentState<GrainRecord<AutoSettlementState>> record,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    IServiceProvider services,
    ILogger<AutoSettlementGrain> logger)
    : EffectGrain<AutoSettlementState>(record, clock, logger), IAutoSettlementGrain
{
    /// <summary>The reference of every automatic settlement withdrawal.</summary>
    public const string Reference = "auto-settlement";

    /// <summary>
    /// Deposits credited this recently are listed by the next payout, not this one: a deposit reaches the balance a moment
    /// before its journal row is written, and a row written after the listing must not fall behind the cursor.
    /// </summary>
    public static readonly TimeSpan ListingDelay = TimeSpan.FromMinutes(1);

    /// <summary>At most this many payment ids per payout; the rest are listed by the next one.</summary>
    public const int MaxPaymentIds = 10_000;

    private const int PageSize = 1_000;

    public static string KeyFor(Guid merchantId, Mode mode, string asset) => $"autoset:{merchantId:N}.{InvoiceProjection.Name(mode)}.{asset.ToUpperInvariant()}";

    /// <summary>The withdrawal of a window: the same id on every retry and every silo.</summary>
    public static Guid WithdrawalIdFor(Guid merchantId, string asset, SettlementSchedule schedule, long window) =>
        DerivedIds.Uuid($"auto-settlement\n{merchantId:N}\nlive\n{asset}\n{SettlementSchedules.Name(schedule)}\n{window}");

    /// <summary>When the next window closes (null: no setting).</summary>
    public static DateTimeOffset? NextRunAt(AutoSettlementState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.Setting is { } setting ? SettlementSchedules.StartOf(setting.Schedule, state.LastWindow + 2) : null;
    }

    protected override DateTimeOffset? DueAt => State.Pending is not null ? Now : NextRunAt(State);

    public async Task<AutoSettlementState> Configure(Guid merchantId, AutoSettlementSetting setting)
    {
        ArgumentNullException.ThrowIfNull(setting);
        if (KeyFor(merchantId, Mode.Live, setting.Asset) != this.GetPrimaryKeyString())
        {
            throw new ArgumentException($"Setting for {setting.Asset} of {merchantId} sent to {this.GetPrimaryKeyString()}.", nameof(setting));
        }

        if (State.CreatedAt == default)
        {
            State.CreatedAt = Now;
        }

        if (State.Setting?.Schedule != setting.Schedule)
        {
            // Windows are numbered per schedule: the one open now is the first of the new schedule to run.
            State.LastWindow = SettlementSchedules.WindowAt(setting.Schedule, Now) - 1;
        }

        State.MerchantId = merchantId;
        State.Setting = setting with { UpdatedAt = Now };
        await SaveAsync();
        return State;
    }

    public Task<AutoSettlementState> Get() => Task.FromResult(State);

    public async Task<bool> Remove()
    {
        if (State.Setting is null)
        {
            return false;
        }

        State.Setting = null;
        await SaveAsync();
        return true;
    }

    protected override async Task OnWakeAsync()
    {
        if (State.Pending is not null)
        {
            await RequestPendingAsync();
        }

        if (State.Setting is { } setting && SettlementSchedules.WindowAt(setting.Schedule, Now) - 1 is var closed && closed > State.LastWindow)
        {
            // Windows missed while no silo ran are not run one by one: one payout of the available balance covers them.
            await RunWindowAsync(setting, closed);
        }
    }

    private async Task RunWindowAsync(AutoSettlementSetting setting, long window)
    {
        var options = (services.GetService<IOptions<WithdrawalOptions>>()?.Value ?? new WithdrawalOptions()).For(setting.Asset);
        var balance = await GrainFactory.GetGrain<IMerchantBalanceGrain>(LedgerKeys.Balance(State.MerchantId, Mode.Live, setting.Asset)).Get();
        var fee = options is null ? BigInteger.Zero : Amounts.ToUnits(options.Fee, setting.Decimals);
        var minimum = options is null ? setting.MinimumUnits : BigInteger.Max(setting.MinimumUnits, Amounts.ToUnits(options.Minimum, setting.Decimals));
        State.LastWindow = window;
        if (options is null || balance.Available < minimum + fee || balance.Available - fee <= 0)
        {
            State.LastRun = new AutoSettlementRun
            {
                Window = window,
                Schedule = setting.Schedule,
                RanAt = Now,
                Outcome = options is null ? AutoSettlementOutcome.Refused : AutoSettlementOutcome.BelowMinimum,
                Reason = options is null ? $"withdrawals of {setting.Asset} are not configured on this gateway." : null,
            };
            await SaveAsync();
            return;
        }

        var deposits = await DepositsSinceCursorAsync(setting.Asset);
        State.Pending = new AutoSettlementPayout
        {
            Window = window,
            Schedule = setting.Schedule,
            WithdrawalId = WithdrawalIdFor(State.MerchantId, setting.Asset, setting.Schedule, window),
            AssetCode = setting.AssetCode,
            Network = setting.Network,
            Address = setting.Address,
            AmountUnits = balance.Available - fee,
            Decimals = setting.Decimals,
            PaymentIds = [.. deposits.Select(d => d.OutputKey)],
            LastListed = deposits.Count > 0 ? deposits[^1] : null,
        };
        // Saved before the request: a retry requests this payout, not one recomputed from a balance it already reserved.
        await SaveAsync();
        await RequestPendingAsync();
    }

    private async Task<List<DepositPosition>> DepositsSinceCursorAsync(string asset)
    {
        var ledger = services.GetRequiredService<ILedgerQuery>();
        var until = Now - ListingDelay;
        var deposits = new List<DepositPosition>();
        var after = State.Cursor;
        while (deposits.Count < MaxPaymentIds)
        {
            var page = await ledger.CreditedDepositsAsync(State.MerchantId, Mode.Live, asset, after, until, Math.Min(PageSize, MaxPaymentIds - deposits.Count), CancellationToken.None);
            deposits.AddRange(page);
            if (page.Count == 0 || deposits.Count >= MaxPaymentIds || page.Count < PageSize)
            {
                break;
            }

            after = page[^1];
        }

        return deposits;
    }

    private async Task RequestPendingAsync()
    {
        var payout = State.Pending!;
        var requests = services.GetRequiredService<WithdrawalRequests>();
        var order = new WithdrawalOrder(payout.AssetCode, payout.Network, Amounts.FromUnits(payout.AmountUnits, payout.Decimals), payout.Address, null, Reference, null, payout.PaymentIds);
        var result = await requests.RequestAsync(order, State.MerchantId, Mode.Live, payout.WithdrawalId, requestFingerprint: null, CancellationToken.None);
        var withdrawal = result.Withdrawal;
        if (withdrawal is not null)
        {
            State.Cursor = payout.LastListed ?? State.Cursor;
            logger.LogInformation("Automatic settlement {Withdrawal}: {Amount} units of {Asset} for merchant {Merchant}, {Count} payment ids",
                payout.WithdrawalId, payout.AmountUnits, State.Setting?.Asset ?? payout.AssetCode, State.MerchantId, payout.PaymentIds.Count);
        }
        else
        {
            logger.LogWarning("Automatic settlement {Withdrawal} of merchant {Merchant} was refused: {Reason}", payout.WithdrawalId, State.MerchantId, result.Refusal!.Message);
        }

        State.LastRun = new AutoSettlementRun
        {
            Window = payout.Window,
            Schedule = payout.Schedule,
            RanAt = Now,
            Outcome = withdrawal is not null ? AutoSettlementOutcome.Requested : AutoSettlementOutcome.Refused,
            WithdrawalId = withdrawal is not null ? payout.WithdrawalId : null,
            Reason = result.Refusal?.Message,
        };
        State.Pending = null;
        await SaveAsync();
    }
}
