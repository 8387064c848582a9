using CryptoPay.Runtime.Grains;
using CryptoPay.Runtime.Hosting;
using CryptoPay.Runtime.Storage;
using CryptoPay.Runtime.Testing;
using CryptoPay.Runtime.Tests.Grains;
using Microsoft.Extensions.DependencyInjection;

namespace CryptoPay.Runtime.Tests.Conformance;

/// <summary>
/// The guarantees of ARCHITECTURE.md, proven against a store. Each store runs this same suite; a
/// store passes only if it gives exactly these semantics.
/// </summary>
public abstract class RuntimeConformanceTests : IAsyncLifetime
{
    private readonly List<TestCluster> clusters = [];

    protected TestControl Control { get; } = new();

    /// <summary>A fresh, empty store for one test.</summary>
    protected abstract Task<IGrainStore> CreateStoreAsync();

    /// <summary>Reads the projected row of a test counter straight from the store's table.</summary>
    protected abstract Task<(long Value, string? Label)?> ReadProjectedCounterAsync(IGrainStore store, string key);

    public Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var cluster in clusters)
        {
            await cluster.DisposeAsync();
        }
    }

    protected async Task<TestCluster> StartClusterAsync(int silos = 2, IGrainStore? store = null, Action<int, SiloOptions>? configure = null, ManualTimeProvider? clock = null)
    {
        var cluster = await TestCluster.StartAsync(new TestClusterOptions
        {
            Silos = silos,
            Store = store ?? await CreateStoreAsync(),
            Clock = clock ?? new ManualTimeProvider(),
            Grains = TestGrainRegistration.Register,
            Services = s => s.AddSingleton(Control),
            ConfigureSilo = configure,
        });
        clusters.Add(cluster);
        return cluster;
    }

    [Fact]
    public async Task Turns_of_one_grain_are_serial_across_silos()
    {
        var cluster = await StartClusterAsync(silos: 2);
        var calls = Enumerable.Range(0, 2000)
            .Select(i => cluster.FactoryOf(i % 2).GetGrain<ICounterGrain>("hot").Add(1))
            .ToList();
        var results = await Task.WhenAll(calls);

        Assert.Equal(2000, await cluster.FactoryOf(0).GetGrain<ICounterGrain>("hot").Get());
        Assert.Equal(2000, await cluster.FactoryOf(1).GetGrain<ICounterGrain>("hot").Get());
        // Every committed turn saw the previous one: the returned values are exactly 1..2000.
        Assert.Equal(Enumerable.Range(1, 2000).Select(i => (long)i), results.Order());
    }

    [Fact]
    public async Task A_turn_waits_for_the_previous_turn_of_its_grain_but_not_for_other_grains()
    {
        var cluster = await StartClusterAsync(silos: 1);
        var factory = cluster.FactoryOf(0);
        var blocked = factory.GetGrain<ICounterGrain>("a").AddWhenGateOpens(10, "gate-a");
        await Control.Entered("gate-a").Task;

        var sameGrain = factory.GetGrain<ICounterGrain>("a").Add(1);
        Assert.Equal(5, await factory.GetGrain<ICounterGrain>("b").Add(5));
        Assert.False(sameGrain.IsCompleted);
        Assert.False(blocked.IsCompleted);

        Control.Gate("gate-a").SetResult();
        Assert.Equal(10, await blocked);
        Assert.Equal(11, await sameGrain);
    }

    [Fact]
    public async Task A_throwing_turn_leaves_no_state_reminder_or_message()
    {
        var cluster = await StartClusterAsync(silos: 1);
        var counter = cluster.Client.GetGrain<ICounterGrain>("atomic");
        await counter.Add(7);

        await Assert.ThrowsAsync<InvalidOperationException>(() => counter.AddEverythingThenThrow(100, "acc-atomic"));
        await cluster.AdvanceTimeAsync(TimeSpan.FromMinutes(5));

        Assert.Equal(7, await counter.Get());
        Assert.Empty(await cluster.Store.GetRemindersAsync(new GrainId("test-counter", "atomic"), CancellationToken.None));
        var accumulator = await cluster.Client.GetGrain<IAccumulatorGrain>("acc-atomic").Read();
        Assert.Equal(0, accumulator.Total);
        var backlog = await cluster.Store.GetBacklogAsync(cluster.Time.GetUtcNow(), CancellationToken.None);
        Assert.Equal(0, backlog.PendingMessages);
    }

    [Fact]
    public async Task A_returned_call_is_visible_from_every_silo_and_survives_the_silo()
    {
        var cluster = await StartClusterAsync(silos: 2);
        Assert.Equal(42, await cluster.FactoryOf(0).GetGrain<ICounterGrain>("durable").Add(42));
        // Silo 1 may hold a stale activation; its answer must still be current.
        Assert.Equal(42, await cluster.FactoryOf(1).GetGrain<ICounterGrain>("durable").Get());
        Assert.Equal(43, await cluster.FactoryOf(1).GetGrain<ICounterGrain>("durable").Add(1));
        Assert.Equal(43, await cluster.FactoryOf(0).GetGrain<ICounterGrain>("durable").Get());

        cluster.KillSilo(0);
        await Assert.ThrowsAsync<SiloUnavailableException>(() => cluster.FactoryOf(0).GetGrain<ICounterGrain>("durable").Get());
        await using var fresh = await TestCluster.StartAsync(new TestClusterOptions
        {
            Silos = 1,
            Store = cluster.Store,
            Grains = TestGrainRegistration.Register,
            Services = s => s.AddSingleton(Control),
        });
        Assert.Equal(43, await fresh.Client.GetGrain<ICounterGrain>("durable").Get());
    }

    [Fact]
    public async Task A_stale_activation_replays_its_turn_on_current_state()
    {
        var cluster = await StartClusterAsync(silos: 2);
        var onSilo0 = cluster.FactoryOf(0).GetGrain<ICounterGrain>("stale");
        var onSilo1 = cluster.FactoryOf(1).GetGrain<ICounterGrain>("stale");
        await onSilo0.Add(1);
        await onSilo1.Add(1);
        // Silo 0's activation still holds version 1; its next turn must see silo 1's write.
        Assert.Equal(3, await onSilo0.Add(1));
        Assert.Equal(13, await onSilo1.Add(10));
        Assert.Equal(14, await onSilo0.Add(1));
    }

    [Fact]
    public async Task A_reminder_never_fires_early_and_fires_once()
    {
        var cluster = await StartClusterAsync(silos: 2);
        var alarm = cluster.Client.GetGrain<IAlarmGrain>("early");
        await alarm.Schedule("wake", TimeSpan.FromSeconds(10), period: null);

        await cluster.AdvanceTimeAsync(TimeSpan.FromSeconds(10) - TimeSpan.FromMilliseconds(1));
        Assert.Empty(await alarm.Fired());

        await cluster.AdvanceTimeAsync(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["wake"], await alarm.Fired());
        var tick = Assert.Single(Control.Ticks);
        Assert.True(tick.FiredAt >= tick.DueAt, $"fired at {tick.FiredAt:O}, due at {tick.DueAt:O}");

        await cluster.AdvanceTimeAsync(TimeSpan.FromHours(1));
        Assert.Equal(["wake"], await alarm.Fired());
        Assert.Empty(await cluster.Store.GetRemindersAsync(new GrainId("test-alarm", "early"), CancellationToken.None));
    }

    [Fact]
    public async Task A_periodic_reminder_ticks_each_period_until_unregistered()
    {
        var cluster = await StartClusterAsync(silos: 2);
        var alarm = cluster.Client.GetGrain<IAlarmGrain>("periodic");
        await alarm.Schedule("tick", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));

        for (var i = 0; i < 3; i++)
        {
            await cluster.AdvanceTimeAsync(TimeSpan.FromSeconds(5));
        }

        Assert.Equal(3, (await alarm.Fired()).Count);
        var dues = Control.Ticks.Select(t => t.DueAt).ToList();
        Assert.Equal([TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5)], dues.Zip(dues.Skip(1), (a, b) => b - a));

        await alarm.Cancel("tick");
        await cluster.AdvanceTimeAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(3, (await alarm.Fired()).Count);
    }

    [Fact]
    public async Task A_late_periodic_reminder_fires_once_and_keeps_its_rhythm()
    {
        var cluster = await StartClusterAsync(silos: 1);
        var alarm = cluster.Client.GetGrain<IAlarmGrain>("late");
        await alarm.Schedule("tick", TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
        var start = cluster.Time.GetUtcNow();

        await cluster.AdvanceTimeAsync(TimeSpan.FromSeconds(35));

        Assert.Single(await alarm.Fired());
        var reminder = Assert.Single(await cluster.Store.GetRemindersAsync(new GrainId("test-alarm", "late"), CancellationToken.None));
        Assert.Equal(start + TimeSpan.FromSeconds(40), reminder.DueAt);
    }

    [Fact]
    public async Task An_unregistered_reminder_never_fires()
    {
        var cluster = await StartClusterAsync(silos: 2);
        var alarm = cluster.Client.GetGrain<IAlarmGrain>("cancelled");
        await alarm.Schedule("never", TimeSpan.FromSeconds(3), period: null);
        await alarm.Cancel("never");
        await cluster.AdvanceTimeAsync(TimeSpan.FromMinutes(10));
        Assert.Empty(await alarm.Fired());
    }

    [Fact]
    public async Task A_reminder_claimed_by_a_silo_that_dies_fires_on_another_after_the_lease()
    {
        var lease = TimeSpan.FromSeconds(30);
        var cluster = await StartClusterAsync(silos: 2, configure: (_, o) => o.ReminderLease = lease);
        var alarm = cluster.FactoryOf(1).GetGrain<IAlarmGrain>("orphan");
        await alarm.Schedule("wake", TimeSpan.FromSeconds(1), period: null);

        // Silo 0 claims the due reminder and dies before firing it.
        cluster.Clock!.Advance(TimeSpan.FromSeconds(1));
        var claimed = await cluster.Store.ClaimDueRemindersAsync(cluster.Silos[0].SiloId, cluster.Time.GetUtcNow(), lease, 10, CancellationToken.None);
        Assert.Single(claimed);
        cluster.KillSilo(0);

        await cluster.AdvanceTimeAsync(lease - TimeSpan.FromSeconds(1));
        Assert.Empty(await alarm.Fired());

        await cluster.AdvanceTimeAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(["wake"], await alarm.Fired());
    }

    [Fact]
    public async Task A_failing_reminder_is_retried_until_it_succeeds()
    {
        var cluster = await StartClusterAsync(silos: 1, configure: (_, o) => o.ReminderRetryDelay = TimeSpan.FromSeconds(5));
        var alarm = cluster.Client.GetGrain<IAlarmGrain>("flaky");
        await alarm.Schedule("wake", TimeSpan.FromSeconds(1), period: null);
        Control.FailNext("flaky", 2);

        await cluster.AdvanceTimeAsync(TimeSpan.FromSeconds(1));
        await cluster.AdvanceTimeAsync(TimeSpan.FromSeconds(5));
        Assert.Empty(await alarm.Fired());

        await cluster.AdvanceTimeAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(["wake"], await alarm.Fired());
    }

    [Fact]
    public async Task A_message_is_applied_exactly_once_when_the_receiver_throws()
    {
        var cluster = await StartClusterAsync(silos: 2);
        Control.FailNext("acc-throws", 3);

        await cluster.FactoryOf(0).GetGrain<ICounterGrain>("sender").AddAndForward(5, "acc-throws", "op-1");
        var accumulator = cluster.FactoryOf(1).GetGrain<IAccumulatorGrain>("acc-throws");
        Assert.Equal(0, (await accumulator.Read()).Total);

        // Retries back off 1 s, 2 s, 4 s ...; five minutes covers them all.
        for (var i = 0; i < 10; i++)
        {
            await cluster.AdvanceTimeAsync(TimeSpan.FromSeconds(30));
        }

        var state = await accumulator.Read();
        Assert.Equal(5, state.Total);
        Assert.Equal(1, state.Operations["op-1"]);
        Assert.Equal(0, (await cluster.Store.GetBacklogAsync(cluster.Time.GetUtcNow(), CancellationToken.None)).PendingMessages);
    }

    [Fact]
    public async Task A_message_sent_by_a_silo_that_dies_after_commit_is_delivered_by_another()
    {
        var lease = TimeSpan.FromSeconds(30);
        var cluster = await StartClusterAsync(silos: 2, configure: (_, o) => o.MessageLease = lease);
        var sender = cluster.Silos[0];
        sender.AfterCommitHook = _ =>
        {
            sender.Kill();
            return Task.CompletedTask;
        };

        Assert.Equal(9, await sender.GrainFactory.GetGrain<ICounterGrain>("dying-sender").AddAndForward(9, "acc-orphan", "op-orphan"));
        var accumulator = cluster.FactoryOf(1).GetGrain<IAccumulatorGrain>("acc-orphan");
        await cluster.AdvanceTimeAsync(lease - TimeSpan.FromSeconds(1));
        Assert.Equal(0, (await accumulator.Read()).Total);

        await cluster.AdvanceTimeAsync(TimeSpan.FromSeconds(1));
        var state = await accumulator.Read();
        Assert.Equal(9, state.Total);
        Assert.Equal(1, state.Operations["op-orphan"]);
    }

    [Fact]
    public async Task A_message_delivered_twice_concurrently_is_applied_once()
    {
        var lease = TimeSpan.FromSeconds(30);
        var cluster = await StartClusterAsync(silos: 2, configure: (_, o) => o.MessageLease = lease);
        var sender = cluster.Silos[0];
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        sender.AfterCommitHook = _ => release.Task;

        // The sending silo commits, then stalls before its own delivery until the lease has run out.
        var send = sender.GrainFactory.GetGrain<ICounterGrain>("slow-sender").AddAndForward(3, "acc-twice", "op-twice");
        while (!(await cluster.Store.GetBacklogAsync(cluster.Time.GetUtcNow(), CancellationToken.None)).PendingMessages.Equals(1L))
        {
            await Task.Yield();
        }

        // Only silo 1 runs due work: silo 0 is stalled inside its sending turn.
        cluster.Clock!.Advance(lease);
        await cluster.Silos[1].RunDueWorkAsync(CancellationToken.None);
        await cluster.Silos[1].WhenIdleAsync(CancellationToken.None);
        var accumulator = cluster.FactoryOf(1).GetGrain<IAccumulatorGrain>("acc-twice");
        Assert.Equal(3, (await accumulator.Read()).Total);

        release.SetResult();
        await send;
        await cluster.RunUntilIdleAsync();
        var state = await accumulator.Read();
        Assert.Equal(3, state.Total);
        Assert.Equal(1, state.Operations["op-twice"]);
        Assert.Single(state.MessageIds);
    }

    [Fact]
    public async Task Many_messages_to_one_grain_are_applied_once_each_in_batched_turns()
    {
        var cluster = await StartClusterAsync(silos: 2);
        var sends = Enumerable.Range(0, 400)
            .Select(i => cluster.FactoryOf(i % 2).GetGrain<ICounterGrain>($"sender-{i % 40}").AddAndForward(1, "acc-hot", $"op-{i}"));
        await Task.WhenAll(sends);
        await cluster.RunUntilIdleAsync();

        var state = await cluster.Client.GetGrain<IAccumulatorGrain>("acc-hot").Read();
        Assert.Equal(400, state.Total);
        Assert.All(state.Operations.Values, count => Assert.Equal(1, count));
        Assert.Equal(400, state.MessageIds.Distinct().Count());
        var stored = await cluster.Store.ReadAsync(new GrainId("test-accumulator", "acc-hot"), -1, CancellationToken.None);
        Assert.True(stored.Version < 400, $"400 messages took {stored.Version} turns: pending messages of a grain must share turns");
    }

    [Fact]
    public async Task Silos_register_heartbeat_and_are_seen_dead_or_stopped()
    {
        var cluster = await StartClusterAsync(silos: 3, configure: (i, o) =>
        {
            o.HeartbeatInterval = TimeSpan.FromSeconds(5);
            o.Roles = i == 2 ? [SiloRoles.Api] : [.. SiloRoles.All];
        });
        var members = await cluster.Silos[0].GetMembershipAsync(CancellationToken.None);
        Assert.Equal(3, members.Count(m => m.IsAlive));
        Assert.Equal([SiloRoles.Api], members.Single(m => m.Record.SiloId == cluster.Silos[2].SiloId).Record.Roles);

        cluster.KillSilo(1);
        await cluster.StopSiloAsync(2);
        for (var i = 0; i < 4; i++)
        {
            await cluster.AdvanceTimeAsync(TimeSpan.FromSeconds(5));
        }

        members = await cluster.Silos[0].GetMembershipAsync(CancellationToken.None);
        Assert.True(members.Single(m => m.Record.SiloId == cluster.Silos[0].SiloId).IsAlive);
        var killed = members.Single(m => m.Record.SiloId == cluster.Silos[1].SiloId);
        Assert.False(killed.IsAlive);
        Assert.Equal("active", killed.Record.Status);
        var stopped = members.Single(m => m.Record.SiloId == cluster.Silos[2].SiloId);
        Assert.False(stopped.IsAlive);
        Assert.Equal("stopped", stopped.Record.Status);
    }

    [Fact]
    public async Task A_silo_without_the_reminders_role_fires_no_reminders()
    {
        var cluster = await StartClusterAsync(silos: 1, configure: (_, o) => o.Roles = [SiloRoles.Api]);
        var alarm = cluster.Client.GetGrain<IAlarmGrain>("no-role");
        await alarm.Schedule("wake", TimeSpan.FromSeconds(1), period: null);
        await cluster.AdvanceTimeAsync(TimeSpan.FromMinutes(1));
        Assert.Empty(await alarm.Fired());

        await cluster.RestartSiloAsync(0);
        Assert.Empty(await cluster.Client.GetGrain<IAlarmGrain>("no-role").Fired());
    }

    [Fact]
    public async Task Graceful_stop_finishes_running_turns_and_then_refuses_calls()
    {
        var cluster = await StartClusterAsync(silos: 2);
        var silo = cluster.Silos[0];
        var running = silo.GrainFactory.GetGrain<ICounterGrain>("draining").AddWhenGateOpens(4, "gate-drain");
        await Control.Entered("gate-drain").Task;

        var stopping = silo.StopAsync(CancellationToken.None);
        Assert.False(stopping.IsCompleted);
        Control.Gate("gate-drain").SetResult();
        await stopping;

        Assert.Equal(4, await running);
        Assert.Equal(SiloState.Stopped, silo.State);
        await Assert.ThrowsAsync<SiloUnavailableException>(() => silo.GrainFactory.GetGrain<ICounterGrain>("draining").Get());
        Assert.Equal(4, await cluster.FactoryOf(1).GetGrain<ICounterGrain>("draining").Get());
    }

    [Fact]
    public async Task Graceful_stop_hands_claimed_reminders_to_other_silos_at_once()
    {
        var cluster = await StartClusterAsync(silos: 2, configure: (_, o) => o.ReminderLease = TimeSpan.FromMinutes(5));
        var alarm = cluster.FactoryOf(1).GetGrain<IAlarmGrain>("handover");
        await alarm.Schedule("wake", TimeSpan.FromSeconds(1), period: null);
        cluster.Clock!.Advance(TimeSpan.FromSeconds(1));
        await cluster.Store.ClaimDueRemindersAsync(cluster.Silos[0].SiloId, cluster.Time.GetUtcNow(), TimeSpan.FromMinutes(5), 10, CancellationToken.None);

        await cluster.StopSiloAsync(0);
        await cluster.AdvanceTimeAsync(TimeSpan.FromMilliseconds(200));

        Assert.Equal(["wake"], await alarm.Fired());
    }

    [Fact]
    public async Task A_projected_grain_type_keeps_its_typed_row_in_step_with_its_state()
    {
        var cluster = await StartClusterAsync(silos: 1);
        var counter = cluster.Client.GetGrain<ICounterGrain>("projected");
        await counter.Add(12);
        await counter.SetLabel("twelve");
        await Assert.ThrowsAsync<InvalidOperationException>(() => counter.AddEverythingThenThrow(1, "acc-projection"));

        Assert.Equal((12L, "twelve"), await ReadProjectedCounterAsync(cluster.Store, "projected"));
    }

    [Fact]
    public async Task A_caller_gets_a_copy_of_the_result_not_the_grains_live_state()
    {
        var cluster = await StartClusterAsync(silos: 1);
        await cluster.FactoryOf(0).GetGrain<ICounterGrain>("copy-sender").AddAndForward(1, "acc-copy", "op-a");
        await cluster.RunUntilIdleAsync();
        var accumulator = cluster.Client.GetGrain<IAccumulatorGrain>("acc-copy");

        var read = await accumulator.Read();
        read.Operations["forged"] = 99;
        read.Total = 1_000;

        var again = await accumulator.Read();
        Assert.Equal(1, again.Total);
        Assert.Equal(["op-a"], again.Operations.Keys);

        // A result that was the whole state is the caller's alone: changing it leaks into no later turn, reads or writes.
        again.Total = 5_000;
        await accumulator.Credit("op-b", 2);
        var afterWrite = await accumulator.Read();
        Assert.Equal(3, afterWrite.Total);
        Assert.Equal(["op-a", "op-b"], afterWrite.Operations.Keys.Order());
    }

    [Fact]
    public async Task A_message_sent_if_the_target_exists_is_dropped_for_a_never_stored_target_and_delivered_once_otherwise()
    {
        var cluster = await StartClusterAsync(silos: 2);
        var sender = cluster.FactoryOf(0).GetGrain<ICounterGrain>("conditional-sender");
        await cluster.FactoryOf(1).GetGrain<IAccumulatorGrain>("acc-stored").Credit("seed", 10);

        await sender.AddAndForwardIfStored(1, "acc-never-stored", "op-dropped");
        await sender.AddAndForwardIfStored(2, "acc-stored", "op-kept");
        await cluster.RunUntilIdleAsync();

        Assert.Equal(3, await sender.Get());
        var stored = await cluster.Client.GetGrain<IAccumulatorGrain>("acc-stored").Read();
        Assert.Equal(12, stored.Total);
        Assert.Equal(1, stored.Operations["op-kept"]);
        var never = await cluster.Client.GetGrain<IAccumulatorGrain>("acc-never-stored").Read();
        Assert.Equal(0, never.Total);
        Assert.Equal(0, (await cluster.Store.ReadAsync(new GrainId("test-accumulator", "acc-never-stored"), -1, CancellationToken.None)).Version);
        Assert.Equal(0, (await cluster.Store.GetBacklogAsync(cluster.Time.GetUtcNow(), CancellationToken.None)).PendingMessages);
    }

    [Fact]
    public async Task Many_grains_read_in_one_call_answer_in_order_with_state_only_when_changed()
    {
        var cluster = await StartClusterAsync(silos: 1);
        await cluster.Client.GetGrain<ICounterGrain>("many-a").Add(1);
        await cluster.Client.GetGrain<ICounterGrain>("many-b").Add(2);
        await cluster.Client.GetGrain<ICounterGrain>("many-b").Add(3);

        var read = await cluster.Store.ReadManyAsync(
            [
                new GrainRead(new GrainId("test-counter", "many-b"), 1),
                new GrainRead(new GrainId("test-counter", "many-missing"), -1),
                new GrainRead(new GrainId("test-counter", "many-a"), 1),
                new GrainRead(new GrainId("test-counter", "many-b"), -1),
            ],
            CancellationToken.None);

        Assert.Equal([2L, 0L, 1L, 2L], read.Select(r => r.Version));
        Assert.Contains("5", read[0].StateJson, StringComparison.Ordinal);
        Assert.Null(read[1].StateJson);
        Assert.Null(read[2].StateJson);
        Assert.Equal(read[0].StateJson, read[3].StateJson);
    }

    [Fact]
    public async Task Concurrent_cached_reads_of_many_grains_stay_exact()
    {
        var cluster = await StartClusterAsync(silos: 2);
        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => cluster.FactoryOf(i % 2).GetGrain<ICounterGrain>($"batched-{i}").Add(i)));

        // Reads from the silo that did not write check versions, many at once (batched by the silo), and all see the writes.
        var values = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => cluster.FactoryOf((i + 1) % 2).GetGrain<ICounterGrain>($"batched-{i}").Get()));
        Assert.Equal(Enumerable.Range(0, 200).Select(i => (long)i), values);
    }

    [Fact]
    public async Task A_failed_commit_writes_nothing_of_the_turn()
    {
        var store = await CreateStoreAsync();
        await store.InitializeAsync(CancellationToken.None);
        var grain = new GrainId("test-counter", "conflicted");
        var now = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        TurnCommit Commit(long expected, string state) => new()
        {
            Grain = grain,
            ExpectedVersion = expected,
            StateJson = state,
            SiloId = "silo-x",
            Now = now,
            Reminders = [new ReminderChange("r", now, null)],
            Outgoing = [new GrainMessage(Guid.NewGuid(), new GrainId("test-accumulator", "a"), "Credit", "[\"op\",1]", grain, now, now)],
        };
        Assert.Equal(1, await store.CommitAsync(Commit(0, "{\"value\":1}"), CancellationToken.None));
        var backlog = await store.GetBacklogAsync(now, CancellationToken.None);

        var stale = await Assert.ThrowsAsync<ConcurrencyConflictException>(() => store.CommitAsync(Commit(0, "{\"value\":2}") with { Reminders = [new ReminderChange("other", now, null)] }, CancellationToken.None));
        Assert.Equal(ConflictKind.Version, stale.Kind);
        var consumedTwice = await Assert.ThrowsAsync<ConcurrencyConflictException>(() => store.CommitAsync(Commit(1, "{\"value\":3}") with { Consumed = [Guid.NewGuid()] }, CancellationToken.None));
        Assert.Equal(ConflictKind.MessageConsumed, consumedTwice.Kind);

        var stored = await store.ReadAsync(grain, -1, CancellationToken.None);
        Assert.Equal(1, stored.Version);
        Assert.Contains("1", stored.StateJson, StringComparison.Ordinal);
        Assert.Equal(["r"], (await store.GetRemindersAsync(grain, CancellationToken.None)).Select(r => r.Name));
        Assert.Equal(backlog.PendingMessages, (await store.GetBacklogAsync(now, CancellationToken.None)).PendingMessages);
    }

    [Fact]
    public async Task Concurrent_commits_of_many_grains_answer_each_turn_alone_when_one_of_them_conflicts()
    {
        var store = await CreateStoreAsync();
        await store.InitializeAsync(CancellationToken.None);
        var now = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        TurnCommit Commit(string key, long expected) => new()
        {
            Grain = new GrainId("test-counter", key),
            ExpectedVersion = expected,
            StateJson = "{\"value\":1}",
            SiloId = "silo-x",
            Now = now,
            Reminders = [new ReminderChange("r", now.AddHours(1), null)],
        };
        Assert.Equal(1, await store.CommitAsync(Commit("grouped-stale", 0), CancellationToken.None));

        // Many commits at once are grouped into shared transactions by the PostgreSQL store; the stale one must fail alone.
        var commits = Enumerable.Range(0, 60).Select(i => i == 30 ? Commit("grouped-stale", 0) : Commit($"grouped-{i}", 0)).ToList();
        var outcomes = await Task.WhenAll(commits.Select(async c =>
        {
            try
            {
                return await store.CommitAsync(c, CancellationToken.None);
            }
            catch (ConcurrencyConflictException)
            {
                return -1L;
            }
        }));

        Assert.Equal(-1, outcomes[30]);
        Assert.All(outcomes.Where((_, i) => i != 30), v => Assert.Equal(1, v));
        foreach (var i in Enumerable.Range(0, 60).Where(i => i != 30))
        {
            Assert.Equal(1, (await store.ReadAsync(new GrainId("test-counter", $"grouped-{i}"), -1, CancellationToken.None)).Version);
            Assert.Equal(["r"], (await store.GetRemindersAsync(new GrainId("test-counter", $"grouped-{i}"), CancellationToken.None)).Select(r => r.Name));
        }

        Assert.Equal(1, (await store.ReadAsync(new GrainId("test-counter", "grouped-stale"), -1, CancellationToken.None)).Version);
    }

    [Fact]
    public async Task An_in_doubt_commit_is_resolved_by_its_turn_id()
    {
        var store = await CreateStoreAsync();
        await store.InitializeAsync(CancellationToken.None);
        var grain = new GrainId("test-counter", "in-doubt");
        var now = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var turns = new List<Guid>();
        for (var version = 0; version < 12; version++)
        {
            var commit = new TurnCommit { Grain = grain, ExpectedVersion = version, StateJson = $"{{\"value\":{version + 1}}}", SiloId = "s", Now = now };
            turns.Add(commit.TurnId);
            await store.CommitAsync(commit, CancellationToken.None);
        }

        Assert.Equal(CommitResolution.Committed, await store.ResolveCommitAsync(grain, 11, turns[11], CancellationToken.None));
        Assert.Equal(CommitResolution.Committed, await store.ResolveCommitAsync(grain, 4, turns[4], CancellationToken.None));
        Assert.Equal(CommitResolution.NotCommitted, await store.ResolveCommitAsync(grain, 12, Guid.NewGuid(), CancellationToken.None));
        Assert.Equal(CommitResolution.NotCommitted, await store.ResolveCommitAsync(grain, 4, Guid.NewGuid(), CancellationToken.None));
        // Nine commits later the row no longer remembers every turn since version 3: say so rather than guess.
        Assert.Equal(CommitResolution.Unknown, await store.ResolveCommitAsync(grain, 3, Guid.NewGuid(), CancellationToken.None));
        Assert.Equal(CommitResolution.NotCommitted, await store.ResolveCommitAsync(new GrainId("test-counter", "never"), 0, Guid.NewGuid(), CancellationToken.None));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Random_calls_kills_restarts_and_clock_jumps_never_lose_or_double_an_effect(int seed)
    {
        var random = new Random(seed);
        var cluster = await StartClusterAsync(silos: 3, configure: (_, o) =>
        {
            o.MessageLease = TimeSpan.FromSeconds(20);
            o.ReminderLease = TimeSpan.FromSeconds(20);
        });
        var acknowledged = new List<(string Counter, string Operation, long Amount)>();
        var operation = 0;
        try
        {
            for (var step = 0; step < 60; step++)
            {
                var batch = Enumerable.Range(0, random.Next(1, 25)).Select(_ =>
                {
                    var silo = random.Next(3);
                    var counter = $"chaos-{random.Next(8)}";
                    var op = $"op-{++operation}";
                    var amount = random.Next(1, 1000);
                    var call = cluster.Silos[silo].GrainFactory.GetGrain<ICounterGrain>(counter).AddAndForward(amount, $"acc-{random.Next(3)}", op);
                    return (Call: call, Counter: counter, Op: op, Amount: (long)amount);
                }).ToList();

                switch (random.Next(10))
                {
                    case 0 when cluster.Silos.Count(s => s.State == SiloState.Running) > 1:
                        cluster.KillSilo(cluster.Silos.Select((s, i) => (s, i)).Where(x => x.s.State == SiloState.Running).Select(x => x.i).First());
                        break;
                    case 1:
                        var down = cluster.Silos.Select((s, i) => (s, i)).Where(x => x.s.State != SiloState.Running).Select(x => x.i).ToList();
                        if (down.Count > 0)
                        {
                            await cluster.RestartSiloAsync(down[random.Next(down.Count)]);
                        }

                        break;
                    case 2:
                        await cluster.AdvanceTimeAsync(TimeSpan.FromSeconds(random.Next(1, 40)));
                        break;
                }

                foreach (var (call, counter, op, amount) in batch)
                {
                    try
                    {
                        await call;
                        acknowledged.Add((counter, op, amount));
                    }
                    catch (SiloUnavailableException)
                    {
                        // Killed before or after commit: either outcome is allowed, never both.
                    }
                }
            }

            for (var i = 0; i < 3; i++)
            {
                if (cluster.Silos[i].State != SiloState.Running)
                {
                    await cluster.RestartSiloAsync(i);
                }
            }

            for (var i = 0; i < 30; i++)
            {
                await cluster.AdvanceTimeAsync(TimeSpan.FromSeconds(30));
            }

            var counters = new Dictionary<string, long>();
            for (var i = 0; i < 8; i++)
            {
                counters[$"chaos-{i}"] = await cluster.Client.GetGrain<ICounterGrain>($"chaos-{i}").Get();
            }

            var accumulators = new List<AccumulatorState>();
            for (var i = 0; i < 3; i++)
            {
                accumulators.Add(await cluster.Client.GetGrain<IAccumulatorGrain>($"acc-{i}").Read());
            }

            var credited = accumulators.SelectMany(a => a.Operations).ToList();
            Assert.All(credited, c => Assert.Equal(1, c.Value));
            Assert.Equal(credited.Count, credited.Select(c => c.Key).Distinct().Count());
            var creditedOps = credited.Select(c => c.Key).ToHashSet();
            Assert.All(acknowledged, a => Assert.Contains(a.Operation, creditedOps));
            Assert.Equal(counters.Values.Sum(), accumulators.Sum(a => a.Total));
            foreach (var group in acknowledged.GroupBy(a => a.Counter))
            {
                Assert.True(counters[group.Key] >= group.Sum(a => a.Amount), $"{group.Key} lost acknowledged additions");
            }

            Assert.Equal(0, (await cluster.Store.GetBacklogAsync(cluster.Time.GetUtcNow(), CancellationToken.None)).PendingMessages);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new InvalidOperationException($"Seed {seed} failed after {operation} operations ({acknowledged.Count} acknowledged); rerun this seed to replay.", ex);
        }
    }

    [Fact]
    public async Task A_cached_read_is_current_on_one_silo_and_at_most_its_max_age_behind_across_silos()
    {
        // Without the change feed: the max age alone bounds how far behind another silo's commit a copy may be.
        var cluster = await StartClusterAsync(silos: 2, configure: (_, o) => o.UseChangeFeed = false);
        var onSilo0 = cluster.FactoryOf(0).GetGrain<ICounterGrain>("cached");
        var onSilo1 = cluster.FactoryOf(1).GetGrain<ICounterGrain>("cached");
        await onSilo0.Add(1);
        Assert.Equal(1, await onSilo0.GetCached());
        Assert.Equal(1, await onSilo1.GetCached());

        await onSilo0.Add(1);
        Assert.Equal(2, await onSilo0.GetCached());
        // Silo 1 confirmed its copy just now and may answer from it within the max age ...
        Assert.Equal(1, await onSilo1.GetCached());
        Assert.Equal(2, await onSilo1.Get());

        await onSilo0.Add(1);
        await cluster.AdvanceTimeAsync(TimeSpan.FromMilliseconds(1001));
        // ... but never later than that.
        Assert.Equal(3, await onSilo1.GetCached());
    }

    [Fact]
    public async Task With_the_change_feed_a_copy_nobody_changed_is_trusted_beyond_the_max_age_and_a_reported_change_at_once()
    {
        var cluster = await StartClusterAsync(silos: 2);
        var onSilo0 = cluster.FactoryOf(0).GetGrain<ICounterGrain>("feed");
        var onSilo1 = cluster.FactoryOf(1).GetGrain<ICounterGrain>("feed");
        var silo1 = cluster.Silos[1];
        await onSilo0.Add(1);
        // A copy confirmed before the feed connected is trusted for its max age only: let it connect first.
        await silo1.Changes.WhenCaughtUpAsync(cluster.Time.GetUtcNow(), CancellationToken.None);
        Assert.Equal(1, await onSilo1.GetCached());

        await cluster.AdvanceTimeAsync(TimeSpan.FromSeconds(5));
        await silo1.Changes.WhenCaughtUpAsync(cluster.Time.GetUtcNow(), CancellationToken.None);
        var reads = silo1.Metrics.GrainReads;
        Assert.Equal(1, await onSilo1.GetCached());
        Assert.Equal(1, await onSilo1.GetShared());
        Assert.Equal(1, await onSilo1.GetShared());
        Assert.Equal(reads, silo1.Metrics.GrainReads);

        // Another silo's change, once the feed has caught up past it, is never answered from the old copy,
        // even within the max age of the copy's last confirmation.
        await onSilo0.Add(1);
        await cluster.AdvanceTimeAsync(TimeSpan.FromMilliseconds(1));
        await silo1.Changes.WhenCaughtUpAsync(cluster.Time.GetUtcNow(), CancellationToken.None);
        Assert.Equal(2, await onSilo1.GetShared());
        Assert.Equal(2, await onSilo1.GetCached());
    }

    [Fact]
    public async Task A_shared_cached_read_answers_every_change_of_its_own_silo_and_waits_for_a_running_turn()
    {
        var cluster = await StartClusterAsync(silos: 1);
        var counter = cluster.FactoryOf(0).GetGrain<ICounterGrain>("shared");
        await counter.Add(1);
        Assert.Equal(1, await counter.GetShared());
        Assert.Equal(2, await counter.Add(1));
        Assert.Equal(2, await counter.GetShared());

        var running = counter.AddWhenGateOpens(10, "shared-gate");
        await Control.Entered("shared-gate").Task;
        var read = counter.GetShared();
        Assert.False(read.IsCompleted);
        Control.Gate("shared-gate").SetResult();
        Assert.Equal(12, await running);
        Assert.Equal(12, await read);
    }

    [Fact]
    public async Task A_cached_read_trusts_its_copy_for_the_max_age_only_once_the_feed_lags_or_reconnected()
    {
        // Silo 1 follows a scripted feed (its own is off), so lag and a lost connection happen exactly when the test says.
        var cluster = await StartClusterAsync(silos: 2, configure: (_, o) => o.UseChangeFeed = false);
        var clock = cluster.Clock!;
        var feed = cluster.Silos[1].Changes;
        var onSilo0 = cluster.FactoryOf(0).GetGrain<ICounterGrain>("scripted");
        var onSilo1 = cluster.FactoryOf(1).GetGrain<ICounterGrain>("scripted");
        await onSilo0.Add(1);
        feed.Connected(clock.GetUtcNow(), synchronous: false);
        Assert.Equal(1, await onSilo1.GetShared());

        // Caught up 2 s later: the copy is current as of then, although confirmed 2 s ago.
        await cluster.AdvanceTimeAsync(TimeSpan.FromSeconds(2));
        feed.CaughtUp(clock.GetUtcNow());
        var reads = cluster.Silos[1].Metrics.GrainReads;
        Assert.Equal(1, await onSilo1.GetShared());
        Assert.Equal(1, await onSilo1.GetCached());
        Assert.Equal(reads, cluster.Silos[1].Metrics.GrainReads);

        // The feed falls silent: past the max age behind its last proof, the store decides again.
        await onSilo0.Add(1);
        await cluster.AdvanceTimeAsync(TimeSpan.FromMilliseconds(1001));
        Assert.Equal(2, await onSilo1.GetShared());
        Assert.True(cluster.Silos[1].Metrics.GrainReads > reads);

        // A change committed while the feed was disconnected went unreported: after the reconnect the old copy
        // is not trusted beyond its max age, however current the new connection is.
        await onSilo0.Add(1);
        feed.Disconnected();
        await cluster.AdvanceTimeAsync(TimeSpan.FromMilliseconds(1001));
        feed.Connected(clock.GetUtcNow(), synchronous: false);
        feed.CaughtUp(clock.GetUtcNow());
        Assert.Equal(3, await onSilo1.GetShared());
        Assert.Equal(3, await onSilo1.GetCached());

        // A reported change is never answered from the old copy, even within the max age.
        await onSilo0.Add(1);
        feed.Changed(new GrainId("test-counter", "scripted"), 4);
        Assert.Equal(4, await onSilo1.GetShared());
    }

    [Fact]
    public void A_shared_cached_read_must_return_an_immutable_answer_and_take_no_arguments()
    {
        var mutable = Assert.Throws<GrainUsageException>(() => new GrainTypeRegistry().Add<IBadSharedReadGrain, BadSharedReadGrain>());
        Assert.Contains("deeply immutable", mutable.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_grain_wrongly_assumed_new_still_answers_from_its_stored_state()
    {
        var cluster = await StartClusterAsync(silos: 2);
        await cluster.FactoryOf(0).GetGrain<ICounterGrain>("not-new").Add(5);
        await cluster.FactoryOf(0).GetGrain<ICounterGrain>("not-new-read").Add(7);

        Assert.Equal(6, await cluster.FactoryOf(1).GetNewGrain<ICounterGrain>("not-new").Add(1));
        Assert.Equal(7, await cluster.FactoryOf(1).GetNewGrain<ICounterGrain>("not-new-read").Get());
        Assert.Equal(1, await cluster.FactoryOf(1).GetNewGrain<ICounterGrain>("really-new").Add(1));
        Assert.Equal(6, await cluster.FactoryOf(0).GetGrain<ICounterGrain>("not-new").Get());
    }

    [Fact]
    public async Task After_commit_actions_run_once_for_committed_turns_only_even_when_turns_replay()
    {
        var cluster = await StartClusterAsync(silos: 2);
        await Assert.ThrowsAsync<InvalidOperationException>(() => cluster.FactoryOf(0).GetGrain<ICounterGrain>("announce").AddAndAnnounce(100, thenThrow: true));
        Assert.Empty(Control.Announced);

        // Both silos race on one grain, so turns replay; each committed value is announced exactly once.
        var values = await Task.WhenAll(Enumerable.Range(0, 200)
            .Select(i => cluster.FactoryOf(i % 2).GetGrain<ICounterGrain>("announce").AddAndAnnounce(1, thenThrow: false)));

        Assert.Equal(values.Order(), Control.Announced.Order());
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), Control.Announced.Order());
    }

    [Fact]
    public async Task A_turn_creates_absent_grains_with_their_state_reminders_and_projection_and_leaves_existing_ones_alone()
    {
        var cluster = await StartClusterAsync(silos: 2);
        var none = CancellationToken.None;
        await cluster.FactoryOf(1).GetGrain<ICounterGrain>("pre-existing").Add(7);
        var creator = cluster.FactoryOf(0).GetGrain<ICounterGrain>("creator");
        await Assert.ThrowsAsync<InvalidOperationException>(() => creator.AddAndCreate(1, ["doomed-created"], 5, thenThrow: true));
        Assert.Equal(0, (await cluster.Store.ReadAsync(new GrainId("test-counter", "doomed-created"), -1, none)).Version);
        Assert.Empty(Control.Announced);

        var created = Enumerable.Range(0, 150).Select(i => $"created-{i}").ToList();
        Assert.Equal(1, await creator.AddAndCreate(1, [.. created, "pre-existing"], 5, thenThrow: false));

        // Only grains this turn created announce, once each; the existing one keeps its state and gets no reminder.
        Assert.Equal(Enumerable.Repeat(5L, 150), Control.Announced);
        Assert.Equal(1, (await cluster.Store.ReadAsync(new GrainId("test-counter", "created-0"), -1, none)).Version);
        Assert.Equal(["created"], (await cluster.Store.GetRemindersAsync(new GrainId("test-counter", "created-149"), none)).Select(r => r.Name));
        Assert.Empty(await cluster.Store.GetRemindersAsync(new GrainId("test-counter", "pre-existing"), none));
        Assert.Equal((5L, "created"), await ReadProjectedCounterAsync(cluster.Store, "created-42"));
        Assert.Equal((7L, (string?)null), await ReadProjectedCounterAsync(cluster.Store, "pre-existing"));
        Assert.Equal(7, await cluster.FactoryOf(0).GetGrain<ICounterGrain>("pre-existing").Get());

        // The creating silo's activation starts from the created state; the other silo reads it; both stay serial.
        Assert.Equal(6, await cluster.FactoryOf(0).GetGrain<ICounterGrain>("created-3").Add(1));
        Assert.Equal(7, await cluster.FactoryOf(1).GetGrain<ICounterGrain>("created-3").Add(1));
        Assert.Equal(8, await cluster.FactoryOf(0).GetGrain<ICounterGrain>("created-3").Add(1));

        // Creating again changes nothing; turns of two silos racing to create the same grains create each once.
        Control.Announced.Clear();
        await creator.AddAndCreate(1, ["created-1"], 99, thenThrow: false);
        Assert.Equal(5, await cluster.Client.GetGrain<ICounterGrain>("created-1").Get());
        await Task.WhenAll(Enumerable.Range(1, 20).Select(i =>
            cluster.FactoryOf(i % 2).GetGrain<ICounterGrain>($"racer-{i}").AddAndCreate(1, ["contested-a", "contested-b"], i, thenThrow: false)));
        Assert.Equal(2, Control.Announced.Count);
        var stored = new[] { await cluster.Client.GetGrain<ICounterGrain>("contested-a").Get(), await cluster.Client.GetGrain<ICounterGrain>("contested-b").Get() };
        Assert.Equal(stored.Order(), Control.Announced.Order());
    }

    [Fact]
    public async Task Misuse_of_the_grain_model_fails_with_a_clear_message()
    {
        var registry = new GrainTypeRegistry();
        registry.Add<ICounterGrain, CounterGrain>();
        var twice = Assert.Throws<GrainUsageException>(() => registry.Add<ICounterGrain, CounterGrain>());
        Assert.Contains("registered twice", twice.Message, StringComparison.Ordinal);

        var cluster = await StartClusterAsync(silos: 1);
        var unregistered = Assert.Throws<GrainUsageException>(() => cluster.Client.GetGrain<IUnregisteredGrain>("x"));
        Assert.Contains("not registered", unregistered.Message, StringComparison.Ordinal);

        var badOptions = Assert.Throws<InvalidOperationException>(() => new SiloOptions { Roles = ["bogus"], ReminderLease = TimeSpan.Zero }.Validate());
        Assert.Contains("bogus", badOptions.Message, StringComparison.Ordinal);
        Assert.Contains("ReminderLease", badOptions.Message, StringComparison.Ordinal);
    }

    public interface IUnregisteredGrain : IGrainWithStringKey
    {
        Task Ping();
    }
}
