using System.Net;
using Hotline.EventStore;
using Hotline.Testing;
using Xunit.Abstractions;

namespace Hotline.Server.Tests.Faults;

/// <summary>
/// Redis (the live queue and agent states) is killed and restarted empty while an agent is on a call. The call can
/// still be finished, the agent's state is known again, new calls are routed, and the record in the event store
/// (call-{id}) holds every step of the call that was live during the restart.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class RedisRestartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Live_call_and_agent_state_survive_a_redis_restart_and_the_record_is_complete()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var server = await ServerProcess.StartAsync(FaultSettings.Relaxed(redis));
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        await using var hub = await HubClient.ConnectAsync(server.BaseAddress, "hubs/agent", agent.Token);
        Assert.Equal("Ready", (string?)(await hub.InvokeAsync("GoReady"))!["status"]);

        var callId = await CallAsync(agent, hub, "13911112222");
        await hub.WaitForAsync("AgentState", a => (string?)a[0]!["status"] == "OnCall");

        await redis.RestartAsync(); // SIGKILL, empty dataset, empty script cache

        // The agent is still on that call, as far as the server can tell after Redis lost everything.
        var gaps = new List<string>();
        var state = await RetryAsync(() => hub.InvokeAsync("GetState"));
        output.WriteLine("agent state after the Redis restart: " + state?.ToJsonString());
        if ((string?)state!["status"] != "OnCall" || (string?)state["callId"] != callId)
            gaps.Add($"agent state after restart is {state.ToJsonString()}, not OnCall with {callId}");

        // The call can be finished, and the agent takes the next call.
        var hungUp = await RetryAsync(() => hub.InvokeAsync("HangUp", callId));
        if (hungUp is null || !(bool)hungUp) gaps.Add("HangUp of the live call after the restart returned false");
        await RetryAsync(() => hub.InvokeAsync("FinishWrapUp"));
        var next = await CallAsync(agent, hub, "13933334444");
        Assert.True((bool)(await hub.InvokeAsync("HangUp", next))!);

        // The record: every step of both calls is in the event store.
        await using var store = new Hotline.EventStore.Sqlite.SqliteEventStore($"Data Source={Path.Combine(server.DataDirectory, "hotline-events.db")}", TimeProvider.System);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        List<string> live, after;
        do
        {
            live = await TypesAsync(store, "call-" + callId);
            after = await TypesAsync(store, "call-" + next);
            if (live.Contains("V1.CallFinished") && after.Contains("V1.CallFinished")) break;
            await Task.Delay(200);
        } while (DateTime.UtcNow < deadline);
        output.WriteLine($"call {callId}: {string.Join(", ", live)}");
        output.WriteLine($"call {next}: {string.Join(", ", after)}");
        Assert.Contains("V1.CallQueued", live);
        Assert.Contains("V1.CallConnected", live);
        Assert.Contains("V1.CallQueued", after);
        Assert.Contains("V1.CallConnected", after);
        Assert.Contains("V1.CallFinished", after);
        if (!live.Contains("V1.CallFinished")) gaps.Add("the call live during the restart has no CallFinished in its record");
        var audit = await StoreAudit.RunAsync(store);
        Assert.True(audit.Problems.Count == 0, string.Join("\n", audit.Problems));

        foreach (var gap in gaps) output.WriteLine("GAP: " + gap);
        Assert.True(gaps.Count == 0, "Redis restart gaps:\n" + string.Join("\n", gaps));
    }

    [Fact]
    public async Task Agents_that_were_ready_or_not_ready_come_back_in_that_state_after_a_redis_restart()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var server = await ServerProcess.StartAsync(FaultSettings.Relaxed(redis));
        using var agent1 = await ApiClient.LoginAsync(server, "agent1");
        using var agent2 = await ApiClient.LoginAsync(server, "agent2");
        await using var hub1 = await HubClient.ConnectAsync(server.BaseAddress, "hubs/agent", agent1.Token);
        await using var hub2 = await HubClient.ConnectAsync(server.BaseAddress, "hubs/agent", agent2.Token);
        Assert.Equal("Ready", (string?)(await hub1.InvokeAsync("GoReady"))!["status"]);
        await hub2.InvokeAsync("GoReady");
        Assert.Equal("NotReady", (string?)(await hub2.InvokeAsync("GoNotReady", "培训"))!["status"]);
        await Task.Delay(500); // let the event-store subscription catch up (the restore reads the folded records)

        await redis.RestartAsync(); // SIGKILL, empty dataset

        var ready = await RetryAsync(() => hub1.InvokeAsync("GetState"));
        var notReady = await RetryAsync(() => hub2.InvokeAsync("GetState"));
        output.WriteLine($"after the restart: {ready?.ToJsonString()} / {notReady?.ToJsonString()}");
        Assert.Equal("Ready", (string?)ready!["status"]);
        Assert.Equal("NotReady", (string?)notReady!["status"]);
        Assert.Equal("培训", (string?)notReady["reason"]);

        // The restored ready agent is in line for calls again.
        var callId = await CallAsync(agent1, hub1, "13955556666");
        Assert.True((bool)(await hub1.InvokeAsync("HangUp", callId))!);
    }

    private static async Task<string> CallAsync(ApiClient agent, HubClient hub, string caller)
    {
        var (status, injected, _) = await agent.SendAsync(HttpMethod.Post, "api/dev/calls", new { caller });
        Assert.True(status == HttpStatusCode.OK, $"inject → {status}: {injected}");
        var callId = (string)injected!["callId"]!;
        await hub.WaitForAsync("CallOffered", a => (string?)a[0]!["callId"] == callId);
        Assert.True((bool)(await hub.InvokeAsync("Accept", callId))!);
        await hub.WaitForAsync("CallConnected", a => (string?)a[0]!["callId"] == callId);
        return callId;
    }

    private static async Task<List<string>> TypesAsync(IEventStore store, string stream)
    {
        var types = new List<string>();
        await foreach (var e in store.ReadStreamAsync(stream)) types.Add(e.Type);
        return types;
    }

    /// <summary>The first command after the restart may meet the reconnecting multiplexer: try again for a few seconds.</summary>
    private static async Task<T> RetryAsync<T>(Func<Task<T>> action)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try { return await action(); }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline) { await Task.Delay(250); }
        }
    }
}
