namespace CryptoPay.Api.Compatibility.Ippan;

/// <summary>
/// ippan.txt's ids: a type prefix and our Guid in its 32-hex "N" form (<c>pay_0f3d…</c>), so every id maps back to
/// our object without a lookup table. Anything else (another prefix, a garbled or foreign id) names nothing.
/// </summary>
public static class IppanIds
{
    public const string Payment = "pay_";
    public const string Invoice = "inv_";
    public const string PaymentLink = "plink_";
    public const string Payout = "po_";
    public const string Settlement = "stl_";
    public const string Proof = "prf_";
    public const string Beneficiary = "ben_";
    public const string Merchant = "mer_";

    public static string Of(string prefix, Guid id) => ProfileIds.Format(prefix, id);

    /// <summary>The Guid of an id with <paramref name="prefix"/>; null for anything else (IPPAN ids are always prefixed).</summary>
    public static Guid? Parse(string prefix, string? id) => ProfileIds.Parse(prefix, id, bareAccepted: false);
}
