using Hotline.Calls.Redis;
using Hotline.Testing;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace Hotline.Calls.Tests;

/// <summary>The conformance suite against a real redis-server (one per class, a unique key prefix per test).</summary>
public sealed class RedisCallQueueTests(RedisFixture redis, ITestOutputHelper output) : CallQueueConformance, IClassFixture<RedisFixture>
{
    private readonly string _prefix = "t" + Guid.NewGuid().ToString("N")[..12];
    private readonly List<ConnectionMultiplexer> _connections = [];
    private RedisCallQueue? _queue;

    protected override async Task<ICallQueue> CreateQueueAsync() => _queue = new RedisCallQueue(await ConnectAsync(), _prefix);

    protected override Task<IReadOnlyList<string>> VerifyInvariantsAsync() => _queue!.VerifyInvariantsAsync();

    public override async Task DisposeAsync()
    {
        foreach (var c in _connections)
        {
            await c.CloseAsync();
            c.Dispose();
        }
    }

    [Fact]
    public async Task Keys_share_one_hash_tag_and_the_prefix()
    {
        var keys = _queue!.Keys;
        Assert.Equal("{" + _prefix + "}:", keys.Root);
        Assert.Equal("{hotline}:call:c1", (string?)new RedisKeys().Call("c1"));
        Assert.Equal("{q}:ready:普通话", (string?)new RedisKeys("{q}").Ready("普通话"));

        await Queue.EnqueueAsync(Call("c1", 1));
        await ReadyAsync("a1", 0);
        var db = (await ConnectAsync()).GetDatabase();
        Assert.True(await db.KeyExistsAsync(keys.Call("c1")));
        Assert.True(await db.KeyExistsAsync(keys.Waiting(Mandarin)));
        Assert.True(await db.KeyExistsAsync(keys.Ready(Mandarin)));
        Assert.True(await db.KeyExistsAsync(keys.Agent("a1")));
        Assert.True(await db.SetContainsAsync(keys.Skills, Mandarin));
    }

