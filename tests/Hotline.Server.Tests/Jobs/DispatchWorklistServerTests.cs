using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Hotline.Testing;

namespace Hotline.Server.Tests.Jobs;

/// <summary>
/// The dispatchers' worklist (<c>/api/worklists/to-dispatch</c>) on a real server process with auto-dispatch every
/// second and no delay: each row carries the dispatch deadline with its colour, the hold and the auto-dispatch flag,
/// read from the ticket's events, and sorts by the dispatch deadline.
/// </summary>
public sealed class DispatchWorklistServerTests
{
    private static async Task<List<JsonNode>> ToDispatchAsync(ApiClient client, string sort = "")
    {
        var rows = new List<JsonNode>();
        for (var page = 1; ; page++)
        {
            var body = await client.GetJsonAsync($"api/worklists/to-dispatch?pageSize=200&page={page}{(sort.Length > 0 ? "&sort=" + sort : "")}");
            var items = body["items"]!.AsArray().Select(i => i!).ToList();
            rows.AddRange(items);
            if (items.Count == 0 || rows.Count >= (int)body["total"]!) return rows;
        }
    }

    private static async Task<JsonNode> RowWhenAsync(ApiClient client, string id, Func<JsonNode, bool> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var row = (await ToDispatchAsync(client)).SingleOrDefault(r => (string?)r["id"] == id);
            if (row is not null && condition(row)) return row;
            Assert.True(DateTime.UtcNow < until, $"worklist row of {id} never met the condition: {row}");
            await Task.Delay(250);
        }
    }

    private static DateTimeOffset DueOf(JsonNode row) => DateTimeOffset.Parse((string)row["deadline"]!["dueAt"]!, CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_to_dispatch_worklist_shows_the_hold_the_auto_dispatch_flag_and_the_dispatch_deadline_and_sorts_by_it()
    {
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["Hotline:Jobs:AutoDispatchSeconds"] = "1",
            ["Hotline:Jobs:AutoDispatchDelayMinutes"] = "0",
        });
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        using var dispatcher = await ApiClient.LoginAsync(server, "disp1");

        async Task<string> Register(string urgency, string content)
        {
            var (status, ticket, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", new
            {
                channel = "电话", type = "求助", urgency, categoryCode = "180101", areaCode = "0301", // 其他: no catalogue entry
                content, callerName = "孙丽", callerPhone = "13500005555",
            }, idempotencyKey: Guid.NewGuid().ToString());
            Assert.True(status == HttpStatusCode.Created, $"register → {status}: {ticket}");
            return (string)ticket!["id"]!;
        }
        var ordinary = await Register("一般", "小区门口井盖松动");
        var urgent = await Register("特急", "路口井盖缺失有人掉落风险");

        // Auto-dispatch cannot place either (only the district fallback): each row shows the flag with its reason code.
        var flagged = await RowWhenAsync(dispatcher, ordinary, r => r["dispatcherFlag"] is not null);
        Assert.Equal("no-catalogue-entry", (string?)flagged["dispatcherFlag"]!["reasonCode"]);
        Assert.Equal("派单目录无对应承办单位", (string?)flagged["dispatcherFlag"]!["reasonName"]);
        Assert.Null(flagged["hold"]);
        Assert.Equal("派单", (string?)flagged["deadline"]!["kind"]);
        Assert.Matches("^(normal|yellow|red)$", (string?)flagged["deadline"]!["status"]);
        var urgentRow = await RowWhenAsync(dispatcher, urgent, r => r["dispatcherFlag"] is not null);

        // The dispatcher holds the urgent one with the version the row shows (as the console does).
        var held = await dispatcher.ActAsync(urgent, "hold-dispatch", new { reason = "等待来电人确认具体路口" }, (long)urgentRow["version"]!);
        Assert.Equal("等待来电人确认具体路口", (string?)held["hold"]!["reason"]); // TicketDetails carries them too
        Assert.Equal("no-catalogue-entry", (string?)held["dispatcherFlag"]!["reasonCode"]);
        var heldRow = await RowWhenAsync(dispatcher, urgent, r => r["hold"] is not null);
        Assert.Equal("等待来电人确认具体路口", (string?)heldRow["hold"]!["reason"]);
        Assert.Equal("disp1", (string?)heldRow["hold"]!["by"]);
        Assert.Equal("no-catalogue-entry", (string?)heldRow["dispatcherFlag"]!["reasonCode"]);
        Assert.Equal((long)held["version"]!, (long)heldRow["version"]!);

        // A stale version from an old row is a 412, not an overwrite.
        var (stale, _, _) = await dispatcher.SendAsync(HttpMethod.Post, $"api/tickets/{urgent}/release-hold", new { }, (long)urgentRow["version"]!);
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale);

        // Sorted by dispatch deadline: 特急 (1 hour) before 一般 (one working day); -deadline reverses it.
        var ascending = await ToDispatchAsync(dispatcher);
        Assert.True(ascending.Select(DueOf).SequenceEqual(ascending.Select(DueOf).Order()), "rows are not in dispatch deadline order");
        Assert.True(ascending.FindIndex(r => (string?)r["id"] == urgent) < ascending.FindIndex(r => (string?)r["id"] == ordinary));
        var descending = await ToDispatchAsync(dispatcher, "-deadline");
        Assert.True(descending.Select(DueOf).SequenceEqual(descending.Select(DueOf).OrderDescending()), "rows are not in reverse dispatch deadline order");
        Assert.True(descending.FindIndex(r => (string?)r["id"] == ordinary) < descending.FindIndex(r => (string?)r["id"] == urgent));

        var (badSort, problem, _) = await dispatcher.SendAsync(HttpMethod.Get, "api/worklists/to-dispatch?sort=urgency");
        Assert.Equal(HttpStatusCode.BadRequest, badSort);
        Assert.NotNull(problem!["errors"]!["sort"]);

        // Released: the hold leaves the row, the flag of the same wait stays; dispatched: the row leaves the list.
        var released = await dispatcher.ActAsync(urgent, "release-hold", new { reason = "已确认" }, (long)heldRow["version"]!);
        var releasedRow = await RowWhenAsync(dispatcher, urgent, r => r["hold"] is null);
        Assert.NotNull(releasedRow["dispatcherFlag"]);
        await dispatcher.ActAsync(urgent, "dispatch", new { unitId = "gov-03", reason = "区政府兜底" }, (long)released["version"]!);
        Assert.DoesNotContain(await ToDispatchAsync(dispatcher), r => (string?)r["id"] == urgent);
    }
}
