using System.Diagnostics;
using System.Globalization;
using CryptoPay.ClusterSupport;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Webhooks;
using CryptoPay.TestSupport.Postgres;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

// Webhook delivery figures (issue 5), by hand:
//   dotnet run -c Release --project bench/Webhooks.Bench -- [postgres] [events]
// The grains run on an Orleans cluster over PostgreSQL (GatewayGrainCluster, one silo); the old in-memory store has no
// Orleans counterpart here, so only PostgreSQL is measured ("memory" is accepted and measured on PostgreSQL too).
// Events come as invoices emit them: PublishInvoiceEvents effects, one event each, delivered to the merchant's
// endpoints grain (PublishAll), here from 100 concurrent fake senders each numbering its effects 1, 2, 3… in order.
// 1. throughput: N events to one endpoint on a local receiver that answers 200, from the first publish until every
//    delivery is recorded as delivered; 2. backlog: N events while the receiver answers 503, then the receiver comes
//    back and the gateway clock is moved past the next scheduled attempt (5 s) and due work is woken; the drain time is
//    measured from there.
// Warm-up rounds (JitWarmup.Rounds of 2,000 events each through the throughput path, own database and cluster) run
// first and are not counted: with a single round the measured phase still ran instrumented code and the tiering thread
// took 18 % of its samples. Their figures are printed, labelled as such.
var requested = args.Length > 0 ? args[0] : "postgres";
var events = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000;
using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(20));

await using var server = await PostgresServer.StartAsync(stop.Token);

var up = true;
var delivered = 0;
var builder = WebApplication.CreateBuilder();
builder.WebHost.UseUrls("http://127.0.0.1:0");
builder.Logging.ClearProviders();
var receiver = builder.Build();
receiver.Run(context =>
{
    context.Response.StatusCode = Volatile.Read(ref up) ? 200 : 503;
    if (Volatile.Read(ref up))
    {
        Interlocked.Increment(ref delivered);
    }

    return Task.CompletedTask;
});
await receiver.StartAsync(stop.Token);
var url = receiver.Urls.First() + "/hook";

const double Target = 2_000;
Console.WriteLine($"load average at start: {File.ReadAllText("/proc/loadavg").Trim()}");
Console.WriteLine($"store=postgres events={events} cores={Environment.ProcessorCount}" +
                  (requested == "postgres" ? "" : $" (asked for {requested}: only PostgreSQL is measured on Orleans)"));
await JitWarmup.RunAsync(_ => RunPhaseAsync("warm-up", Math.Min(events, 2_000)));
await RunPhaseAsync("throughput", events);
await RunPhaseAsync("backlog", events);
await receiver.StopAsync(stop.Token);
Console.WriteLine($"load average at end: {File.ReadAllText("/proc/loadavg").Trim()}");