    [Fact]
    public async Task Restore_puts_open_missed_entries_back_with_claim_attempts_and_result()
    {
        var recovery = (ICallQueueRecovery)_queue!;
        Assert.True(await recovery.TryBeginRestoreAsync());
        MissedCall[] missed =
        [
            new("m1", "13600000001", "12345", Mandarin, At(1), At(5), CallQueueRules.AbandonedReason, null, null, null, 2, "无人接听"),
            new("m2", "13600000002", "12345", Dialect, At(2), At(6), CallQueueRules.MissedReason, "a9", "a1", At(7), 0, null),
        ];
        await recovery.RestoreAsync([], [], missed);
        await recovery.RestoreAsync([], [], missed); // listed already: left alone

        Assert.Equal(missed, await Queue.GetMissedAsync(10));
        Assert.Equal(2, (await Queue.GetSnapshotAsync(At(8))).Missed);
        Assert.False(await Queue.ClaimMissedAsync("m2", "a2", At(9))); // the restored claim holds
        Assert.True(await Queue.CompleteMissedAsync("m2", "a1", "已回拨", done: true, At(9)));
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task A_gone_call_leaves_a_tombstone_with_a_ttl()
    {
        await Queue.EnqueueAsync(Call("c1", 1));
        await Queue.AbandonAsync("c1", At(2));

        var ttl = await (await ConnectAsync()).GetDatabase().KeyTimeToLiveAsync(_queue!.Keys.Tombstone("c1"));
        Assert.InRange(ttl!.Value, TimeSpan.FromHours(23), TimeSpan.FromHours(24));
        Assert.False(await (await ConnectAsync()).GetDatabase().KeyExistsAsync(_queue.Keys.Call("c1")));
    }

    [Fact]
    public async Task Restore_puts_waiting_and_connected_calls_back_once_and_marks_the_queue_alive()
    {
        var recovery = (ICallQueueRecovery)_queue!;
        Assert.True(await recovery.TryBeginRestoreAsync());
        Assert.False(await recovery.TryBeginRestoreAsync()); // the lock is held

        var restored = await recovery.RestoreAsync(
        [
            new RestoredCall(Call("c1", 1), null, null, []),
            new RestoredCall(Call("c2", 2) with { Priority = 5 }, null, null, []),
            new RestoredCall(Call("c3", 3), "a1", At(4), [Mandarin]),
        ]);
        Assert.Equal(3, restored);
        Assert.True(await recovery.IsAliveAsync());
        Assert.False(await recovery.TryBeginRestoreAsync());
        Assert.Equal(0, await recovery.RestoreAsync([new RestoredCall(Call("c1", 1), null, null, [])])); // known: skipped

        var agent = await Queue.GetAgentAsync("a1");
        Assert.Equal(AgentStatus.OnCall, agent!.Status);
        Assert.Equal("c3", agent.CallId);
        Assert.Equal(CallStage.Connected, (await Queue.GetCallAsync("c3"))!.Stage);
        Assert.Empty(await VerifyInvariantsAsync());

        // The higher priority goes first, then the older call; the agent ends its call and takes them in that order.
        Assert.True(await Queue.EndCallAsync("c3", At(5)));
        await ReadyAsync("a1", 6);
        var offers = await Queue.DispatchAsync(At(7), TimeSpan.FromSeconds(15), 10);
        Assert.Equal("c2", Assert.Single(offers).CallId);
        Assert.Equal(5, offers[0].Call.Priority);
        Assert.Empty(await VerifyInvariantsAsync());
    }

    [Fact]
    public async Task Restore_puts_agents_back_in_their_recorded_state_and_keeps_callbacks_virtual()
    {
        var recovery = (ICallQueueRecovery)_queue!;
        Assert.True(await recovery.TryBeginRestoreAsync());
        var callback = Call("cb", 1) with { Attributes = new Dictionary<string, string> { ["callback"] = "1" } };
        await recovery.RestoreAsync(
            [new RestoredCall(Call("c1", 2), null, null, []), new RestoredCall(callback, null, null, []), new RestoredCall(Call("c3", 3), "a3", At(4), [Mandarin])],
            [
                new RestoredAgent("a1", AgentStatus.Ready, null, At(0), [new AgentSkill(Mandarin, 2)]),
                new RestoredAgent("a2", AgentStatus.NotReady, "培训", At(1), [new AgentSkill(Mandarin)]),
                new RestoredAgent("a3", AgentStatus.Ready, null, At(0), [new AgentSkill(Mandarin)]), // on a restored call: left alone
                new RestoredAgent("a4", AgentStatus.WrapUp, null, At(2), [new AgentSkill(Dialect)]),
            ]);

        var a1 = await Queue.GetAgentAsync("a1");
        Assert.Equal(AgentStatus.Ready, a1!.Status);
        Assert.Equal(At(0), a1.Since);
        Assert.Equal(2, Assert.Single(a1.Skills).Level);
        var a2 = await Queue.GetAgentAsync("a2");
        Assert.Equal((AgentStatus.NotReady, "培训"), (a2!.Status, a2.Reason));
        Assert.Equal(AgentStatus.OnCall, (await Queue.GetAgentAsync("a3"))!.Status);
        Assert.Equal(AgentStatus.WrapUp, (await Queue.GetAgentAsync("a4"))!.Status);
        Assert.True((await Queue.GetCallAsync("cb"))!.Callback);
        Assert.False(await Queue.AbandonAsync("cb", At(5)));
        Assert.Empty(await VerifyInvariantsAsync());

        // The restored ready agent is in line: it gets the oldest call, the callback.
        var offer = Assert.Single(await Queue.DispatchAsync(At(6), Ring, 10));
        Assert.Equal(("cb", "a1", true), (offer.CallId, offer.AgentId, offer.Callback));
        Assert.Empty(await VerifyInvariantsAsync());
    }

    [Fact]
    public async Task Restored_ready_agents_of_a_level_first_group_are_in_line_by_level_then_idle_time()
    {
        Queue.UseLevelFirst(["企业专线"]);
        var recovery = (ICallQueueRecovery)_queue!;
        Assert.True(await recovery.TryBeginRestoreAsync());
        await recovery.RestoreAsync(
            [new RestoredCall(Call("e1", 2) with { Skill = "企业专线" }, null, null, [])],
            [
                new RestoredAgent("a1", AgentStatus.Ready, null, At(0), [new AgentSkill("企业专线", 1)]),
                new RestoredAgent("a3", AgentStatus.Ready, null, At(1), [new AgentSkill("企业专线", 3)]),
            ]);
        Assert.Empty(await VerifyInvariantsAsync());

        var offer = Assert.Single(await Queue.DispatchAsync(At(3), Ring, 10));
        Assert.Equal(("e1", "a3"), (offer.CallId, offer.AgentId));
        Assert.Empty(await VerifyInvariantsAsync());
    }

    [Fact]
    public async Task Scripts_are_loaded_again_after_the_script_cache_is_flushed()
    {
        await Queue.EnqueueAsync(Call("c1", 1));
        var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true");
        _connections.Add(admin);
        await admin.GetServer(admin.GetEndPoints()[0]).ScriptFlushAsync();

        Assert.True(await Queue.EnqueueAsync(Call("c2", 2)));
        await ReadyAsync("a1", 0);
        Assert.Equal("c1", Assert.Single(await Queue.DispatchAsync(At(3), Ring, 1)).CallId);
    }

    [Fact]
    public async Task Two_nodes_hammering_one_queue_never_lose_or_double_a_call()
    {
        var node1 = new RedisCallQueue(await ConnectAsync(), _prefix);
        var node2 = new RedisCallQueue(await ConnectAsync(), _prefix);
        using var hammer = new QueueHammer([node1, node2], () => node1.VerifyInvariantsAsync()) { Calls = 2000, Agents = 50, WorkersPerNode = 4 };

        await hammer.RunAsync();

        output.WriteLine(hammer.Summary);
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        _connections.Add(connection);
        return connection;
    }
}
