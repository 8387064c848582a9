using System.Diagnostics.Metrics;
using CryptoPay.Grains.Merchants;

namespace CryptoPay.Grains.Telemetry;

/// <summary>The gateway's own meter (<see cref="MeterName"/>), exported beside Orleans' at /metrics.</summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "CryptoPay";

    private readonly Counter<long> invoicesCreated;
    private readonly Counter<long> depositsCredited;

    public GatewayMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        invoicesCreated = meter.CreateCounter<long>("cryptopay.invoices.created", "{invoice}", "Invoices opened, by mode.");
        depositsCredited = meter.CreateCounter<long>("cryptopay.deposits.credited", "{deposit}", "On-chain outputs credited to a merchant, by network and mode.");
    }

    public void InvoiceCreated(Mode mode) => invoicesCreated.Add(1, new KeyValuePair<string, object?>("mode", ModeName(mode)));

    public void DepositCredited(string network, Mode mode) =>
        depositsCredited.Add(1, new KeyValuePair<string, object?>("network", network), new KeyValuePair<string, object?>("mode", ModeName(mode)));

    private static string ModeName(Mode mode) => mode == Mode.Live ? "live" : "test";
}
