using System.Net;
using Hotline.Testing;

namespace Hotline.Server.Tests.Calls;

/// <summary>
/// Two server processes on one Redis and one PostgreSQL: an agent whose console is connected to node A is offered a
/// call that entered on node B (console pushes fan out over Redis pub/sub), and sees the ticket changes written on
/// node B (each node's event-store subscription).
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class TwoNodeTests(ServersFixture servers)
{
    [Fact]
    public async Task An_agent_on_node_A_takes_a_call_that_entered_on_node_B_and_sees_ticket_changes_written_on_B()
    {
        var settings = await servers.ProductionSettingsAsync();
        await using var nodeA = await ServerProcess.StartAsync(settings);
        await using var nodeB = await ServerProcess.StartAsync(settings);

        using var agentOnA = await ApiClient.LoginAsync(nodeA, "agent1");
        using var agentOnB = await ApiClient.LoginAsync(nodeB, "agent1");
        using var dispatcherOnB = await ApiClient.LoginAsync(nodeB, "disp1");
        await using var hub = await HubClient.ConnectAsync(nodeA.BaseAddress, "hubs/agent", agentOnA.Token);
        Assert.Equal("Ready", (string?)(await hub.InvokeAsync("GoReady"))!["status"]);

        // The call enters on node B; the offer reaches the console on node A.
        var (status, injected, _) = await agentOnB.SendAsync(HttpMethod.Post, "api/dev/calls", new { caller = "13700001111" });
        Assert.True(status == HttpStatusCode.OK, $"inject on B → {status}: {injected}");
        var callId = (string)injected!["callId"]!;
        var offer = await hub.WaitForAsync("CallOffered", a => (string?)a[0]!["callId"] == callId, TimeSpan.FromSeconds(15));
        Assert.Equal("13700001111", (string?)offer[0]!["caller"]);
        Assert.True((bool)(await hub.InvokeAsync("Accept", callId))!);
        await hub.WaitForAsync("CallConnected", a => (string?)a[0]!["callId"] == callId);

        // The ticket is registered and dispatched on node B; the console on node A hears both changes.
        var (regStatus, ticket, _) = await agentOnB.SendAsync(HttpMethod.Post, "api/tickets", new
        {
            channel = "电话", type = "咨询", urgency = "一般", categoryCode = "090101", areaCode = "010101",
            address = "湖滨路 1 号", content = "小区停水两天，何时恢复？", callerName = "李女士", callerPhone = "13700001111", callId,
        }, idempotencyKey: Guid.NewGuid().ToString());
        Assert.True(regStatus == HttpStatusCode.Created, $"register on B → {regStatus}: {ticket}");
        var id = (string)ticket!["id"]!;
        await hub.WaitForAsync("TicketChanged", a => (string?)a[0]!["ticketId"] == id && (string?)a[0]!["state"] == "Registered", TimeSpan.FromSeconds(15));
        await dispatcherOnB.ActAsync(id, "dispatch", new { unitId = "swjt" }, 1);
        await hub.WaitForAsync("TicketChanged", a => (string?)a[0]!["ticketId"] == id && (string?)a[0]!["state"] == "Dispatched", TimeSpan.FromSeconds(15));

        // Hang up on A: wrap-up, and node B sees the same live state (one Redis).
        Assert.True((bool)(await hub.InvokeAsync("HangUp", callId))!);
        await hub.WaitForAsync("AgentState", a => (string?)a[0]!["status"] == "WrapUp");
        await using var hubOnB = await HubClient.ConnectAsync(nodeB.BaseAddress, "hubs/agent", agentOnB.Token);
        Assert.Equal("WrapUp", (string?)(await hubOnB.InvokeAsync("GetState"))!["status"]);

        // A state change made through node B reaches the console on node A.
        await hubOnB.InvokeAsync("FinishWrapUp");
        await hub.WaitForAsync("AgentState", a => (string?)a[0]!["status"] == "Ready");
    }
}
