using System.Diagnostics;
using System.Text;
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
    private static readonly string E2eDir = Path.Combine(RepoPaths.Root, "tests", "e2e");

    [Fact]
    public async Task Citizen_submits_tracks_and_rates_on_the_public_page()
    {
        await EnsureNodeModulesAsync();
        await using var gateway = new FakeGateway();
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string> { ["Hotline:Channels:GatewayUrl"] = gateway.Url });
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

    private static Task<(int, string)> RunAsync(Dictionary<string, string> env) =>
        RunAsync("node", [Path.Combine(E2eDir, "public-page.mjs")], E2eDir, env, TimeSpan.FromMinutes(2));

    private static async Task EnsureNodeModulesAsync()
    {
        if (Directory.Exists(Path.Combine(E2eDir, "node_modules", "playwright-core"))) return;
        var (exit, output) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], E2eDir, null, TimeSpan.FromMinutes(3));
        Assert.True(exit == 0, $"npm ci in tests/e2e exited with {exit}:\n{output}");
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> args, string workingDirectory, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        var output = new StringBuilder();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            lock (output) return (-1, $"timed out after {timeout}:\n{output}");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }

    private static string Tail(string text, int lines) => string.Join('\n', text.Split('\n').TakeLast(lines));

    [GeneratedRegex(@"NUMBER=(\d{8}-\d{6})")]
    private static partial Regex NumberLine();
}
