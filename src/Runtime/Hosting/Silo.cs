using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using CryptoPay.Runtime.Execution;
using CryptoPay.Runtime.Grains;
using CryptoPay.Runtime.Hosting;
using CryptoPay.Runtime.Messaging;
using CryptoPay.Runtime.Reminders;
using CryptoPay.Runtime.Serialization;
using CryptoPay.Runtime.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CryptoPay.Runtime;

public enum SiloState
{
    Created,
    Running,
    Stopping,
    Stopped,
    Killed,
}

/// <summary>A membership entry as seen by an operator: the stored record and whether its heartbeat is current.</summary>
public sealed record SiloStatus(SiloRecord Record, bool IsAlive);

/// <summary>
/// One node of the cluster. Hosts activations of any grain, runs their turns against the shared
/// store, fires reminders (reminders role), pumps the outbox, and heartbeats into the membership table.
/// </summary>
public sealed class Silo : IAsyncDisposable
{
    private readonly ConcurrentDictionary<GrainId, Activation> activations = new();
    private readonly ReminderService reminders;
    private readonly MessagePump pump;
    private readonly List<Task> loops = [];
    private readonly AsyncSignal idle = new();
    private CancellationTokenSource background = new();
    private long outstanding;
    private volatile SiloState state = SiloState.Created;
    private readonly SemaphoreSlim maintenance = new(1, 1);
    private DateTimeOffset startedAt;
    private DateTimeOffset lastHeartbeat;

    public Silo(
        IGrainStore store,
        GrainTypeRegistry registry,
        SiloOptions options,
        IServiceProvider services,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null)
    {
        options.Validate();
        Store = store;
        Registry = registry;
        Options = options;
        Services = services;
        TimeProvider = timeProvider ?? TimeProvider.System;
        Logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<Silo>();
        SiloId = string.IsNullOrWhiteSpace(options.SiloId) ? $"{Environment.MachineName}-{Guid.NewGuid().ToString("N")[..8]}" : options.SiloId;
        GrainFactory = new SiloGrainFactory(this);
        Reads = new StoreReadBatcher(store, Metrics);
        Changes = new GrainChangeTracker(this);
        reminders = new ReminderService(this);
        pump = new MessagePump(this);
    }

    public string SiloId { get; }

    public SiloOptions Options { get; }

    public IGrainStore Store { get; }

    /// <summary>Grain reads of this silo's activations, batched while the store is busy.</summary>
    internal StoreReadBatcher Reads { get; }

    public TimeProvider TimeProvider { get; }

    /// <summary>What the store's change feed reported: which copies other silos changed, and how far the feed is caught up.</summary>
    internal GrainChangeTracker Changes { get; }

    /// <summary>True while the store's change feed is connected (cached reads may then trust unchanged copies beyond their max age).</summary>
    public bool ChangeFeedConnected => Changes.IsConnected;

    /// <summary>Completes once the change feed is connected and has reported every announced commit that completed before <paramref name="time"/>.</summary>
    public Task WhenChangeFeedCaughtUpAsync(DateTimeOffset time, CancellationToken ct) => Changes.WhenCaughtUpAsync(time, ct);

    public IGrainFactory GrainFactory { get; }

    public SiloState State => state;

    public SiloMetrics Metrics { get; } = new();

    public int ActivationCount => activations.Count;

    internal GrainTypeRegistry Registry { get; }

    internal IServiceProvider Services { get; }

    internal ILogger Logger { get; }

    internal JsonSerializerOptions Json { get; } = GrainJson.CreateOptions();

    /// <summary>Test hook: runs after a turn that sends messages has committed, before they are delivered.</summary>
    internal Func<TurnCommit, Task>? AfterCommitHook { get; set; }

    public bool HasRole(string role) => Options.EffectiveRoles.Contains(role, StringComparer.Ordinal);

    public async Task StartAsync(CancellationToken ct)
    {
        if (state != SiloState.Created)
        {
            throw new InvalidOperationException($"Silo {SiloId} was already started ({state}).");
        }

        await Store.InitializeAsync(ct).ConfigureAwait(false);
        startedAt = TimeProvider.GetUtcNow();
        await HeartbeatAsync("active", ct).ConfigureAwait(false);
        state = SiloState.Running;
        var token = background.Token;
        loops.Add(Task.Run(() => MaintenanceLoopAsync(token), CancellationToken.None));
        loops.Add(Task.Run(() => pump.RunAsync(token), CancellationToken.None));
        if (Options.UseChangeFeed && Store.ChangeFeed is { } feed)
        {
            loops.Add(Task.Run(() => feed.RunAsync(Changes, TimeProvider, Options.ChangeFeedProbeInterval, token), CancellationToken.None));
        }

        if (HasRole(SiloRoles.Reminders))
        {
            loops.Add(Task.Run(() => reminders.RunAsync(token), CancellationToken.None));
        }

        Logger.LogInformation("Silo {SiloId} started on store {Store} with roles {Roles}", SiloId, Store.Name, string.Join(",", Options.EffectiveRoles));
    }

