using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Hotline.Testing;

namespace Hotline.Benchmarks;

/// <summary>
/// "signalr-push": the real server (embedded default) with <see cref="Agents"/> agent consoles connected through Node
/// <c>@microsoft/signalr</c> (<c>tests/load/signalr-push.mjs</c>; <c>npm ci</c> in tests/load first), each ticket
/// registration pushing TicketChanged to all of them; p50/p99 delivery latency next to a raw WebSocket echo server
/// (Node <c>ws</c>) broadcasting to as many connections in the same run. Then memory: the server's RSS idle, and its
/// peak while the consoles stay connected and simulated calls arrive at <see cref="CallsPerSecond"/>/s
/// (<c>POST /api/dev/calls</c>, demo telephony).
/// </summary>
public sealed class SignalRPushBenchmark : IBenchmarkSuite
{
    private const int Agents = 2_000;
    private const int CallsPerSecond = 1_000;

    public string Name => "signalr-push";

    public async Task<IReadOnlyList<BenchmarkResult>> RunAsync(BenchmarkContext context)
    {
        var script = Path.Combine(RepoPaths.Root, "tests", "load", "signalr-push.mjs");
        if (!Directory.Exists(Path.Combine(RepoPaths.Root, "tests", "load", "node_modules", "@microsoft", "signalr")))
        {
            return [new BenchmarkResult("SignalR push", "skipped: run `npm ci` in tests/load", "p99 ≤ 100 ms", "—", "—", false)];
        }

        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string> { ["Hotline:Jobs:CallbackSchedulingSeconds"] = "60" });
        var pid = HttpRegistrationBenchmark.ServerPid(server.Port);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var idle = HttpRegistrationBenchmark.Rss(pid);
        var token = await LoginAsync(server);

        var holdSeconds = context.Quick ? 8 : 15;
        var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { script, "--url", server.BaseAddress.ToString(), "--agents", Agents.ToString(CultureInfo.InvariantCulture), "--pushes", context.Quick ? "5" : "20", "--hold-seconds", holdSeconds.ToString(CultureInfo.InvariantCulture) })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["HOTLINE_TOKEN"] = token;
        using var node = Process.Start(psi) ?? throw new InvalidOperationException("node did not start");
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        node.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            context.Log.WriteLine("  node: " + e.Data);
            if (e.Data == "holding") holding.TrySetResult();
        };
        node.BeginErrorReadLine();
        var output = node.StandardOutput.ReadToEndAsync();

        // While the consoles are connected: simulated calls at CallsPerSecond for most of the hold, RSS sampled.
        long peak = 0, connectedRss = 0, calls = 0, callErrors = 0;
        if (await Task.WhenAny(holding.Task, node.WaitForExitAsync()) == holding.Task)
        {
            connectedRss = HttpRegistrationBenchmark.Rss(pid);
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var clock = Stopwatch.StartNew();
            var inFlight = new List<Task>();
            var until = TimeSpan.FromSeconds(holdSeconds - 3);
            while (clock.Elapsed < until)
            {
                var due = (long)(clock.Elapsed.TotalSeconds * CallsPerSecond);
                while (calls < due)
                {
                    calls++;
                    inFlight.Add(Call(http, calls));
                }

                peak = Math.Max(peak, HttpRegistrationBenchmark.Rss(pid));
                inFlight.RemoveAll(t => t.IsCompleted);
                await Task.Delay(20);
            }

            await Task.WhenAll(inFlight);
            peak = Math.Max(peak, HttpRegistrationBenchmark.Rss(pid));
            context.Log.WriteLine($"  calls: {calls} sent in {clock.Elapsed.TotalSeconds:0.0} s, {callErrors} failed; RSS with {Agents} consoles {connectedRss / 1048576} MB, peak under calls {peak / 1048576} MB");
        }

        await node.WaitForExitAsync();
        var json = JsonNode.Parse((await output).Trim().Split('\n')[^1])!;
        var signalr = json["signalr"]!;
        var raw = json["raw"]!;
        double P(JsonNode n, string key) => n[key] is { } v ? (double)v : double.NaN;
        var p99 = P(signalr, "p99");
        var rawP99 = P(raw, "p99");
        var missed = (long)signalr["missed"]!;

        return
        [
            new BenchmarkResult(
                $"SignalR push to {(int)signalr["connected"]!:N0} connected agents (Node @microsoft/signalr, WebSockets), TicketChanged after a registration; latency from the POST",
                $"p50 {Measure.Ms(P(signalr, "p50"))}, p99 {Measure.Ms(p99)}, max {Measure.Ms(P(signalr, "max"))} over {(long)signalr["deliveries"]!:N0} deliveries{(missed == 0 ? "" : $", {missed} missed")} (registration itself p50 {Measure.Ms(P(signalr, "registrationP50"))})",
                "p99 ≤ 100 ms",
                $"raw WebSocket echo to {(int)raw["connected"]!:N0} connections (Node ws): p50 {Measure.Ms(P(raw, "p50"))}, p99 {Measure.Ms(rawP99)}",
                Measure.Ratio(rawP99, p99),
                p99 <= 100 && missed == 0),
            new BenchmarkResult(
                $"memory: server RSS idle / with {Agents:N0} consoles connected / peak with {Agents:N0} consoles + {CallsPerSecond:N0} simulated calls/s",
                $"{idle / 1048576} MB / {connectedRss / 1048576} MB / {peak / 1048576} MB ({calls:N0} calls sent, {callErrors} failed)",
                "≤ 300 MB idle / ≤ 1 GB loaded", "—", "—",
                idle <= 300L * 1048576 && peak is > 0 and <= 1024L * 1048576 && callErrors == 0),
        ];

        async Task Call(HttpClient http, long n)
        {
            try
            {
                using var response = await http.PostAsJsonAsync("api/dev/calls", new { caller = (13_800_000_000L + n).ToString(CultureInfo.InvariantCulture), patienceSeconds = 5, talkSeconds = 30 });
                if (!response.IsSuccessStatusCode) Interlocked.Increment(ref callErrors);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Interlocked.Increment(ref callErrors);
            }
        }
    }

    private static async Task<string> LoginAsync(ServerProcess server)
    {
        using var http = server.CreateClient();
        using var response = await http.PostAsJsonAsync("api/auth/login", new { username = "agent1", password = "Hotline@2026" });
        response.EnsureSuccessStatusCode();
        return (string)(await response.Content.ReadFromJsonAsync<JsonNode>())!["token"]!;
    }
}
