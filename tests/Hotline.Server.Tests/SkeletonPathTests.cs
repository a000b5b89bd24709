using System.Net;
using System.Text.Json.Nodes;
using Hotline.Testing;

namespace Hotline.Server.Tests;

/// <summary>
/// The walking skeleton, end to end on a real server process: a simulated call is queued, offered over SignalR to a
/// signed-in agent who accepts it and registers a ticket; the ticket is dispatched, signed for, replied, reviewed,
/// moved to callback by the Quartz job, called back 满意 and closed; the leader downloads a workbook.
/// </summary>
public abstract class SkeletonPathTests
{
    protected abstract Task<ServerProcess> StartServerAsync();

    [Fact]
    public async Task A_call_becomes_a_closed_ticket_with_its_full_history()
    {
        await using var server = await StartServerAsync();
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        using var dispatcher = await ApiClient.LoginAsync(server, "disp1");
        using var handler = await ApiClient.LoginAsync(server, "handler1");
        using var callback = await ApiClient.LoginAsync(server, "cb1");
        using var leader = await ApiClient.LoginAsync(server, "leader1");

        // The agent signs in to the console hub and goes ready.
        await using var hub = await HubClient.ConnectAsync(server.BaseAddress, "hubs/agent", agent.Token);
        var ready = await hub.InvokeAsync("GoReady");
        Assert.Equal("Ready", (string?)ready!["status"]);

        // A citizen calls 12345 (the simulator adapter).
        var (status, injected, _) = await agent.SendAsync(HttpMethod.Post, "api/dev/calls", new { caller = "13912345678" });
        Assert.True(status == HttpStatusCode.OK, $"inject → {status}: {injected}");
        var callId = (string)injected!["callId"]!;

        var offer = await hub.WaitForAsync("CallOffered", a => (string?)a[0]!["callId"] == callId);
        Assert.Equal("13912345678", (string?)offer[0]!["caller"]);
        Assert.True((bool)(await hub.InvokeAsync("Accept", callId))!);
        await hub.WaitForAsync("CallConnected", a => (string?)a[0]!["callId"] == callId);
        await hub.WaitForAsync("AgentState", a => (string?)a[0]!["status"] == "OnCall");

        // The agent registers the ticket during the call.
        var key = Guid.NewGuid().ToString();
        var registration = new
        {
            channel = "电话", type = "投诉", urgency = "一般", categoryCode = "010201", areaCode = "010101",
            address = "湖滨路 88 号 3 栋", content = "小区物业长期不清理楼道垃圾，多次反映无果。", callerName = "王建华", callerPhone = "13912345678", callId,
        };
        var (regStatus, ticket, etag) = await agent.SendAsync(HttpMethod.Post, "api/tickets", registration, idempotencyKey: key);
        Assert.True(regStatus == HttpStatusCode.Created, $"register → {regStatus}: {ticket}");
        var id = (string)ticket!["id"]!;
        Assert.Matches(@"^\d{8}-\d{6}$", (string)ticket["number"]!);
        Assert.Equal("\"1\"", etag);
        Assert.Equal("Registered", (string?)ticket["state"]);
        Assert.Equal("派单", (string?)ticket["deadline"]!["kind"]);
        Assert.Contains(callId, ticket["callIds"]!.AsArray().Select(x => (string?)x));

        // A retry of the same registration returns the same ticket, not a second one.
        var (retryStatus, retried, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", registration, idempotencyKey: key);
        Assert.Equal(HttpStatusCode.Created, retryStatus);
        Assert.Equal(id, (string?)retried!["id"]);
        Assert.Equal((string?)ticket["number"], (string?)retried["number"]);

        // The agent hangs up: wrap-up.
        Assert.True((bool)(await hub.InvokeAsync("HangUp", callId))!);
        await hub.WaitForAsync("AgentState", a => (string?)a[0]!["status"] == "WrapUp");

        // Dispatch → sign for → reply → review.
        var t = await dispatcher.ActAsync(id, "dispatch", new { unitId = "zjj" }, 1);
        Assert.Equal("Dispatched", (string?)t["state"]);
        Assert.Equal("签收", (string?)t["deadline"]!["kind"]);
        t = await handler.ActAsync(id, "sign-for", new { }, (long)t["version"]!);
        Assert.Equal("InProgress", (string?)t["state"]);
        Assert.Equal("138****5678".Length, ((string)t["caller"]!["phone"]!).Length);
        Assert.Equal("139****5678", (string?)t["caller"]!["phone"]);
        t = await handler.ActAsync(id, "reply", new { result = "resolved", text = "已约谈物业公司，楼道垃圾已清理，并建立每日保洁制度。" }, (long)t["version"]!);
        Assert.Equal("Replied", (string?)t["state"]);
        t = await dispatcher.ActAsync(id, "review", new { accept = true, comment = "答复规范" }, (long)t["version"]!);
        Assert.Equal("ReplyAccepted", (string?)t["state"]);

        // The Quartz job moves the accepted reply into the callback list.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((string?)t["state"] != "AwaitingCallback" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(300);
            t = await callback.GetJsonAsync($"api/tickets/{id}");
        }
        Assert.Equal("AwaitingCallback", (string?)t["state"]);
        var toCallback = await callback.GetJsonAsync("api/worklists/to-callback");
        Assert.Contains(id, toCallback["items"]!.AsArray().Select(x => (string?)x!["id"]));

        // Callback 满意 closes the ticket.
        t = await callback.ActAsync(id, "callback", new { satisfaction = "满意", comment = "处理及时" }, (long)t["version"]!);
        Assert.Equal("Closed", (string?)t["state"]);

        var history = t["history"]!.AsArray().Select(h => (string?)h!["type"]).ToList();
        Assert.Equal(["TicketRegistered", "TicketDispatched", "TaskSignedFor", "ReplySubmitted", "ReplyAccepted", "CallbackScheduled", "CallbackRecorded", "TicketClosed"], history);
        Assert.All(t["history"]!.AsArray(), h => Assert.False(string.IsNullOrEmpty((string?)h!["actor"])));

        // A stale version is refused with 412, an action not allowed in this state with 409.
        var (stale, staleBody, _) = await dispatcher.SendAsync(HttpMethod.Post, $"api/tickets/{id}/close", new { reason = "x" }, 2);
        Assert.True(stale == HttpStatusCode.PreconditionFailed, $"stale → {stale}: {staleBody}");
        var (invalid, invalidBody, _) = await dispatcher.SendAsync(HttpMethod.Post, $"api/tickets/{id}/dispatch", new { unitId = "zjj" }, (long)t["version"]!);
        Assert.True(invalid == HttpStatusCode.Conflict, $"invalid → {invalid}: {invalidBody}");
        Assert.Equal("Closed", (string?)invalidBody!["state"]);

        // The leader asks for this week's workbook and downloads it.
        var today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(8));
        var (reqStatus, report, _) = await leader.SendAsync(HttpMethod.Post, "api/reports", new { periodStart = today.AddDays(-6).ToString("yyyy-MM-dd"), periodEnd = today.ToString("yyyy-MM-dd") });
        Assert.True(reqStatus == HttpStatusCode.Accepted, $"report → {reqStatus}: {report}");
        var reportId = (string)report!["id"]!;
        deadline = DateTime.UtcNow.AddSeconds(60);
        while ((string?)report!["status"] is "queued" or "running" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(300);
            report = await leader.GetJsonAsync($"api/reports/{reportId}");
        }
        Assert.Equal("done", (string?)report!["status"]);
        using var file = await leader.Http.GetAsync($"api/reports/{reportId}/download");
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        var bytes = await file.Content.ReadAsByteArrayAsync();
        Assert.True(bytes.Length > 1000 && bytes[0] == (byte)'P' && bytes[1] == (byte)'K', "the download is an .xlsx (zip) package");
        Assert.Contains("filename*=UTF-8''", file.Content.Headers.GetValues("Content-Disposition").Single(), StringComparison.Ordinal);
    }
}

/// <summary>The embedded default: SQLite event store, in-process queue.</summary>
public sealed class SkeletonPathOnEmbeddedDefault : SkeletonPathTests
{
    protected override Task<ServerProcess> StartServerAsync() => ServerProcess.StartAsync();
}

/// <summary>The production profile: PostgreSQL event store, Redis queue, both real servers on loopback.</summary>
[Collection(ServersCollection.Name)]
public sealed class SkeletonPathOnRedisAndPostgres(ServersFixture servers) : SkeletonPathTests
{
    protected override async Task<ServerProcess> StartServerAsync() => await ServerProcess.StartAsync(await servers.ProductionSettingsAsync());
}
