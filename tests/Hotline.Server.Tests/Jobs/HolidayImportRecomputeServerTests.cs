using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Hotline.Domain.Calendar;
using Hotline.Testing;

namespace Hotline.Server.Tests.Jobs;

/// <summary>
/// End to end on a real server process: a reply deadline that reaches into 2027 (not loaded: Monday–Friday, provisional)
/// is recomputed by the job the holiday import triggers, and the ticket's history shows it. Also the dispatcher hold
/// endpoints with If-Match, 409 and 412.
/// </summary>
public sealed class HolidayImportRecomputeServerTests
{
    private static readonly DateOnly AfterSpringFestival2027 = new(2027, 2, 16);
    private static readonly string[] HoldTypes = ["DispatchHeld", "DispatchHoldReleased"];

    /// <summary>Working days (on the built-in 2025–2026 calendar, Mon–Fri after it) from tomorrow to the target day.</summary>
    private static int WorkingDaysUntil(DateOnly target)
    {
        var calendar = new WorkingCalendar(HolidaySchedule.Official);
        var today = ChinaTime.DateOf(DateTimeOffset.UtcNow);
        if (target <= today.AddDays(10)) target = today.AddDays(30); // run after Feb 2027: still a deadline inside the imported year
        var n = 0;
        for (var d = today.AddDays(1); d <= target; d = d.AddDays(1))
            if (calendar.IsScheduled(d) ? calendar.IsWorkingDay(d) : WorkingCalendar.IsMondayToFriday(d)) n++;
        return n;
    }