async Task RunPhaseAsync(string phase, int count)
{
    var settings = new WebhookOptions { AllowPrivateTargets = true };
    // One sender for the silo, shared with the bench so it can wait for its queue to empty.
    await using var sender = new WebhookSender(Options.Create(settings), TimeProvider.System);
    var database = await server.CreateDatabaseAsync(ct: stop.Token);
    using var sql = new SqlActivity(database);
    await using var cluster = await GatewayGrainCluster.StartAsync(database, new GatewayGrainClusterOptions
    {
        Silos = 1,
        Services = s => s.AddSingleton(settings).AddSingleton(sender),
    });

    var merchant = Guid.NewGuid();
    var endpointsKey = WebhookEndpointsGrain.KeyFor(merchant, Mode.Test);
    var endpoints = cluster.Grains.GetGrain<IWebhookEndpointsGrain>(endpointsKey);
    await endpoints.Create(new WebhookEndpointDraft("we_bench", url, [], null, WebhookSignature.GenerateSecret()));
    Volatile.Write(ref up, phase != "backlog");
    Interlocked.Exchange(ref delivered, 0);

    var invoice = new InvoiceState { Id = Guid.NewGuid(), Spec = new InvoiceSpec { MerchantId = merchant, Mode = Mode.Test, Currency = "USD", Amount = 10m } };
    var sqlBefore = await sql.ReadAsync(cluster.DataSources, stop.Token);
    var cpuBefore = CpuSeconds();
    var watch = Stopwatch.StartNew();
    const int Sources = 100;
    // Each source delivers its effects one after another, in its numbering order, as an invoice's outbox does to one receiver.
    await Task.WhenAll(Enumerable.Range(0, Sources).Select(async i =>
    {
        var mine = count / Sources + (i < count % Sources ? 1 : 0);
        for (var n = 1; n <= mine; n++)
        {
            var batch = new WebhookEventBatch([WebhookEventTypes.InvoiceCreated], cluster.Clock.GetUtcNow().ToUnixTimeSeconds(), invoice);
            await endpoints.PublishAll(new PublishInvoiceEvents(endpointsKey, batch) { Sender = $"bench/{i}", Sequence = n });
        }
    }));
    await sender.WhenIdleAsync(stop.Token);
    var first = watch.Elapsed;
    if (phase != "backlog")
    {
        await ExpectAsync(WebhookDeliveryStatus.Delivered, count);
        if (Volatile.Read(ref delivered) != count)
        {
            throw new InvalidOperationException($"{phase}: the receiver got {Volatile.Read(ref delivered)} deliveries for {count} events.");
        }

        var label = phase == "warm-up" ? "warm-up (not counted)" : phase;
        var cpu = CpuSeconds();
        var work = await sql.ReadAsync(cluster.DataSources, stop.Token) - sqlBefore;
        var rate = Volatile.Read(ref delivered) / first.TotalSeconds;
        Console.WriteLine($"{label}: {Volatile.Read(ref delivered)} delivered in {first.TotalSeconds:0.00} s = {rate:0} deliveries/s ({rate / Target:0.00}x the 2,000/s target); " +
                          $"CPU per delivery {(cpu.Bench - cpuBefore.Bench) * 1e6 / count:0} us bench process + {(cpu.Postgres - cpuBefore.Postgres) * 1e6 / count:0} us PostgreSQL; " +
                          $"SQL per delivery: {work.PerOperation(count)}");

        return;
    }

    await ExpectAsync(WebhookDeliveryStatus.Pending, count);
    var failedWork = await sql.ReadAsync(cluster.DataSources, stop.Token) - sqlBefore;
    Console.WriteLine($"backlog: {events} first attempts failed (503) in {first.TotalSeconds:0.00} s = {events / first.TotalSeconds:0} attempts/s; SQL per failed attempt: {failedWork.PerOperation(count)}");
    Volatile.Write(ref up, true);
    var drainBefore = await sql.ReadAsync(cluster.DataSources, stop.Token);
    watch.Restart();
    // The retry comes due by the gateway clock; waking the due grains hands every attempt to the sender.
    await cluster.AdvanceTimeAsync(WebhookDeliveryGrain.Schedule[1]);
    await sender.WhenIdleAsync(stop.Token);
    var drained = watch.Elapsed;
    await ExpectAsync(WebhookDeliveryStatus.Delivered, count);
    var drainWork = await sql.ReadAsync(cluster.DataSources, stop.Token) - drainBefore;
    Console.WriteLine($"backlog: receiver back, {Volatile.Read(ref delivered)} delivered in {drained.TotalSeconds:0.00} s after the 5 s retry came due = {Volatile.Read(ref delivered) / drained.TotalSeconds:0} deliveries/s; SQL per retried delivery: {drainWork.PerOperation(count)}");

    // Every delivery of the merchant's endpoint is in the state expected, as the deliveries list reads them.
    async Task ExpectAsync(WebhookDeliveryStatus status, int expected)
    {
        var rows = await WebhookDeliveryQueries.For(cluster.Storage).ListAsync(new WebhookDeliveryFilter(merchant, Mode.Test, "we_bench", null, status, expected + 1), stop.Token);
        if (rows.Count != expected)
        {
            throw new InvalidOperationException($"{phase}: {rows.Count} deliveries are {status}, expected {expected}.");
        }
    }
}

// CPU seconds used so far by this process and by its descendants (the PostgreSQL server it started), from /proc: a figure
// other work on the shared machine does not move, unlike wall-clock throughput.
static (double Bench, double Postgres) CpuSeconds()
{
    if (!OperatingSystem.IsLinux())
    {
        return (0, 0);
    }

    var ticks = 100.0;
    var stats = new Dictionary<int, (int Parent, long Cpu)>();
    foreach (var directory in Directory.EnumerateDirectories("/proc"))
    {
        try
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid))
            {
                // Fields after the command name: state ppid ... utime(14) stime(15) cutime(16) cstime(17).
                var text = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
                stats[pid] = (int.Parse(fields[1], CultureInfo.InvariantCulture), fields[11..15].Sum(f => long.Parse(f, CultureInfo.InvariantCulture)));
            }
        }
        catch (IOException)
        {
        }
    }

    var self = Environment.ProcessId;
    bool Descends(int pid)
    {
        for (var hops = 0; hops < 16 && stats.TryGetValue(pid, out var entry); hops++, pid = entry.Parent)
        {
            if (entry.Parent == self)
            {
                return true;
            }
        }

        return false;
    }

    return (stats[self].Cpu / ticks, stats.Where(p => p.Key != self && Descends(p.Key)).Sum(p => p.Value.Cpu) / ticks);
}