    /// <summary>Graceful stop: no new claims, running and queued turns finish, leases are given back, membership says stopped.</summary>
    public async Task StopAsync(CancellationToken ct)
    {
        if (state != SiloState.Running)
        {
            return;
        }

        state = SiloState.Stopping;
        await background.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(loops).ConfigureAwait(false);
        using (var drainTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            drainTimeout.CancelAfter(Options.ShutdownDrainTimeout);
            try
            {
                await WhenIdleAsync(drainTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Logger.LogWarning("Silo {SiloId} stopped with {Count} turns still queued", SiloId, Interlocked.Read(ref outstanding));
            }
        }

        state = SiloState.Stopped;
        CloseActivations();
        await Store.ReleaseLeasesAsync(SiloId, CancellationToken.None).ConfigureAwait(false);
        await HeartbeatAsync("stopped", CancellationToken.None).ConfigureAwait(false);
        Logger.LogInformation("Silo {SiloId} stopped gracefully", SiloId);
    }

    /// <summary>Simulates a crash: everything stops at once, nothing is given back; leases expire on their own.</summary>
    public void Kill()
    {
        state = SiloState.Killed;
        background.Cancel();
        CloseActivations();
    }

    public async ValueTask DisposeAsync()
    {
        if (state == SiloState.Running)
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        background.Dispose();
        maintenance.Dispose();
    }

    /// <summary>Members of the cluster with their liveness, for operators and health checks.</summary>
    public async Task<IReadOnlyList<SiloStatus>> GetMembershipAsync(CancellationToken ct)
    {
        var now = TimeProvider.GetUtcNow();
        var deadAfter = Options.HeartbeatInterval * Options.MissedHeartbeatsBeforeDead;
        var silos = await Store.ListSilosAsync(ct).ConfigureAwait(false);
        return silos.Select(s => new SiloStatus(s, s.Status == "active" && now - s.LastHeartbeat <= deadAfter)).ToList();
    }

    /// <summary>Claims and runs everything due now (reminders, outbox), waiting for it; used by tests driving a fake clock.</summary>
    public async Task<int> RunDueWorkAsync(CancellationToken ct)
    {
        if (state != SiloState.Running)
        {
            return 0;
        }

        await MaintainAsync(ct).ConfigureAwait(false);
        var done = await pump.PollOnceAsync(waitForCompletion: true, ct).ConfigureAwait(false);
        if (HasRole(SiloRoles.Reminders))
        {
            done += await reminders.PollOnceAsync(waitForCompletion: true, ct).ConfigureAwait(false);
        }

        return done;
    }

    /// <summary>Completes when no turn is running or queued on this silo and no claim of due work is under way.</summary>
    public async Task WhenIdleAsync(CancellationToken ct)
    {
        while (true)
        {
            var signal = idle.WaitAsync();
            if (Interlocked.Read(ref outstanding) == 0 && !reminders.IsBusy && !pump.IsBusy)
            {
                return;
            }

            await signal.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    internal void SignalIdleCheck() => idle.Set();

    /// <summary>
    /// Runs an idempotent store operation, waiting out transient failures (a restarting database) with
    /// growing pauses, up to <see cref="SiloOptions.StoreOutageTimeout"/> of real time.
    /// </summary>
    internal async Task<T> WithStoreRetryAsync<T>(Func<Task<T>> operation)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var pause = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            try
            {
                return await operation().ConfigureAwait(false);
            }
            catch (Exception ex) when (Store.IsTransient(ex) &&
                                       System.Diagnostics.Stopwatch.GetElapsedTime(started) + pause < Options.StoreOutageTimeout &&
                                       state is SiloState.Running or SiloState.Stopping)
            {
                Logger.LogWarning("Store unavailable on silo {SiloId} ({Error}); retrying in {Pause}", SiloId, ex.Message, pause);
                await Task.Delay(pause).ConfigureAwait(false);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
        }
    }

    internal void EnsureAlive()
    {
        if (state is SiloState.Killed or SiloState.Stopped)
        {
            throw new SiloUnavailableException($"Silo {SiloId} is {state.ToString().ToLowerInvariant()}.");
        }
    }

    internal Task<object?> InvokeAsync(GrainId id, GrainMethod method, object?[] args, bool assumeNew)
    {
        if (state != SiloState.Running && state != SiloState.Stopping)
        {
            return Task.FromException<object?>(new SiloUnavailableException($"Silo {SiloId} is {state.ToString().ToLowerInvariant()}."));
        }

        if (method.SharesAnswer && activations.TryGetValue(id, out var activation) && activation.TryAnswerShared(method, out var answer))
        {
            return Task.FromResult(answer);
        }

        var work = new CallWork(method, args, assumeNew);
        Dispatch(id, work);
        return work.Completion.Task;
    }

    /// <summary>The change feed reported a commit of <paramref name="id"/>: a copy older than <paramref name="version"/> is stale.</summary>
    internal void NoteChanged(GrainId id, long version)
    {
        if (activations.TryGetValue(id, out var activation))
        {
            activation.NoteChanged(version);
        }
    }

    internal async Task FireReminderAsync(ReminderEntry reminder)
    {
        var work = new ReminderWork(reminder);
        Dispatch(reminder.Grain, work);
        await work.Completion.Task.ConfigureAwait(false);
        Metrics.ReminderFired(TimeProvider.GetUtcNow() - reminder.DueAt);
    }

    internal async Task<DeliveryOutcome> DeliverAsync(GrainMessage message)
    {
        var work = new MessageWork(message);
        Dispatch(message.Target, work);
        var outcome = await work.Completion.Task.ConfigureAwait(false);
        if (outcome == DeliveryOutcome.Delivered)
        {
            Metrics.MessagesDeliveredAdd(1);
        }

        return outcome;
    }

    /// <summary>Delivers a message; on failure records the error and schedules the next attempt with exponential backoff.</summary>
    internal async Task DeliverOrDeferAsync(GrainMessage message)
    {
        try
        {
            await DeliverAsync(message).ConfigureAwait(false);
        }
        catch (SiloUnavailableException)
        {
            // A dead or stopped silo leaves the message leased; the lease expires and another silo delivers it.
        }
        catch (Exception ex)
        {
            var attempt = message.Attempts + 1;
            var delay = TimeSpan.FromSeconds(Math.Min(Options.MessageRetryMax.TotalSeconds, Math.Pow(2, Math.Min(attempt - 1, 30))));
            Logger.LogWarning(ex, "Message {MessageId} to {Target}.{Method} failed (attempt {Attempt}); next try in {Delay}", message.Id, message.Target, message.Method, attempt, delay);
            try
            {
                await Store.DeferMessageAsync(message.Id, TimeProvider.GetUtcNow() + delay, Truncate(ex.ToString(), 2000), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception deferError)
            {
                Logger.LogWarning(deferError, "Could not record failure of message {MessageId}; it is retried after its lease", message.Id);
            }
        }
    }

    internal async Task AfterCommitAsync(TurnCommit commit)
    {
        if (AfterCommitHook is { } hook)
        {
            await hook(commit).ConfigureAwait(false);
        }

        foreach (var message in commit.Outgoing)
        {
            if (state is SiloState.Killed or SiloState.Stopped)
            {
                return;
            }

            if (commit.Unsent.Contains(message.Id))
            {
                continue;
            }

            _ = DeliverOrDeferAsync(message);
        }
    }

    /// <summary>
    /// Gives a grain a turn of this silo has just created an activation that holds its stored row (version 1), so its
    /// first turn here reads nothing. An existing activation is left as it is: its next commit finds the new version.
    /// </summary>
    internal void Seed(GrainCreation creation, DateTimeOffset committedAt)
    {
        if (state != SiloState.Running || activations.ContainsKey(creation.Grain))
        {
            return;
        }

        var activation = new Activation(this, creation.Grain, Registry.Get(creation.Grain.Type), (new StoredGrain(1, creation.StateJson), committedAt));
        if (!activations.TryAdd(creation.Grain, activation))
        {
            activation.TryClose(force: true);
        }
    }

    internal TGrain CreateMessageProxy<TGrain>(string key, TurnContext turn, bool onlyIfTargetExists = false)
    {
        var info = Registry.Get(typeof(TGrain));
        var proxy = DispatchProxy.Create(typeof(TGrain), typeof(GrainMessageProxy));
        ((GrainMessageProxy)proxy).Bind(turn, info, new GrainId(info.Name, key), Json, onlyIfTargetExists);
        return (TGrain)proxy;
    }

    internal GrainCreation DescribeCreation<TGrain, TState>(string key, TState state, IReadOnlyList<ReminderChange> reminders)
        where TState : class, new()
    {
        var info = Registry.Get(typeof(TGrain));
        if (!typeof(Grain<TState>).IsAssignableFrom(info.Implementation))
        {
            throw new GrainUsageException($"{info.Implementation.Name} does not keep a {typeof(TState).Name}: a grain is created with its own state type.");
        }

        if (reminders.Count > 0 && info.ReminderMethod is null)
        {
            throw new GrainUsageException($"{info.Implementation.Name} is created with reminders but does not implement IRemindable.");
        }

        return new GrainCreation(
            new GrainId(info.Name, key),
            JsonSerializer.Serialize(state, Json),
            reminders,
            info.Projection is { } projection ? new ProjectionRow(projection, key, projection.Project(state)) : null);
    }

    internal TGrain CreateCallProxy<TGrain>(string key, bool assumeNew = false)
    {
        var info = Registry.Get(typeof(TGrain));
        var proxy = DispatchProxy.Create(typeof(TGrain), typeof(GrainCallProxy));
        ((GrainCallProxy)proxy).Bind(this, info, new GrainId(info.Name, key), assumeNew);
        return (TGrain)proxy;
    }

    internal void WorkFinished(int count)
    {
        if (Interlocked.Add(ref outstanding, -count) == 0)
        {
            idle.Set();
        }
    }

    private void Dispatch(GrainId id, WorkItem work)
    {
        Interlocked.Increment(ref outstanding);
        if (state is SiloState.Killed or SiloState.Stopped)
        {
            WorkFinished(1);
            Fail(work, new SiloUnavailableException($"Silo {SiloId} is {state.ToString().ToLowerInvariant()}."));
            return;
        }

        try
        {
            while (true)
            {
                var activation = activations.GetOrAdd(id, static (grainId, silo) => new Activation(silo, grainId, silo.Registry.Get(grainId.Type)), this);
                if (activation.TryEnqueue(work))
                {
                    return;
                }

                activations.TryRemove(new KeyValuePair<GrainId, Activation>(id, activation));
            }
        }
        catch (Exception ex)
        {
            WorkFinished(1);
            Fail(work, ex);
        }
    }

    private static void Fail(WorkItem work, Exception error)
    {
        switch (work)
        {
            case CallWork call:
                call.Completion.TrySetException(error);
                break;
            case ReminderWork reminder:
                reminder.Completion.TrySetException(error);
                break;
            case MessageWork message:
                message.Completion.TrySetException(error);
                break;
        }
    }

    private void CloseActivations()
    {
        foreach (var (id, activation) in activations)
        {
            activation.TryClose(force: true);
            activations.TryRemove(new KeyValuePair<GrainId, Activation>(id, activation));
        }
    }

    private async Task MaintenanceLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Options.HeartbeatInterval, TimeProvider, ct).ConfigureAwait(false);
                await MaintainAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Logger.LogWarning(ex, "Heartbeat of silo {SiloId} failed", SiloId);
            }
        }
    }

    /// <summary>Heartbeats and collects idle activations when a heartbeat interval has passed since the last one.</summary>
    private async Task MaintainAsync(CancellationToken ct)
    {
        await maintenance.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (TimeProvider.GetUtcNow() - lastHeartbeat >= Options.HeartbeatInterval)
            {
                await HeartbeatAsync("active", ct).ConfigureAwait(false);
                CollectIdleActivations();
            }
        }
        finally
        {
            maintenance.Release();
        }
    }

    private void CollectIdleActivations()
    {
        var cutoff = TimeProvider.GetUtcNow() - Options.IdleActivationTimeout;
        foreach (var (id, activation) in activations)
        {
            if (activation.LastUsed < cutoff && activation.TryClose(force: false))
            {
                activations.TryRemove(new KeyValuePair<GrainId, Activation>(id, activation));
            }
        }
    }

    private Task HeartbeatAsync(string status, CancellationToken ct)
    {
        lastHeartbeat = TimeProvider.GetUtcNow();
        return Store.HeartbeatAsync(new SiloRecord(SiloId, Environment.MachineName, Options.Address, [.. Options.EffectiveRoles], startedAt, lastHeartbeat, status), ct);
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max];

    private sealed class SiloGrainFactory(Silo silo) : IGrainFactory
    {
        public TGrain GetGrain<TGrain>(string key) where TGrain : IGrainWithStringKey
        {
            ArgumentException.ThrowIfNullOrEmpty(key);
            return silo.CreateCallProxy<TGrain>(key);
        }

        public TGrain GetGrain<TGrain>(Guid key) where TGrain : IGrainWithGuidKey => silo.CreateCallProxy<TGrain>(key.ToString("D"));

        public TGrain GetNewGrain<TGrain>(Guid key) where TGrain : IGrainWithGuidKey => silo.CreateCallProxy<TGrain>(key.ToString("D"), assumeNew: true);

        public TGrain GetNewGrain<TGrain>(string key) where TGrain : IGrainWithStringKey
        {
            ArgumentException.ThrowIfNullOrEmpty(key);
            return silo.CreateCallProxy<TGrain>(key, assumeNew: true);
        }
    }
}