    [Fact]
    public async Task Importing_2027_through_the_endpoint_recomputes_the_open_provisional_reply_deadline()
    {
        var days = WorkingDaysUntil(AfterSpringFestival2027);
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["Hotline:TimeLimits:Rules:0:Kind"] = "Reply",
            ["Hotline:TimeLimits:Rules:0:Type"] = "投诉",
            ["Hotline:TimeLimits:Rules:0:Urgency"] = "一般",
            ["Hotline:TimeLimits:Rules:0:Amount"] = days.ToString(CultureInfo.InvariantCulture),
            ["Hotline:TimeLimits:Rules:0:Unit"] = "WorkingDays",
        });
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        using var dispatcher = await ApiClient.LoginAsync(server, "disp1");
        using var admin = await ApiClient.LoginAsync(server, "admin");

        var (status, ticket, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", new
        {
            channel = "电话", type = "投诉", urgency = "一般", categoryCode = "010201", areaCode = "0301",
            content = "小区楼道长期堆放杂物，物业不处理", callerName = "赵敏", callerPhone = "13500003333",
        }, idempotencyKey: Guid.NewGuid().ToString());
        Assert.True(status == HttpStatusCode.Created, $"register → {status}: {ticket}");
        var id = (string)ticket!["id"]!;
        var dispatched = await dispatcher.ActAsync(id, "dispatch", new { unitId = "zjj" }, (long)ticket["version"]!);
        var task = dispatched["tasks"]![0]!;
        var oldDue = DateTimeOffset.Parse((string)task["replyDueAt"]!, CultureInfo.InvariantCulture);
        Assert.True((bool)task["deadline"]!["provisional"]!, $"the reply deadline {oldDue:O} should be provisional before 2027 is imported");

        using var content = new StringContent(HolidayImport2027, Encoding.UTF8, "application/json");
        using var import = await admin.Http.PostAsync("api/admin/calendar/import", content);
        var imported = JsonNode.Parse(await import.Content.ReadAsStringAsync())!;
        Assert.True(import.StatusCode == HttpStatusCode.OK, $"import → {import.StatusCode}: {imported}");
        Assert.Equal("scheduled", (string?)imported["recompute"]);

        // The triggered job runs on the scheduler's thread: wait for its event to reach the ticket.
        JsonNode details = ticket;
        for (var i = 0; i < 150; i++)
        {
            details = await dispatcher.GetJsonAsync($"api/tickets/{id}");
            if (details["history"]!.AsArray().Any(h => (string?)h!["type"] == "DeadlinesRecomputed")) break;
            await Task.Delay(200);
        }
        Assert.True(details["history"]!.AsArray().Any(h => (string?)h!["type"] == "DeadlinesRecomputed"), $"no recomputation in the history:\n{details["history"]}\n{server.Log[^Math.Min(3000, server.Log.Length)..]}");

        // The new deadline is what the calendar with 2027 says (counted from the dispatch, sign-for being 2 natural hours after it).
        var newTask = details["tasks"]![0]!;
        var newDue = DateTimeOffset.Parse((string)newTask["replyDueAt"]!, CultureInfo.InvariantCulture);
        var dispatchedAt = DateTimeOffset.Parse((string)newTask["signDueAt"]!, CultureInfo.InvariantCulture).AddHours(-2);
        var with2027 = new WorkingCalendar(HolidaySchedule.Official.WithYear(HolidayCnImporter.Parse(HolidayImport2027)));
        Assert.Equal(with2027.AddWorkingDays(dispatchedAt, days).DueAt, newDue);
        Assert.False((bool)newTask["deadline"]!["provisional"]!);
        if (ChinaTime.DateOf(dispatchedAt) < new DateOnly(2027, 2, 1))
            Assert.True(newDue > oldDue, $"crossing the 2027 Spring Festival the deadline moves later: {oldDue:O} → {newDue:O}");

        // A second import of the same year triggers the job again; it finds nothing more to change.
        using var again = new StringContent(HolidayImport2027, Encoding.UTF8, "application/json");
        using var second = await admin.Http.PostAsync("api/admin/calendar/import", again);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        await Task.Delay(2000);
        details = await dispatcher.GetJsonAsync($"api/tickets/{id}");
        Assert.Single(details["history"]!.AsArray(), h => (string?)h!["type"] == "DeadlinesRecomputed");
    }

    [Fact]
    public async Task A_dispatcher_holds_and_releases_a_ticket_with_if_match_and_gets_409_and_412_problems()
    {
        await using var server = await ServerProcess.StartAsync();
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        using var dispatcher = await ApiClient.LoginAsync(server, "disp1");
        var (_, ticket, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", new
        {
            channel = "电话", type = "求助", urgency = "一般", categoryCode = "010201", areaCode = "0301",
            content = "楼道灯坏了一个月", callerName = "钱进", callerPhone = "13500004444",
        }, idempotencyKey: Guid.NewGuid().ToString());
        var id = (string)ticket!["id"]!;
        var version = (long)ticket["version"]!;

        var (noReason, problem, _) = await dispatcher.SendAsync(HttpMethod.Post, $"api/tickets/{id}/hold-dispatch", new { reason = " " }, version);
        Assert.Equal(HttpStatusCode.BadRequest, noReason);
        Assert.NotNull(problem!["errors"]!["reason"]);

        var held = await dispatcher.ActAsync(id, "hold-dispatch", new { reason = "等待来电人补充门牌号" }, version);
        Assert.Contains("release-hold", held["allowedActions"]!.AsArray().Select(a => (string?)a));
        var (stale, _, _) = await dispatcher.SendAsync(HttpMethod.Post, $"api/tickets/{id}/release-hold", new { }, version);
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale);
        var (twice, conflict, _) = await dispatcher.SendAsync(HttpMethod.Post, $"api/tickets/{id}/hold-dispatch", new { reason = "再暂缓" }, (long)held["version"]!);
        Assert.Equal(HttpStatusCode.Conflict, twice);
        Assert.Contains("release-hold", conflict!.ToJsonString(), StringComparison.Ordinal);

        var attention = await dispatcher.GetJsonAsync("api/jobs/dispatch-attention");
        Assert.Contains(attention.AsArray(), a => (string?)a!["ticketId"] == id && (string?)a["reasonCode"] == "held");

        var released = await dispatcher.ActAsync(id, "release-hold", new { reason = "已补充" }, (long)held["version"]!);
        Assert.Contains("hold-dispatch", released["allowedActions"]!.AsArray().Select(a => (string?)a));
        Assert.Equal(HoldTypes, released["history"]!.AsArray().Select(h => (string)h!["type"]!).Where(t => HoldTypes.Contains(t)).ToArray());
    }

    /// <summary>A made-up 2027 notice (test data, not the State Council's): 元旦 Jan 1–3, 春节 Feb 6–12 off, Saturday Feb 13 worked.</summary>
    private const string HolidayImport2027 = DeadlineRecomputeAndHoldJobTests.HolidayCn2027;
}
