using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Hotline.Testing;

namespace Hotline.Server.Tests.Channels;

/// <summary>
/// The public page in a real browser on a phone-sized screen (tests/e2e/public-page.mjs): a citizen gets an SMS code,
/// submits an appeal and tracks it; the office handles it; the citizen sees the reply and rates it.
/// </summary>
public sealed partial class PublicPageBrowserTests
{

    [Fact]
    public async Task Citizen_submits_tracks_and_rates_on_the_public_page()
    {
        await EnsureNodeModulesAsync();
        await using var gateway = new FakeGateway();
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string> { ["Hotline:Outbox:GatewayUrl"] = gateway.Url });
        const string phone = "13800138000";
        var env = new Dictionary<string, string> { ["BASE_URL"] = server.BaseAddress.ToString(), ["GATEWAY_URL"] = $"http://127.0.0.1:{gateway.Port}", ["PHONE"] = phone, ["MODE"] = "submit" };

        var (exit, output) = await RunAsync(env);
        Assert.True(exit == 0, $"public-page.mjs (submit) exited with {exit}:\n{output}\n--- server log ---\n{Tail(server.Log, 60)}");
        var number = NumberLine().Match(output).Groups[1].Value;

        // The office handles it: dispatch, sign for, reply, review.
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        using var dispatcher = await ApiClient.LoginAsync(server, "disp1");
        using var handler = await ApiClient.LoginAsync(server, "handler2");
        var id = (string)(await agent.GetJsonAsync($"api/tickets?q={number}"))["items"]![0]!["id"]!;
        var t = await dispatcher.ActAsync(id, "dispatch", new { unitId = "cgj" }, 1);
        t = await handler.ActAsync(id, "sign-for", new { }, (long)t["version"]!);
        const string reply = "已责令施工单位停止夜间打桩，并处罚款。";
        t = await handler.ActAsync(id, "reply", new { result = "resolved", text = reply }, (long)t["version"]!);
        await dispatcher.ActAsync(id, "review", new { accept = true }, (long)t["version"]!);

        env["MODE"] = "rate";
        env["NUMBER"] = number;
        env["REPLY"] = reply;
        env["STATE"] = "回访";
        (exit, output) = await RunAsync(env);
        Assert.True(exit == 0, $"public-page.mjs (rate) exited with {exit}:\n{output}\n--- server log ---\n{Tail(server.Log, 60)}");

        using var http = server.CreateClient();
        var tracked = JsonNode.Parse(await http.GetStringAsync($"api/public/tickets/{number}?phone={phone}"))!;
        Assert.Equal("满意", (string?)tracked["satisfaction"]);
        Assert.Equal(1, (int)tracked["photos"]!);
    }

    private static Task<(int, string)> RunAsync(Dictionary<string, string> env) => E2eScripts.RunScriptAsync("public-page.mjs", env);

    private static async Task EnsureNodeModulesAsync()
    {
        var failure = await E2eScripts.EnsureInstalledAsync();
        Assert.True(failure is null, failure);
    }

    private static string Tail(string text, int lines) => E2eScripts.Tail(text, lines);

    [GeneratedRegex(@"NUMBER=(\d{8}-\d{6})")]
    private static partial Regex NumberLine();
}
