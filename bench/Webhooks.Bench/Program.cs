using System.Diagnostics;
using System.Globalization;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Sandbox;
using CryptoPay.Grains.Webhooks;
using CryptoPay.Runtime.Grains;
using CryptoPay.Runtime.Storage;
using CryptoPay.Runtime.Storage.Memory;
using CryptoPay.Runtime.Storage.Postgres;
using CryptoPay.Runtime.Testing;
using CryptoPay.TestSupport.Postgres;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

// Webhook delivery figures (issue 5), by hand:
//   dotnet run -c Release --project bench/Webhooks.Bench -- [memory|postgres] [events]
// Events come as invoice turns emit them: messages to the merchant's endpoints grain, here from 100 source grains.
// 1. throughput: N events to one endpoint on a local receiver that answers 200, from the first publish until every
//    delivery is recorded as delivered; 2. backlog: N events while the receiver answers 503, then the receiver comes
//    back and the clock reaches the next scheduled attempt (5 s); the drain time is measured from there.
// A warm-up round (2,000 events through the throughput path, own database and cluster) runs first and is not counted:
// without it the throughput figure mostly measured the JIT compiling the path (a third of the process's CPU samples),
// as the other benches' warm-ups avoid. Its cold figure is printed, labelled as such.
var store = args.Length > 0 ? args[0] : "memory";
var events = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000;
using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(20));

PostgresServer? server = null;
if (store == "postgres")
{
    server = await PostgresServer.StartAsync(stop.Token);
}

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

Console.WriteLine($"store={store} events={events} cores={Environment.ProcessorCount}");
foreach (var phase in new[] { "warm-up", "throughput", "backlog" })
{
    var count = phase == "warm-up" ? Math.Min(events, 2_000) : events;
    IGrainStore grainStore = server is null ? new MemoryGrainStore() : new PostgresGrainStore(PostgresGrainStore.CreateDataSource(await server.CreateDatabaseAsync(ct: stop.Token)), [InvoiceProjection.Migrations]);
    await grainStore.InitializeAsync(stop.Token);
    var clock = new ManualTimeProvider();
    var settings = new WebhookOptions { AllowPrivateTargets = true };
    await using var sender = new WebhookSender(Options.Create(settings), clock);
    await using var cluster = await TestCluster.StartAsync(new TestClusterOptions
    {
        Silos = 1,
        Store = grainStore,
        Clock = clock,
        Grains = r => r.AddCryptoPayGrains().Add<IBenchEventSourceGrain, BenchEventSourceGrain>(),
        Services = s => s.AddSingleton(new SandboxChainOptions()).AddSingleton(settings).AddSingleton(sender),
    }, stop.Token);

    var merchant = Guid.NewGuid();
    var endpoints = cluster.Client.GetGrain<IWebhookEndpointsGrain>(WebhookEndpointsGrain.KeyFor(merchant, Mode.Test));
    await endpoints.Create(new WebhookEndpointDraft("we_bench", url, [], null, WebhookSignature.GenerateSecret()));
    Volatile.Write(ref up, phase != "backlog");
    Interlocked.Exchange(ref delivered, 0);

    var cpuBefore = CpuSeconds();
    var watch = Stopwatch.StartNew();
    const int Sources = 100;
    await Task.WhenAll(Enumerable.Range(0, Sources).Select(i =>
        cluster.Client.GetGrain<IBenchEventSourceGrain>($"source-{i}").Emit(merchant, count / Sources + (i < count % Sources ? 1 : 0))));
    await DrainAsync();
    var first = watch.Elapsed;
    if (phase != "backlog")
    {
        if (Volatile.Read(ref delivered) != count)
        {
            throw new InvalidOperationException($"{phase}: the receiver got {Volatile.Read(ref delivered)} deliveries for {count} events.");
        }

        var label = phase == "warm-up" ? "warm-up (cold JIT, not counted)" : phase;
        var cpu = CpuSeconds();
        Console.WriteLine($"{label}: {Volatile.Read(ref delivered)} delivered in {first.TotalSeconds:0.00} s = {Volatile.Read(ref delivered) / first.TotalSeconds:0} deliveries/s; " +
                          $"CPU per delivery {(cpu.Bench - cpuBefore.Bench) * 1e6 / count:0} us bench process + {(cpu.Postgres - cpuBefore.Postgres) * 1e6 / count:0} us PostgreSQL");
        continue;
    }

    Console.WriteLine($"backlog: {events} first attempts failed (503) in {first.TotalSeconds:0.00} s = {events / first.TotalSeconds:0} attempts/s");
    Volatile.Write(ref up, true);
    clock.Advance(WebhookDeliveryGrain.Schedule[1]);
    watch.Restart();
    await DrainAsync();
    Console.WriteLine($"backlog: receiver back, {Volatile.Read(ref delivered)} delivered in {watch.Elapsed.TotalSeconds:0.00} s after the 5 s retry came due = {Volatile.Read(ref delivered) / watch.Elapsed.TotalSeconds:0} deliveries/s");

    async Task DrainAsync()
    {
        var idleRounds = 0;
        while (idleRounds < 2)
        {
            await cluster.RunUntilIdleAsync(stop.Token);
            await sender.WhenIdleAsync(stop.Token);
            var backlog = await grainStore.GetBacklogAsync(clock.GetUtcNow(), stop.Token);
            idleRounds = backlog.DueMessages == 0 ? idleRounds + 1 : 0;
        }
    }
}

await receiver.StopAsync(stop.Token);
if (server is not null)
{
    await server.DisposeAsync();
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

/// <summary>Stands for invoice turns: one turn emits <c>count</c> events as messages, as a turn that changed an invoice does.</summary>
[GrainType("bench-event-source")]
public interface IBenchEventSourceGrain : IGrainWithStringKey
{
    Task Emit(Guid merchant, int count);
}

public sealed class BenchEventSourceGrain : Grain, IBenchEventSourceGrain
{
    public async Task Emit(Guid merchant, int count)
    {
        var invoice = new InvoiceState { Id = Guid.NewGuid(), Spec = new InvoiceSpec { MerchantId = merchant, Mode = Mode.Test, Currency = "USD", Amount = 10m } };
        for (var i = 0; i < count; i++)
        {
            await Send<IWebhookEndpointsGrain>(WebhookEndpointsGrain.KeyFor(merchant, Mode.Test))
                .PublishAll(new WebhookEventBatch([WebhookEventTypes.InvoiceCreated], Now.ToUnixTimeSeconds(), invoice));
        }
    }
}
