using System.Net;
using Hotline.Testing;

namespace Hotline.Server.Tests.Jobs;

/// <summary>
/// The dispatcher's 派单审核 page in a real browser (tests/e2e/dispatch-hold.mjs): disp1 holds a waiting ticket from its
/// row (reason required), a write by someone else makes the row stale so 取消暂缓 gets a 412 shown as a message, and
/// 取消暂缓 on the refreshed row releases it. The ticket's history then holds exactly that: held, the other write, released.
/// </summary>
public sealed class DispatchHoldBrowserTests
{
    private static readonly string[] HeldNotedReleased = ["TicketRegistered", "DispatchHeld", "ProgressNoted", "DispatchHoldReleased"];

    [Fact]
    public async Task Dispatcher_holds_and_releases_a_ticket_from_the_dispatch_page_and_sees_the_412_of_a_stale_row()
    {
        var failure = await E2eScripts.EnsureInstalledAsync();
        Assert.True(failure is null, failure);
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["Hotline:Jobs:AutoDispatchEnabled"] = "false", // the row must stay on the list while the browser works
        });
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        using var dispatcher = await ApiClient.LoginAsync(server, "disp1");

        async Task<(string Id, string Number)> Register(string urgency, string content)
        {
            var (status, ticket, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", new
            {
                channel = "电话", type = "求助", urgency, categoryCode = "010401", areaCode = "010101",
                content, callerName = "周平", callerPhone = "13500006666",
            }, idempotencyKey: Guid.NewGuid().ToString());
            Assert.True(status == HttpStatusCode.Created, $"register → {status}: {ticket}");
            return ((string)ticket!["id"]!, (string)ticket["number"]!);
        }
        var (id, number) = await Register("一般", "湖滨路路灯不亮");
        await Register("特急", "湖滨路井盖缺失"); // a second row with an earlier dispatch deadline, for the sort

        var (exit, output) = await E2eScripts.RunScriptAsync("dispatch-hold.mjs", new Dictionary<string, string>
        {
            ["BASE_URL"] = server.BaseAddress.ToString(), ["TICKET_ID"] = id, ["NUMBER"] = number,
        });
        Assert.True(exit == 0, $"dispatch-hold.mjs exited with {exit}:\n{output}\n--- server log ---\n{E2eScripts.Tail(server.Log, 60)}");
        Assert.Contains("HOLD-RELEASE=ok", output, StringComparison.Ordinal);

        var ticket = await dispatcher.GetJsonAsync($"api/tickets/{id}");
        Assert.Equal("Registered", (string?)ticket["state"]);
        var history = ticket["history"]!.AsArray().Select(h => (Type: (string)h!["type"]!, Actor: (string)h["actor"]!, Summary: (string)h["summary"]!)).ToList();
        Assert.Equal(HeldNotedReleased, history.Select(h => h.Type).ToArray());
        Assert.Equal(("disp1", "暂缓派单：等待来电人补充具体门牌号"), (history[1].Actor, history[1].Summary));
        Assert.Equal("解除暂缓派单：门牌号已补充", history[3].Summary);
        Assert.Contains("hold-dispatch", ticket["allowedActions"]!.AsArray().Select(a => (string?)a));
    }
}
