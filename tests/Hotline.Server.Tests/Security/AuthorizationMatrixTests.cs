using System.Net;
using System.Net.Http.Json;
using Hotline.Testing;
using Xunit.Abstractions;

namespace Hotline.Server.Tests.Security;

/// <summary>
/// Every role against every class of endpoint: allowed roles get past authorization (any answer but 401/403),
/// denied roles get 403, anonymous callers 401; a unit handler asking for another unit's ticket gets 404, exactly as
/// for a ticket that does not exist. Writes are sent with a stale If-Match or an invalid body, so an allowed call
/// answers 4xx from the handler and nothing changes.
/// </summary>
[Collection(Faults.FaultsCollection.Name)]
public sealed class AuthorizationMatrixTests(ITestOutputHelper output)
{
    private static readonly string[] Users = ["agent1", "super1", "disp1", "handler1", "cb1", "leader1", "admin"];

    private static readonly string[] Office = ["agent1", "super1", "disp1", "cb1", "admin"];

    private static readonly string[] Dispatchers = ["disp1", "admin"];

    [Fact]
    public async Task Each_role_reaches_exactly_its_endpoint_classes()
    {
        await using var server = await ServerProcess.StartAsync(Faults.FaultSettings.Relaxed());
        var clients = new Dictionary<string, ApiClient>();
        foreach (var u in Users.Append("handler2")) clients[u] = await ApiClient.LoginAsync(server, u);
        try
        {
            // A ticket dispatched to zjj (handler1's unit), and one still undispatched.
            var (_, t, _) = await clients["agent1"].SendAsync(HttpMethod.Post, "api/tickets", Registration("甲"), idempotencyKey: Guid.NewGuid().ToString());
            var mine = (string)t!["id"]!;
            await clients["disp1"].ActAsync(mine, "dispatch", new { unitId = "zjj" }, 1);
            (_, t, _) = await clients["agent1"].SendAsync(HttpMethod.Post, "api/tickets", Registration("乙"), idempotencyKey: Guid.NewGuid().ToString());
            var undispatched = (string)t!["id"]!;

            var matrix = new (string Name, HttpMethod Method, string Url, object? Body, long? IfMatch, string[] Allowed)[]
            {
                ("me", HttpMethod.Get, "api/me", null, null, Users),
                ("reference", HttpMethod.Get, "api/reference/categories", null, null, Users),
                ("ticket list", HttpMethod.Get, "api/tickets", null, null, Users),
                ("register", HttpMethod.Post, "api/tickets", new { }, null, Office),
                ("ticket of own unit", HttpMethod.Get, $"api/tickets/{mine}", null, null, Users),
                ("dispatch", HttpMethod.Post, $"api/tickets/{undispatched}/dispatch", new { unitId = "zjj" }, 99, ["disp1", "admin"]),
                ("sign-for", HttpMethod.Post, $"api/tickets/{mine}/sign-for", new { }, 99, ["handler1"]),
                ("reply", HttpMethod.Post, $"api/tickets/{mine}/reply", new { result = "resolved", text = "x" }, 99, ["handler1"]),
                ("review", HttpMethod.Post, $"api/tickets/{mine}/review", new { accept = true }, 99, ["disp1", "admin"]),
                ("callback", HttpMethod.Post, $"api/tickets/{mine}/callback", new { satisfaction = "满意" }, 99, ["cb1", "disp1", "admin"]),
                ("close", HttpMethod.Post, $"api/tickets/{mine}/close", new { reason = "x" }, 99, ["disp1", "admin"]),
                ("to-dispatch list", HttpMethod.Get, "api/worklists/to-dispatch", null, null, ["disp1", "admin"]),
                ("unit inbox", HttpMethod.Get, "api/worklists/inbox", null, null, ["handler1"]),
                ("wallboard", HttpMethod.Get, "api/calls/wallboard", null, null, ["super1", "leader1", "admin"]),
                ("simulated call", HttpMethod.Post, "api/dev/calls", new { caller = "x" }, null, ["agent1", "super1", "admin"]),
                ("reports", HttpMethod.Get, "api/reports", null, null, ["super1", "leader1", "admin"]),
                ("dashboard", HttpMethod.Get, "api/dashboard", null, null, ["super1", "leader1", "admin"]),
                ("calendar admin", HttpMethod.Get, "api/admin/calendar", null, null, ["admin"]),
                ("jobs admin", HttpMethod.Get, "api/admin/jobs", null, null, ["admin"]),
                ("unlock user", HttpMethod.Post, "api/admin/users/nobody/unlock", null, null, ["admin"]),

                // Intake endings, dispatcher steps, the unit's steps and the layers on any open state.
                ("answer directly", HttpMethod.Post, $"api/tickets/{undispatched}/answer-directly", new { text = "x" }, 99, Office),
                ("out of scope", HttpMethod.Post, $"api/tickets/{undispatched}/out-of-scope", new { reasonCode = "other", referredTo = "x" }, 99, Office),
                ("emergency transfer", HttpMethod.Post, $"api/tickets/{undispatched}/emergency-transfer", new { line = "110", note = "x" }, 99, Office),
                ("hold dispatch", HttpMethod.Post, $"api/tickets/{undispatched}/hold-dispatch", new { reason = "x" }, 99, Dispatchers),
                ("release hold", HttpMethod.Post, $"api/tickets/{undispatched}/release-hold", new { }, 99, Dispatchers),
                ("merge", HttpMethod.Post, $"api/tickets/{undispatched}/merge", new { masterId = mine, reason = "x" }, 99, Dispatchers),
                ("sub-dispatch", HttpMethod.Post, $"api/tickets/{mine}/sub-dispatch", new { unitId = "x" }, 99, ["handler1"]),
                ("request return", HttpMethod.Post, $"api/tickets/{mine}/request-return", new { reason = "x" }, 99, ["handler1"]),
                ("request extension", HttpMethod.Post, $"api/tickets/{mine}/request-extension", new { days = 1, reason = "x" }, 99, ["handler1"]),
                ("first contact", HttpMethod.Post, $"api/tickets/{mine}/first-contact", new { }, 99, ["handler1"]),
                ("decide return", HttpMethod.Post, $"api/tickets/{mine}/decide-return", new { approve = true }, 99, ["disp1", "handler1", "admin"]),
                ("decide extension", HttpMethod.Post, $"api/tickets/{mine}/decide-extension", new { approve = true }, 99, ["disp1", "handler1", "admin"]),
                ("progress note", HttpMethod.Post, $"api/tickets/{mine}/note", new { text = "x" }, 99, ["agent1", "super1", "disp1", "handler1", "cb1", "admin"]),
                ("urge", HttpMethod.Post, $"api/tickets/{mine}/urge", new { reason = "x" }, 99, ["super1", "disp1", "admin"]),
                ("supervise", HttpMethod.Post, $"api/tickets/{mine}/supervise", new { level = "yellow", reason = "x" }, 99, ["super1", "disp1", "admin"]),
                ("schedule callback", HttpMethod.Post, $"api/tickets/{mine}/schedule-callback", new { }, 99, Dispatchers),
                ("callback failed", HttpMethod.Post, $"api/tickets/{mine}/callback-failed", new { reason = "x" }, 99, ["cb1", "disp1", "admin"]),
                ("reopen", HttpMethod.Post, $"api/tickets/{mine}/reopen", new { reason = "x" }, 99, Dispatchers),

                // Read models and work lists outside the ticket resource.
                ("another unit's inbox", HttpMethod.Get, "api/units/cgj/inbox", null, null, ["agent1", "super1", "disp1", "cb1", "leader1", "admin"]),
                ("overdue tasks", HttpMethod.Get, "api/tasks/overdue", null, null, Users),
                ("dispatch attention", HttpMethod.Get, "api/jobs/dispatch-attention", null, null, Dispatchers),
                ("announcements", HttpMethod.Get, "api/announcements", null, null, Users),
                ("password change", HttpMethod.Post, "api/auth/password", new { }, null, Users),

                // Channels: drafts are the agents' side of SMS and mail; the outbox is watched by the office.
                ("drafts", HttpMethod.Get, "api/drafts", null, null, Office),
                ("complete a draft", HttpMethod.Post, $"api/drafts/{Guid.NewGuid()}/complete", new { }, null, Office),
                ("outbox", HttpMethod.Get, "api/outbox", null, null, ["super1", "disp1", "leader1", "admin"]),
                ("outbox retry", HttpMethod.Post, $"api/outbox/{Guid.NewGuid()}/retry", null, null, ["super1", "disp1", "admin"]),

                // Knowledge base: agents search, units propose, the office approves.
                ("knowledge search", HttpMethod.Get, "api/knowledge/search?q=x", null, null, Office),
                ("knowledge items", HttpMethod.Get, "api/knowledge/items", null, null, Users),
                ("knowledge propose", HttpMethod.Post, "api/knowledge/items", new { }, null, ["super1", "disp1", "handler1", "admin"]),
                ("knowledge approve", HttpMethod.Post, $"api/knowledge/items/{Guid.NewGuid()}/approve", new { }, null, ["super1", "disp1", "admin"]),
                ("knowledge synonyms", HttpMethod.Put, "api/knowledge/synonyms", "not an object", null, ["super1", "disp1", "admin"]),

                // Leaders' reports and the rest of the admin area.
                ("kpi", HttpMethod.Get, "api/reports/kpi", null, null, ["super1", "leader1", "admin"]),
                ("report download", HttpMethod.Get, $"api/reports/{Guid.NewGuid()}/download", null, null, ["super1", "leader1", "admin"]),
                ("audit trail", HttpMethod.Get, "api/admin/audit", null, null, ["admin"]),
                ("endpoint list", HttpMethod.Get, "api/admin/endpoints", null, null, ["admin"]),
                ("read models admin", HttpMethod.Get, "api/admin/read-models", null, null, ["admin"]),
                ("read model lag", HttpMethod.Get, "api/jobs/read-model-lag", null, null, ["admin"]),
                ("trigger a job", HttpMethod.Post, "api/admin/jobs/nogroup/nojob/trigger", null, null, ["admin"]),
            };

            var failures = new List<string>();
            foreach (var (name, method, url, body, ifMatch, allowed) in matrix)
            {
                foreach (var user in Users)
                {
                    var (status, answer, _) = await clients[user].SendAsync(method, url, body, ifMatch);
                    var ok = allowed.Contains(user)
                        ? status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                        : status == HttpStatusCode.Forbidden;
                    if (!ok) failures.Add($"{name}: {user} → {(int)status} (expected {(allowed.Contains(user) ? "allowed" : "403")}) {answer?.ToJsonString()[..Math.Min(200, answer.ToJsonString().Length)]}");
                }
                using var anonymous = server.CreateClient();
                using var request = new HttpRequestMessage(method, url);
                if (body is not null) request.Content = JsonContent.Create(body);
                var anon = await anonymous.SendAsync(request);
                if (anon.StatusCode != HttpStatusCode.Unauthorized) failures.Add($"{name}: anonymous → {(int)anon.StatusCode}");
            }

            // Another unit's ticket is 404 to a handler, for reads and for every write, exactly like a ticket that does not exist.
            foreach (var (method, url, body) in new (HttpMethod, string, object?)[]
            {
                (HttpMethod.Get, $"api/tickets/{mine}", null),
                (HttpMethod.Get, $"api/tickets/{undispatched}", null),
                (HttpMethod.Post, $"api/tickets/{mine}/sign-for", new { }),
                (HttpMethod.Post, $"api/tickets/{mine}/reply", new { result = "resolved", text = "x" }),
                (HttpMethod.Get, $"api/tickets/{Guid.NewGuid()}", null),
            })
            {
                var (status, answer, _) = await clients["handler2"].SendAsync(method, url, body, method == HttpMethod.Post ? 2 : null);
                if (status != HttpStatusCode.NotFound) failures.Add($"handler2 (other unit) {method} {url} → {(int)status}: {answer?.ToJsonString()}");
            }
            var list = await clients["handler2"].GetJsonAsync("api/tickets");
            if (list["items"]!.AsArray().Any(x => (string?)x!["id"] == mine || (string?)x!["id"] == undispatched)) failures.Add("handler2 lists another unit's ticket");

            // Hubs: the agent console for agents, supervisors and admins; the wallboard hub for supervisors, leaders and admins.
            foreach (var (hub, allowed) in new[] { ("hubs/agent", new[] { "agent1", "super1", "admin" }), ("hubs/supervisor", new[] { "super1", "leader1", "admin" }), ("hubs/notifications", Users) })
                foreach (var user in Users)
                {
                    var connected = true;
                    try { await (await HubClient.ConnectAsync(server.BaseAddress, hub, clients[user].Token)).DisposeAsync(); }
                    catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or InvalidOperationException) { connected = false; }
                    if (connected != allowed.Contains(user)) failures.Add($"{hub}: {user} {(connected ? "connected" : "refused")}");
                }

            output.WriteLine($"{matrix.Length} endpoint classes × {Users.Length} roles + anonymous, 5 cross-unit probes, 3 hubs × {Users.Length} roles");
            Assert.True(failures.Count == 0, string.Join("\n", failures));
        }
        finally
        {
            foreach (var c in clients.Values) c.Dispose();
        }
    }

    private static object Registration(string note) => new
    {
        channel = "电话", type = "投诉", urgency = "一般", categoryCode = "010201", areaCode = "010101",
        address = "湖滨路 5 号", content = "噪音扰民（" + note + "）", callerName = "钱七", callerPhone = "13800002222",
    };
}
