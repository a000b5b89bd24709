using System.Net;
using System.Text.Json.Nodes;
using Hotline.Testing;

namespace Hotline.Server.Tests.Lifecycle;

/// <summary>
/// The whole closed loop on a real server process with PostgreSQL (and Redis): dispatch → sub-dispatch → return up one
/// level → return to the office → re-dispatch → extension → reply → review rework → reply → callback 不满意 → 重办 →
/// callback 满意 → close; then masking per role and the audit trail of personal-data reads.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class LifecycleTests(ServersFixture servers)
{
    /// <summary>The demo users plus a handler of 湖滨街道办事处 (town-0101, below 东湖区人民政府 gov-01).</summary>
    private async Task<ServerProcess> StartAsync()
    {
        var settings = await servers.ProductionSettingsAsync();
        settings["Hotline:Users:0:Username"] = "town1";
        settings["Hotline:Users:0:Password"] = ApiClient.Password;
        settings["Hotline:Users:0:DisplayName"] = "钱进";
        settings["Hotline:Users:0:Roles:0"] = "handler";
        settings["Hotline:Users:0:UnitId"] = "town-0101";
        return await ServerProcess.StartAsync(settings);
    }

    private static object Registration(string type = "投诉", bool confidential = false, string phone = "13912345678") => new
    {
        channel = "电话", type, urgency = "一般", categoryCode = "010201", areaCode = "010101", address = "湖滨路 88 号 3 栋",
        content = "小区物业长期不清理楼道垃圾，多次反映无果。", callerName = "王建华", callerPhone = phone, confidential,
    };

    private static readonly string[] CoHandlers = ["cgj"];

    private static long V(JsonNode t) => (long)t["version"]!;

    private static JsonNode TaskOf(JsonNode t, string unitId) => t["tasks"]!.AsArray().Last(x => (string?)x!["unitId"] == unitId)!;

    [Fact]
    public async Task A_ticket_runs_the_whole_loop_and_its_history_shows_every_step()
    {
        await using var server = await StartAsync();
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        using var dispatcher = await ApiClient.LoginAsync(server, "disp1");
        using var district = await ApiClient.LoginAsync(server, "handler3"); // gov-01 东湖区人民政府
        using var town = await ApiClient.LoginAsync(server, "town1");        // town-0101 湖滨街道办事处
        using var housing = await ApiClient.LoginAsync(server, "handler1");  // zjj 市住房和城乡建设局
        using var callback = await ApiClient.LoginAsync(server, "cb1");

        var (status, t, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", Registration());
        Assert.True(status == HttpStatusCode.Created, $"register → {status}: {t}");
        var id = (string)t!["id"]!;

        // Dispatch against the catalogue (it suggests zjj): an override needs a reason; a co-handler gets its own task.
        var (bad, badBody, _) = await dispatcher.SendAsync(HttpMethod.Post, $"api/tickets/{id}/dispatch", new { unitId = "gov-01" }, V(t));
        Assert.True(bad == HttpStatusCode.BadRequest, $"override without reason → {bad}: {badBody}");
        t = await dispatcher.ActAsync(id, "dispatch", new { unitId = "gov-01", coUnitIds = CoHandlers, overrideReason = "属地先行处置" }, V(t));
        Assert.Equal("Dispatched", (string?)t["state"]);
        Assert.Equal(2, t["tasks"]!.AsArray().Count);
        Assert.Equal("协办", (string?)TaskOf(t, "cgj")["role"]);

        // The district signs for and sub-dispatches to the town; the town signs for, then returns it up one level.
        t = await district.ActAsync(id, "sign-for", new { }, V(t));
        Assert.Equal("InProgress", (string?)t["state"]);
        var (notBelow, notBelowBody, _) = await district.SendAsync(HttpMethod.Post, $"api/tickets/{id}/sub-dispatch", new { unitId = "town-0201" }, V(t));
        Assert.True(notBelow == HttpStatusCode.BadRequest, $"sub-dispatch outside the subtree → {notBelow}: {notBelowBody}");
        t = await district.ActAsync(id, "sub-dispatch", new { unitId = "town-0101", reason = "请湖滨街道核实处理" }, V(t));
        Assert.Equal(1, (int)TaskOf(t, "town-0101")["level"]!);
        t = await town.GetJsonAsync($"api/tickets/{id}"); // the town sees the ticket now
        t = await town.ActAsync(id, "sign-for", new { }, V(t));
        t = await town.ActAsync(id, "request-return", new { reason = "该小区物业由区住建部门监管", legalBasis = "《物业管理条例》第五条" }, V(t));
        Assert.NotNull(TaskOf(t, "town-0101")["pendingReturn"]);
        // the office cannot decide a subtask's return; the district (one level up) does
        var (officeDecides, officeBody, _) = await dispatcher.SendAsync(HttpMethod.Post, $"api/tickets/{id}/decide-return", new { approve = true }, V(t));
        Assert.True(officeDecides == HttpStatusCode.Conflict, $"office decides a subtask return → {officeDecides}: {officeBody}");
        t = await district.ActAsync(id, "decide-return", new { approve = true, comment = "收回" }, V(t));
        Assert.Equal("Returned", (string?)TaskOf(t, "town-0101")["state"]);
        Assert.Equal("InProgress", (string?)t["state"]);

        // The district returns the main task to the office, which approves: back to 待派单.
        t = await district.ActAsync(id, "request-return", new { reason = "物业监管属市住建局职责" }, V(t));
        t = await dispatcher.ActAsync(id, "decide-return", new { approve = true, comment = "同意，改派住建局" }, V(t));
        Assert.Equal("Registered", (string?)t["state"]);
        Assert.Equal("派单", (string?)t["deadline"]!["kind"]);

        // Re-dispatch to the unit the catalogue suggests; sign, first contact, a progress note, an extension.
        t = await dispatcher.ActAsync(id, "dispatch", new { unitId = "zjj" }, V(t));
        t = await housing.ActAsync(id, "sign-for", new { }, V(t));
        t = await housing.ActAsync(id, "first-contact", new { }, V(t));
        Assert.NotNull(TaskOf(t, "zjj")["firstContactAt"]);
        t = await housing.ActAsync(id, "note", new { text = "已约物业公司现场查看" }, V(t));
        var dueBefore = DateTimeOffset.Parse((string)TaskOf(t, "zjj")["replyDueAt"]!, System.Globalization.CultureInfo.InvariantCulture);
        t = await housing.ActAsync(id, "request-extension", new { days = 5, reason = "需协调物业公司整改" }, V(t));
        t = await dispatcher.ActAsync(id, "decide-extension", new { approve = true, comment = "同意" }, V(t));
        var dueAfter = DateTimeOffset.Parse((string)TaskOf(t, "zjj")["replyDueAt"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(dueAfter >= dueBefore.AddDays(5), $"the extension moved the deadline: {dueBefore} → {dueAfter}");

        // Reply → review sends it back (rework) → reply again → accepted.
        t = await housing.ActAsync(id, "reply", new { result = "explained", text = "已责令物业整改。" }, V(t));
        t = await dispatcher.ActAsync(id, "review", new { accept = false, comment = "未说明整改期限" }, V(t));
        Assert.Equal("InProgress", (string?)t["state"]);
        Assert.Equal(1, (int)t["reworkCount"]!);
        t = await housing.ActAsync(id, "reply", new { result = "resolved", text = "物业已于三日内完成清理，建立每日保洁制度。" }, V(t));
        t = await dispatcher.ActAsync(id, "review", new { accept = true }, V(t));

        // Callback 不满意 → 重办; reply, review, callback 满意 → closed.
        t = await WaitForCallbackAsync(callback, id);
        t = await callback.ActAsync(id, "callback", new { satisfaction = "不满意", comment = "楼道仍有垃圾" }, V(t));
        Assert.Equal("InProgress", (string?)t["state"]);
        t = await housing.ActAsync(id, "reply", new { result = "resolved", text = "已再次督促清理并复查。" }, V(t));
        t = await dispatcher.ActAsync(id, "review", new { accept = true }, V(t));
        t = await WaitForCallbackAsync(callback, id);
        t = await callback.ActAsync(id, "callback", new { satisfaction = "满意" }, V(t));
        Assert.Equal("Closed", (string?)t["state"]);
        Assert.Equal("满意", (string?)t["callback"]!["satisfaction"]);
        Assert.Equal(2, t["callbacks"]!.AsArray().Count);

        var history = t["history"]!.AsArray().Select(h => (string)h!["type"]!).ToList();
        string[] expected =
        [
            "TicketRegistered", "TicketDispatched", "TicketDispatched", "TaskSignedFor", "TaskSubDispatched", "TaskSignedFor", "ReturnRequested", "ReturnApproved",
            "ReturnRequested", "ReturnApproved", "TicketDispatched", "TaskSignedFor", "CitizenContacted", "ProgressNoted", "ExtensionRequested", "ExtensionApproved",
            "ReplySubmitted", "ReworkOrdered", "ReplySubmitted", "ReplyAccepted", "CallbackScheduled", "CallbackRecorded", "ReworkOrdered",
            "ReplySubmitted", "ReplyAccepted", "CallbackScheduled", "CallbackRecorded", "TicketClosed",
        ];
        Assert.Equal(expected, history);
        Assert.All(t["history"]!.AsArray(), h =>
        {
            Assert.False(string.IsNullOrEmpty((string?)h!["actor"]));
            Assert.False(string.IsNullOrEmpty((string?)h["summary"]), $"{h["type"]} has a summary");
        });
        Assert.Contains(t["history"]!.AsArray(), h => ((string)h!["summary"]!).Contains("改派", StringComparison.Ordinal));

        // Every further step is refused with 409 naming the state and what is allowed.
        var (closed, closedBody, _) = await dispatcher.SendAsync(HttpMethod.Post, $"api/tickets/{id}/dispatch", new { unitId = "zjj" }, V(t));
        Assert.True(closed == HttpStatusCode.Conflict, $"dispatch a closed ticket → {closed}: {closedBody}");
        Assert.Equal("Closed", (string?)closedBody!["state"]);
        Assert.Equal(["reopen"], closedBody["allowedActions"]!.AsArray().Select(x => (string)x!).ToList());
    }

    private static async Task<JsonNode> WaitForCallbackAsync(ApiClient callback, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(45);
        var t = await callback.GetJsonAsync($"api/tickets/{id}");
        while ((string?)t["state"] != "AwaitingCallback" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(300);
            t = await callback.GetJsonAsync($"api/tickets/{id}");
        }
        Assert.Equal("AwaitingCallback", (string?)t["state"]);
        return t;
    }

    [Fact]
    public async Task Personal_data_is_masked_per_role_hidden_on_confidential_and_report_tickets_and_every_unmasked_read_is_audited()
    {
        await using var server = await StartAsync();
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        using var dispatcher = await ApiClient.LoginAsync(server, "disp1");
        using var handler = await ApiClient.LoginAsync(server, "handler1");
        using var other = await ApiClient.LoginAsync(server, "handler2");
        using var leader = await ApiClient.LoginAsync(server, "leader1");
        using var admin = await ApiClient.LoginAsync(server, "admin");

        async Task<string> DispatchedToZjj(object registration)
        {
            var (_, r, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", registration);
            var tid = (string)r!["id"]!;
            await dispatcher.ActAsync(tid, "dispatch", new { unitId = "zjj" }, V(r));
            return tid;
        }

        var plain = await DispatchedToZjj(Registration());
        var confidential = await DispatchedToZjj(Registration(confidential: true, phone: "13800001111"));
        var report = await DispatchedToZjj(Registration(type: "举报", phone: "13800002222"));

        // Office: unmasked.
        var seen = await dispatcher.GetJsonAsync($"api/tickets/{plain}");
        Assert.Equal("王建华", (string?)seen["caller"]!["name"]);
        Assert.Equal("13912345678", (string?)seen["caller"]!["phone"]);
        // The handling unit and the leader: masked.
        seen = await handler.GetJsonAsync($"api/tickets/{plain}");
        Assert.Equal("王**", (string?)seen["caller"]!["name"]);
        Assert.Equal("139****5678", (string?)seen["caller"]!["phone"]);
        Assert.Empty(seen["callIds"]!.AsArray());
        Assert.DoesNotContain("13912345678", seen.ToJsonString(), StringComparison.Ordinal);
        seen = await leader.GetJsonAsync($"api/tickets/{plain}");
        Assert.Equal("139****5678", (string?)seen["caller"]!["phone"]);
        // A unit with no task on the ticket does not see it at all.
        var (notMine, _, _) = await other.SendAsync(HttpMethod.Get, $"api/tickets/{plain}");
        Assert.Equal(HttpStatusCode.NotFound, notMine);

        // Confidential and 举报: the identity is hidden from the unit (and the leader), not just masked; the office still sees it.
        foreach (var hiddenId in new[] { confidential, report })
        {
            foreach (var reader in new[] { handler, leader })
            {
                seen = await reader.GetJsonAsync($"api/tickets/{hiddenId}");
                Assert.Equal("（保密）", (string?)seen["caller"]!["name"]);
                Assert.Equal("（保密）", (string?)seen["caller"]!["phone"]);
                Assert.True((bool)seen["identityHidden"]!);
                Assert.DoesNotContain("王", seen["caller"]!.ToJsonString(), StringComparison.Ordinal);
                Assert.DoesNotContain("1380000", seen.ToJsonString(), StringComparison.Ordinal);
            }
            seen = await dispatcher.GetJsonAsync($"api/tickets/{hiddenId}");
            Assert.StartsWith("1380000", (string)seen["caller"]!["phone"]!, StringComparison.Ordinal);
        }

        // The unit inbox shows the unit's tasks with a colour, and no personal data.
        var inbox = await handler.GetJsonAsync("api/units/zjj/inbox?box=to-sign");
        Assert.Equal(3, (int)inbox["total"]!);
        Assert.All(inbox["items"]!.AsArray(), row => Assert.Equal("normal", (string?)row!["deadline"]!["status"]));
        var (foreignInbox, _, _) = await handler.SendAsync(HttpMethod.Get, "api/units/cgj/inbox");
        Assert.Equal(HttpStatusCode.Forbidden, foreignInbox);

        // Audit: the office reads were recorded with who and why; masked reads were not. Only admins query it.
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"api/tickets/{report}"))
        {
            request.Headers.Add("X-Access-Reason", Uri.EscapeDataString("核实举报人联系方式"));
            using var response = await dispatcher.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var audit = await admin.GetJsonAsync($"api/admin/audit?ticketId={report}");
        var reads = audit["items"]!.AsArray();
        Assert.Equal(2, reads.Count);
        Assert.All(reads, r => Assert.Equal("disp1", (string?)r!["userId"]));
        Assert.Contains(reads, r => (string?)r!["why"] == "核实举报人联系方式");
        Assert.All(reads, r => Assert.False(string.IsNullOrEmpty((string?)r!["at"])));
        var plainAudit = await admin.GetJsonAsync($"api/admin/audit?ticketId={plain}");
        Assert.DoesNotContain(plainAudit["items"]!.AsArray(), r => (string?)r!["userId"] is "handler1" or "leader1");
        var (forbidden, _, _) = await dispatcher.SendAsync(HttpMethod.Get, "api/admin/audit");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden);
    }

    [Fact]
    public async Task A_repeat_caller_is_flagged_and_the_duplicate_merges_into_the_master()
    {
        await using var server = await StartAsync();
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        using var dispatcher = await ApiClient.LoginAsync(server, "disp1");
        using var handler = await ApiClient.LoginAsync(server, "handler1");

        var (_, master, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", Registration(phone: "13700001234"));
        var masterId = (string)master!["id"]!;
        Assert.False((bool)master["isRepeat"]!);
        master = await dispatcher.ActAsync(masterId, "dispatch", new { unitId = "zjj" }, V(master));

        var (_, dup, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", Registration(phone: "13700001234"));
        var dupId = (string)dup!["id"]!;
        Assert.True((bool)dup["isRepeat"]!);
        Assert.Equal((string?)master["number"], (string?)dup["repeatOf"]![0]!["number"]);
        Assert.Equal(1, (int)dup["contactsLast30Days"]!);
        var repeats = await dispatcher.GetJsonAsync("api/tickets?repeat=true&phone=13700001234");
        Assert.Equal(1, (int)repeats["total"]!);

        dup = await dispatcher.ActAsync(dupId, "merge", new { masterId, reason = "同一诉求" }, V(dup));
        Assert.Equal("Closed", (string?)dup["state"]);
        Assert.Equal("merged", (string?)dup["closeKind"]);
        Assert.Equal(masterId, (string?)dup["mergedInto"]);

        // The master's unit sees the duplicate's content.
        var seen = await handler.GetJsonAsync($"api/tickets/{masterId}");
        Assert.Equal((string?)dup["number"], (string?)seen["duplicates"]![0]!["number"]);
        Assert.Contains("DuplicateAttached", seen["history"]!.AsArray().Select(h => (string?)h!["type"]));

        // Search by text, category, area, unit, state.
        var found = await dispatcher.GetJsonAsync("api/tickets?q=楼道垃圾&category=0102&area=01&unit=zjj&state=Dispatched");
        Assert.Equal([masterId], found["items"]!.AsArray().Select(x => (string)x!["id"]!).ToList());
    }
}
