using System.Net;
using Hotline.Testing;

namespace Hotline.Server.Tests.Calls;

/// <summary>
/// The callback offer, the 漏接回拨 list and the average wrap-up, end to end on a real server process (in-process queue; the queue
/// behaviour itself is held to the conformance suite on both queues in Hotline.Calls.Tests).
/// </summary>
public sealed class CallbackAndMissedCallsTests
{
    private static readonly Dictionary<string, string> Settings = new()
    {
        ["Hotline:Calls:CallbackOfferWaitSeconds"] = "60",
        ["Hotline:Calls:DefaultHandleSeconds"] = "600",
    };

    [Fact]
    public async Task A_caller_who_accepts_a_callback_keeps_the_place_and_the_agent_gets_an_outbound_callback_whose_wrap_up_reaches_the_wallboard()
    {
        await using var server = await ServerProcess.StartAsync(Settings);
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        using var supervisor = await ApiClient.LoginAsync(server, "super1");
        await using var hub = await HubClient.ConnectAsync(server.BaseAddress, "hubs/agent", agent.Token);
        await hub.InvokeAsync("GoReady");
        Assert.Equal("NotReady", (string?)(await hub.InvokeAsync("GoNotReady", "会议"))!["status"]);

        // Nobody is ready: the expected wait is over the threshold, the caller accepts the callback (the demo door stands for DTMF 1).
        var (status, injected, _) = await agent.SendAsync(HttpMethod.Post, "api/dev/calls", new { caller = "13600001111" });
        Assert.Equal(HttpStatusCode.OK, status);
        var callId = (string)injected!["callId"]!;
        await WaitForWaitingAsync(supervisor, 1); // the simulated caller passes the IVR first
        var (accepted, body, _) = await agent.SendAsync(HttpMethod.Post, $"api/dev/calls/{callId}/callback", new { });
        Assert.True(accepted == HttpStatusCode.OK, $"callback → {accepted}: {body}");
        var (again, _, _) = await agent.SendAsync(HttpMethod.Post, $"api/dev/calls/{callId}/callback", new { });
        Assert.Equal(HttpStatusCode.Conflict, again);

        // Its turn: offered as an outbound callback; accepted, hung up, wrap-up, finished.
        await hub.InvokeAsync("GoReady");
        var offer = await hub.WaitForAsync("CallOffered", a => (string?)a[0]!["callId"] == callId, TimeSpan.FromSeconds(15));
        Assert.True((bool)offer[0]!["callback"]!);
        Assert.True((bool)(await hub.InvokeAsync("Accept", callId))!);
        var onCall = await hub.InvokeAsync("GetState");
        Assert.Equal("OnCall", (string?)onCall!["status"]);
        Assert.Equal(callId, (string?)onCall["call"]!["callId"]);
        Assert.True((bool)onCall["call"]!["callback"]!);
        Assert.True((bool)(await hub.InvokeAsync("HangUp", callId))!);
        await Task.Delay(1200);
        Assert.Equal("Ready", (string?)(await hub.InvokeAsync("FinishWrapUp"))!["status"]);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        double wrapUp;
        do
        {
            var board = await supervisor.GetJsonAsync("api/calls/wallboard");
            wrapUp = (double)board["today"]!["avgWrapUpSeconds"]!;
            if (wrapUp > 0) break;
            await Task.Delay(200);
        } while (DateTime.UtcNow < deadline);
        Assert.InRange(wrapUp, 1.0, 30.0);
    }

    private static async Task WaitForWaitingAsync(ApiClient supervisor, int calls)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var board = await supervisor.GetJsonAsync("api/calls/wallboard");
            var waiting = board["skills"]!.AsArray().Sum(s => (int)s!["waiting"]!);
            if (waiting >= calls) return;
            Assert.True(DateTime.UtcNow < deadline, $"never {calls} call(s) waiting: {board.ToJsonString()}");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task An_abandoned_call_lands_on_the_missed_list_one_agent_claims_it_and_closes_it()
    {
        await using var server = await ServerProcess.StartAsync(Settings);
        using var agent1 = await ApiClient.LoginAsync(server, "agent1");
        using var agent2 = await ApiClient.LoginAsync(server, "agent2");
        using var supervisor = await ApiClient.LoginAsync(server, "super1");
        await using var hub1 = await HubClient.ConnectAsync(server.BaseAddress, "hubs/agent", agent1.Token);
        await using var hub2 = await HubClient.ConnectAsync(server.BaseAddress, "hubs/agent", agent2.Token);

        // Nobody is ready; the caller gives up after a second.
        var (status, injected, _) = await agent1.SendAsync(HttpMethod.Post, "api/dev/calls", new { caller = "13600002222", patienceSeconds = 1 });
        Assert.Equal(HttpStatusCode.OK, status);
        var callId = (string)injected!["callId"]!;
        await hub2.WaitForAsync("MissedCallsChanged", a => (string?)a[0]!["callId"] == callId && (string?)a[0]!["change"] == "listed", TimeSpan.FromSeconds(15));

        var missed = (await hub1.InvokeAsync("GetMissed"))!.AsArray().Single(m => (string?)m!["callId"] == callId)!;
        Assert.Equal("13600002222", (string?)missed["caller"]);
        Assert.Equal("放弃", (string?)missed["reason"]);
        Assert.Equal(1, (int)(await supervisor.GetJsonAsync("api/calls/wallboard"))["missedOpen"]!);

        // Both agents try at once: exactly one gets it.
        var claims = await Task.WhenAll(hub1.InvokeAsync("ClaimMissed", callId), hub2.InvokeAsync("ClaimMissed", callId));
        Assert.Equal(1, claims.Count(c => (bool)c!));
        var (winner, loser) = (bool)claims[0]! ? (hub1, hub2) : (hub2, hub1);
        Assert.False((bool)(await loser.InvokeAsync("CompleteMissed", callId, "已回拨", true))!);

        // A failed attempt puts it back; the next one closes it.
        Assert.True((bool)(await winner.InvokeAsync("CompleteMissed", callId, "无人接听", false))!);
        var reopened = (await loser.InvokeAsync("GetMissed"))!.AsArray().Single(m => (string?)m!["callId"] == callId)!;
        Assert.Equal(1, (int)reopened["attempts"]!);
        Assert.Null(reopened["claimedBy"]);
        Assert.True((bool)(await loser.InvokeAsync("ClaimMissed", callId))!);
        Assert.True((bool)(await loser.InvokeAsync("CompleteMissed", callId, "已回拨，市民已说明诉求", true))!);
        Assert.DoesNotContain((await winner.InvokeAsync("GetMissed"))!.AsArray(), m => (string?)m!["callId"] == callId);
        Assert.Equal(0, (int)(await supervisor.GetJsonAsync("api/calls/wallboard"))["missedOpen"]!);

        // A bad result is named, not a 500.
        await Assert.ThrowsAnyAsync<Exception>(() => winner.InvokeAsync("CompleteMissed", callId, "", true));
    }
}
