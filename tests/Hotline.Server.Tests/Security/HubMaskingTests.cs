using System.Net;
using System.Text.Json.Nodes;
using Hotline.Server.Tickets;
using Hotline.Testing;
using Xunit.Abstractions;

namespace Hotline.Server.Tests.Security;

/// <summary>
/// Personal data in hub messages (issue 8): every push that a unit handler, an agent and a supervisor receive while two
/// tickets (one plain, one confidential 举报 against the unit that handles it) are registered, dispatched, signed for,
/// urged and supervised, while the agent takes a call from the plain ticket's caller, and while a call from the
/// reporter's number is abandoned (漏接). No push carries a caller's
/// name, phone or address; the confidential reporter reaches the unit in no form at all (neither raw nor masked). The
/// one place a phone number is pushed is the agent's own call card (CallOffered, CallConnected, AgentState): the
/// hotline office sees callers unmasked (README "Security"), and the agent needs the number to handle the call.
/// </summary>
[Collection(Faults.FaultsCollection.Name)]
public sealed class HubMaskingTests(ITestOutputHelper output)
{
    private const string PlainName = "诸葛明远";
    private const string PlainPhone = "13712346789";
    private const string PlainAddress = "梧桐巷 17 号 2 单元 501 室";
    private const string ReporterName = "欧阳慧敏";
    private const string ReporterPhone = "13698761234";
    private const string ReporterAddress = "银杏路 9 号 4 栋 1102 室";

    /// <summary>Agent-hub pushes of the agent's own call, whose <c>caller</c> field is the calling number by design.</summary>
    private static readonly string[] CallCards = ["CallOffered", "CallConnected", "AgentState"];

