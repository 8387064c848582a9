using System.ComponentModel;
using System.Text.Json;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Withdrawals;

namespace CryptoPay.Api.Withdrawals;

/// <summary>A withdrawal as merchants and operators see it: the amount the recipient gets, the network fee, and their sum debited from the balance.</summary>
public sealed record WithdrawalResponse(
    Guid Id,
    [property: Description("The merchant it belongs to (operators list every merchant's).")] Guid MerchantId,
    [property: Description("review, queued, processing, completed, failed, rejected or cancelled.")] string Status,
    [property: Description("The asset's code (USDT, BTC).")] string Asset,
    string Network,
    [property: Description("The balance it is paid from, as GET /v1/balances names it (USDT-TRON, BTC).")] string BalanceAsset,
    [property: Description("What the recipient gets.")] string Amount,
    [property: Description("The network fee, charged on top of the amount.")] string Fee,
    [property: Description("amount + fee: what the balance is debited (reserved at request).")] string TotalDebit,
    [property: Description("The amount's USD value at request; null when no fresh rate was known (it then waits for review).")] string? AmountUsd,
    string Address,
    Guid? BeneficiaryId,
    string? Reference,
    JsonElement? Metadata,
    [property: Description("Why it was rejected or failed.")] string? Reason,
    [property: Description("The settlement batch paying it (GET /v1/settlements/{id}), set once it is processing; \"manual\" when the operator recorded a payout made by hand.")] string? SettlementId,
    string? Txid,
    [property: Description("Once completed: the id of its proof of payment (GET /v1/proofs/{id}).")] Guid? ProofId,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? CompletedAt,
    [property: Description("The deposits an automatic settlement pays out (ledger output keys network:txid:index, oldest credit first); empty for a withdrawal asked for by hand.")] IReadOnlyList<string> PaymentIds);

public sealed record WithdrawalListResponse(IReadOnlyList<WithdrawalResponse> Items, Invoices.PaginationResponse Pagination);

public static class WithdrawalResponses
{
    public static WithdrawalResponse ToResponse(this WithdrawalState withdrawal)
    {
        ArgumentNullException.ThrowIfNull(withdrawal);
        var spec = withdrawal.Spec!;
        return new WithdrawalResponse(
            spec.Id, spec.MerchantId, WithdrawalProjection.Name(withdrawal.Status), spec.AssetCode, spec.Network, spec.Asset,
            LedgerKeys.FormatUnits(spec.AmountUnits, spec.Decimals), LedgerKeys.FormatUnits(spec.FeeUnits, spec.Decimals),
            LedgerKeys.FormatUnits(spec.TotalUnits, spec.Decimals),
            spec.UsdValue is { } usd ? Grains.Catalog.Amounts.Format(usd, 2) : null,
            spec.Address, spec.BeneficiaryId, spec.Reference,
            Invoices.InvoiceMapping.Metadata(spec.MetadataJson),
            withdrawal.Reason, withdrawal.SettlementId, withdrawal.Txid,
            withdrawal.Status == WithdrawalStatus.Completed && Guid.TryParse(withdrawal.SettlementId, out _) ? spec.Id : null, spec.CreatedAt, withdrawal.UpdatedAt, withdrawal.CompletedAt,
            spec.PaymentIds);
    }
}
