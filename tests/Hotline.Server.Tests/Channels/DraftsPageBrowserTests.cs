using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Hotline.Testing;

namespace Hotline.Server.Tests.Channels;

/// <summary>
/// The office's drafts screen in a real browser (tests/e2e/drafts-page.mjs): an SMS arrives while the gateway is
/// unreachable, so its acknowledgement misses the (shortened) SMS response limit and the draft shows red; agent1
/// completes it into a ticket from the screen.
/// </summary>
public sealed partial class DraftsPageBrowserTests
{
    [Fact]
    public async Task Agent_completes_an_overdue_sms_draft_into_a_ticket_on_the_drafts_screen()
    {
        var failure = await E2eScripts.EnsureInstalledAsync();
        Assert.True(failure is null, failure);
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            // Nothing listens on the gateway port: every acknowledgement attempt fails and is retried.
            ["Hotline:Outbox:GatewayUrl"] = $"http://127.0.0.1:{ServerProcess.FreePort()}/send",
            ["Hotline:Channels:SmsResponseMinutes"] = "0.02",
        });
        using var http = server.CreateClient();
        const string from = "13600009999";
        using var sms = new HttpRequestMessage(HttpMethod.Post, "api/channels/sms/inbound") { Content = JsonContent.Create(new { messageId = "op-browser-1", from, text = "滨江路 100 号门口路灯不亮一周了" }) };
        sms.Headers.Add("X-Sms-Secret", "dev-sms-secret");
        var response = await http.SendAsync(sms);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var draftId = (string)(await response.Content.ReadFromJsonAsync<JsonNode>())!["id"]!;

        var (exit, output) = await E2eScripts.RunScriptAsync("drafts-page.mjs", new Dictionary<string, string>
        {
            ["BASE_URL"] = server.BaseAddress.ToString(), ["DRAFT_ID"] = draftId, ["FROM"] = from,
        });
        Assert.True(exit == 0, $"drafts-page.mjs exited with {exit}:\n{output}\n--- server log ---\n{E2eScripts.Tail(server.Log, 60)}");
        var number = NumberLine().Match(output).Groups[1].Value;

        using var agent = await ApiClient.LoginAsync(server, "agent1");
        var draft = await agent.GetJsonAsync($"api/drafts/{draftId}");
        Assert.False((bool)draft["open"]!);
        Assert.Equal(number, (string?)draft["ticketNumber"]);
        var ticket = await agent.GetJsonAsync($"api/tickets/{draft["ticketId"]}");
        Assert.Equal("短信", (string?)ticket["channel"]);
        Assert.Equal("求助", (string?)ticket["type"]);
        Assert.Equal(from, (string?)ticket["caller"]!["phone"]);
    }

    [GeneratedRegex(@"NUMBER=(\d{8}-\d{6})")]
    private static partial Regex NumberLine();
}