    [Fact]
    public async Task Hub_pushes_to_a_unit_handler_an_agent_and_a_supervisor_carry_no_personal_data_and_never_the_confidential_reporter()
    {
        await using var server = await ServerProcess.StartAsync(Faults.FaultSettings.Relaxed());
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        using var supervisor = await ApiClient.LoginAsync(server, "super1");
        using var dispatcher = await ApiClient.LoginAsync(server, "disp1");
        using var handler = await ApiClient.LoginAsync(server, "handler1"); // 市住建局 (zjj)

        await using var handlerNotices = await HubClient.ConnectAsync(server.BaseAddress, "hubs/notifications", handler.Token);
        await using var agentConsole = await HubClient.ConnectAsync(server.BaseAddress, "hubs/agent", agent.Token);
        await using var agentNotices = await HubClient.ConnectAsync(server.BaseAddress, "hubs/notifications", agent.Token);
        await using var supervisorWallboard = await HubClient.ConnectAsync(server.BaseAddress, "hubs/supervisor", supervisor.Token);
        await using var supervisorConsole = await HubClient.ConnectAsync(server.BaseAddress, "hubs/agent", supervisor.Token);
        await using var supervisorNotices = await HubClient.ConnectAsync(server.BaseAddress, "hubs/notifications", supervisor.Token);

        // Two tickets registered by agent1 (so its console gets their TicketChanged pushes), both dispatched to zjj.
        var plain = await RegisterAsync(agent, "投诉", false, PlainName, PlainPhone, PlainAddress, "小区楼道长期堆放杂物，物业不处理。");
        var confidential = await RegisterAsync(agent, "举报", true, ReporterName, ReporterPhone, ReporterAddress, "举报市住建局工作人员在审批中索要好处费。");
        var versions = new Dictionary<string, long>();
        foreach (var (id, v) in new[] { plain, confidential })
        {
            var t = await dispatcher.ActAsync(id, "dispatch", new { unitId = "zjj" }, v);
            t = await handler.ActAsync(id, "sign-for", new { }, (long)t["version"]!);
            t = await supervisor.ActAsync(id, "urge", new { reason = "请尽快联系来电人并反馈进展" }, (long)t["version"]!);
            versions[id] = (long)t["version"]!;
        }
        var last = await supervisor.ActAsync(confidential.Id, "supervise", new { level = "yellow", reason = "群众反映强烈，列入督办" }, versions[confidential.Id]);
        versions[confidential.Id] = (long)last["version"]!;

        // What the unit is told: the urges and the supervision, as notices naming the ticket.
        foreach (var id in new[] { plain.Id, confidential.Id })
            await handlerNotices.WaitForAsync("Notice", a => (string?)a[0]!["ticketId"] == id && (string?)a[0]!["kind"] == "urge");
        await handlerNotices.WaitForAsync("Notice", a => (string?)a[0]!["ticketId"] == confidential.Id && (string?)a[0]!["kind"] == "supervision");
        // What the registering agent's console is told: each ticket's change up to its last version.
        foreach (var (id, version) in versions)
            await agentConsole.WaitForAsync("TicketChanged", a => (string?)a[0]!["ticketId"] == id && (long)a[0]!["version"]! == version);

        // A call from the plain ticket's caller: the screen pop on the offer.
        Assert.Equal("Ready", (string?)(await agentConsole.InvokeAsync("GoReady"))!["status"]);
        var (status, injected, _) = await agent.SendAsync(HttpMethod.Post, "api/dev/calls", new { caller = PlainPhone });
        Assert.True(status == HttpStatusCode.OK, $"inject → {status}: {injected}");
        var callId = (string)injected!["callId"]!;
        var offer = (await agentConsole.WaitForAsync("CallOffered", a => (string?)a[0]!["callId"] == callId))[0]!;
        // The rule for the office: the agent sees the calling number unmasked; the screen pop lists the caller's earlier
        // tickets by number, type, state and a content summary only: no name, no address, no number of its own.
        Assert.Equal(PlainPhone, (string?)offer["caller"]);
        var previous = offer["screenPop"]!["previousTickets"]!.AsArray();
        Assert.Contains(previous, p => (string?)p!["id"] == plain.Id);
        foreach (var value in StringsOf(offer["screenPop"]!))
            Assert.False(new[] { PlainName, PlainPhone, PlainAddress }.Any(f => value.Contains(f, StringComparison.Ordinal)), $"screen pop carries personal data: {value}");
        Assert.True((bool)(await agentConsole.InvokeAsync("Accept", callId))!);
        await agentConsole.WaitForAsync("CallConnected", a => (string?)a[0]!["callId"] == callId);
        Assert.True((bool)(await agentConsole.InvokeAsync("HangUp", callId))!);
        await agentConsole.WaitForAsync("CallEnded", a => (string?)a[0]!["callId"] == callId);

        // A call from the reporter's number while agent1 is in wrap-up: the caller gives up, the 漏接回拨 list changes on
        // every agent-hub connection (agent and supervisor); the list itself (with the number) is read by invocation only.
        (status, injected, _) = await agent.SendAsync(HttpMethod.Post, "api/dev/calls", new { caller = ReporterPhone, patienceSeconds = 1 });
        Assert.True(status == HttpStatusCode.OK, $"inject → {status}: {injected}");
        var missedId = (string)injected!["callId"]!;
        await supervisorConsole.WaitForAsync("MissedCallsChanged", a => (string?)a[0]!["callId"] == missedId && (string?)a[0]!["change"] == "listed");
        await agentConsole.WaitForAsync("MissedCallsChanged", a => (string?)a[0]!["callId"] == missedId && (string?)a[0]!["change"] == "listed");
        // A wallboard pushed after that (every 2 s): the supervisor's view of both calls is in.
        var endedAt = DateTimeOffset.UtcNow;
        await supervisorWallboard.WaitForAsync("Wallboard", a => DateTimeOffset.Parse((string)a[0]!["at"]!, System.Globalization.CultureInfo.InvariantCulture) > endedAt);

        // Every push each of them received.
        string[] everyCaller = [PlainName, PlainPhone, PlainAddress, ReporterName, ReporterPhone, ReporterAddress];
        string[] reporterAnyForm = [ReporterName, ReporterPhone, ReporterAddress, Masking.Name(ReporterName), Masking.Phone(ReporterPhone)];
        var failures = new List<string>();
        void Check(string who, HubClient hub, string[] forbidden, bool ownCallCards)
        {
            foreach (var (target, arguments) in hub.Received)
            {
                var pushed = (JsonArray)arguments.DeepClone();
                if (ownCallCards && CallCards.Contains(target)) RemoveCaller(pushed);
                foreach (var value in StringsOf(pushed))
                    foreach (var f in forbidden.Where(x => value.Contains(x, StringComparison.Ordinal)))
                        failures.Add($"{who} got {target} carrying '{f}': {arguments.ToJsonString()}");
            }
        }
        Check("handler1 (notifications)", handlerNotices, [.. everyCaller.Union(reporterAnyForm)], ownCallCards: false);
        Check("agent1 (agent)", agentConsole, everyCaller, ownCallCards: true);
        Check("agent1 (notifications)", agentNotices, everyCaller, ownCallCards: false);
        Check("super1 (supervisor)", supervisorWallboard, everyCaller, ownCallCards: false);
        Check("super1 (agent)", supervisorConsole, everyCaller, ownCallCards: false);
        Check("super1 (notifications)", supervisorNotices, everyCaller, ownCallCards: false);

        var counts = new[] { ("handler1", handlerNotices), ("agent1 console", agentConsole), ("agent1 notices", agentNotices), ("super1 wallboard", supervisorWallboard), ("super1 console", supervisorConsole), ("super1 notices", supervisorNotices) }
            .Select(x => $"{x.Item1} {x.Item2.Received.Count} ({string.Join(", ", x.Item2.Received.GroupBy(m => m.Target).Select(g => $"{g.Key}×{g.Count()}"))})");
        output.WriteLine("pushes checked: " + string.Join("; ", counts));
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static async Task<(string Id, long Version)> RegisterAsync(ApiClient agent, string type, bool confidential, string name, string phone, string address, string content)
    {
        var (status, t, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", new
        {
            channel = "电话", type, urgency = "一般", categoryCode = "010201", areaCode = "010101", address, content,
            callerName = name, callerPhone = phone, confidential,
        }, idempotencyKey: Guid.NewGuid().ToString());
        Assert.True(status is HttpStatusCode.OK or HttpStatusCode.Created, $"register → {status}: {t}");
        return ((string)t!["id"]!, (long)t["version"]!);
    }

    /// <summary>Drops every <c>caller</c> property (the call card's calling number) from a call push.</summary>
    private static void RemoveCaller(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                o.Remove("caller");
                foreach (var (_, child) in o.ToList()) RemoveCaller(child);
                break;
            case JsonArray a:
                foreach (var child in a) RemoveCaller(child);
                break;
            default:
                break;
        }
    }

    /// <summary>Every string (and property name) in a pushed payload, decoded: the hub protocol escapes non-ASCII text.</summary>
    private static IEnumerable<string> StringsOf(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, child) in o)
                {
                    yield return key;
                    foreach (var s in StringsOf(child)) yield return s;
                }
                break;
            case JsonArray a:
                foreach (var child in a)
                    foreach (var s in StringsOf(child)) yield return s;
                break;
            case JsonValue v:
                yield return v.TryGetValue<string>(out var text) ? text : v.ToJsonString();
                break;
            default:
                break;
        }
    }
}
