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

    /// <summary>Calls sent (over 2 s) before the measured calls, so the call path runs as optimised code, not tier-0 JIT output.</summary>
    private const int WarmupCalls = 1_000;

    /// <summary>How long after the calls were sent the suite waits for the server to record them all (CallQueued).</summary>
    private const int DrainSeconds = 60;

    /// <summary>Worker threads the Node consoles are spread over (the same for the raw reference's clients).</summary>
    private const int ClientThreads = 2;

    public string Name => "signalr-push";

    /// <summary>
    /// Pushes sent first and not counted: a fresh server keeps re-JITting the push path (tiered compilation, PGO) for
    /// its first ~50–90 pushes to 2,000 connections on 2 busy cores (perf: 20–30 % of its samples in the tiered
    /// compilation thread after 10 and after 45 pushes, none after 90); production servers run warm. At least
    /// <see cref="WarmupPushes"/>, then blocks of 10 until the server's CPU per push stops falling, at most
    /// <see cref="WarmupMaxPushes"/> (the count used is printed).
    /// </summary>
    private static int WarmupPushes(BenchmarkContext context) => context.Quick ? 20 : 30;

    private static int WarmupMaxPushes(BenchmarkContext context) => context.Quick ? 60 : 150;

    public async Task<IReadOnlyList<BenchmarkResult>> RunAsync(BenchmarkContext context)
    {
        var script = Path.Combine(RepoPaths.Root, "tests", "load", "signalr-push.mjs");
        if (!Directory.Exists(Path.Combine(RepoPaths.Root, "tests", "load", "node_modules", "@microsoft", "signalr")))
        {
            return [new BenchmarkResult("SignalR push", "skipped: run `npm ci` in tests/load", "p99 ≤ 100 ms", "—", "—", false)];
        }

        // Benchmark only: the per-user rate limit (production default 6,000/min) would refuse most of the 1,000 calls/s,
        // all sent with agent1's token (and the 2,000 hub connections count against it too).
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["Hotline:Jobs:CallbackSchedulingSeconds"] = "60",
            ["Hotline:Security:RequestsPerUserPerMinute"] = "1000000",
            // The simulated platform delivers over 32 trunks at once (each call's events in order on its trunk): one event
            // at a time, the server's intake of 1,000 calls/s is bound by appends in a row (~100–165 calls/s); over 32, the
            // appends of different calls share group commits (the normalizer serialises per call, not globally).
            ["Hotline:Simulator:PublishLanes"] = "32",
        });
        var pid = HttpRegistrationBenchmark.ServerPid(server.Port);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var idle = HttpRegistrationBenchmark.Rss(pid);
        var token = await LoginAsync(server, "agent1");
        var supervisorToken = await LoginAsync(server, "super1");

        // The consoles stay connected while the calls are sent and recorded (released through stdin, at most this long).
        var callSeconds = context.Quick ? 5 : 12;
        var holdSeconds = callSeconds + DrainSeconds + 10;
        var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[]
                 {
                     script, "--url", server.BaseAddress.ToString(), "--agents", Agents.ToString(CultureInfo.InvariantCulture), "--pushes", context.Quick ? "5" : "20",
                     "--warmup", WarmupPushes(context).ToString(CultureInfo.InvariantCulture), "--warmup-max", WarmupMaxPushes(context).ToString(CultureInfo.InvariantCulture), "--workers", ClientThreads.ToString(CultureInfo.InvariantCulture),
                     "--server-pid", pid.ToString(CultureInfo.InvariantCulture), "--hold-seconds", holdSeconds.ToString(CultureInfo.InvariantCulture),
                 })
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
        var failures = new System.Collections.Concurrent.ConcurrentDictionary<string, int>(); // status or exception -> count
        string? firstFailure = null;
        var callLatencies = new System.Collections.Concurrent.ConcurrentBag<double>();
        TimeSpan callCpu = TimeSpan.Zero, callWall = TimeSpan.Zero, drained = TimeSpan.Zero;
        long recordedInWindow = 0, recorded = 0;
        if (await Task.WhenAny(holding.Task, node.WaitForExitAsync()) == holding.Task)
        {
            connectedRss = HttpRegistrationBenchmark.Rss(pid);
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var board = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            board.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", supervisorToken);
            // Warm-up, as for the pushes: a fresh server runs its call path as tier-0 code and JIT-compiles it meanwhile (a profile
            // of the first seconds shows ~45 % of the CPU in the JIT and runtime). WarmupCalls calls over 2 s, patience 1 s, then
            // wait until they are recorded and abandoned; neither they nor their CPU are counted.
            var warm = await OfferedTodayAsync(board);
            var warmClock = Stopwatch.StartNew();
            var warmCalls = new List<Task>();
            for (var i = 0; i < WarmupCalls; i++)
            {
                warmCalls.Add(Call(http, -1 - i, patienceSeconds: 1));
                if (i % 50 == 49) await Task.Delay(TimeSpan.FromSeconds(2.0 * 50 / WarmupCalls));
            }
            await Task.WhenAll(warmCalls);
            while (await OfferedTodayAsync(board) - warm < WarmupCalls - callErrors && warmClock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(250);
            await Task.Delay(TimeSpan.FromSeconds(2));
            context.Log.WriteLine($"  call warm-up: {WarmupCalls} calls recorded in {warmClock.Elapsed.TotalSeconds:0.0} s ({callErrors} refused)");
            callErrors = 0;
            failures.Clear();
            callLatencies.Clear();

            var offered0 = await OfferedTodayAsync(board);
            var cpu0 = HttpRegistrationBenchmark.CpuTime(pid);
            var clock = Stopwatch.StartNew();
            var inFlight = new List<Task>();
            var until = TimeSpan.FromSeconds(callSeconds);
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
            callWall = clock.Elapsed;
            recordedInWindow = await OfferedTodayAsync(board) - offered0;

            // The endpoint only hands a call to the simulated telephony; it is carried once the call center has recorded
            // it (CallQueued, counted by the wallboard's "offered today"). Wait for that, RSS sampled meanwhile.
            var accepted = calls - callErrors;
            recorded = recordedInWindow;
            while (recorded < accepted && clock.Elapsed < callWall + TimeSpan.FromSeconds(DrainSeconds))
            {
                await Task.Delay(500);
                peak = Math.Max(peak, HttpRegistrationBenchmark.Rss(pid));
                recorded = await OfferedTodayAsync(board) - offered0;
            }

            drained = clock.Elapsed;
            callCpu = HttpRegistrationBenchmark.CpuTime(pid) - cpu0;
            peak = Math.Max(peak, HttpRegistrationBenchmark.Rss(pid));
            context.Log.WriteLine($"  calls recorded by the call center: {recordedInWindow} within the {callWall.TotalSeconds:0.0} s of sending, {recorded} after {drained.TotalSeconds:0.0} s");
            context.Log.WriteLine($"  calls: {calls} sent in {callWall.TotalSeconds:0.0} s, {callErrors} failed ({string.Join(", ", failures.Select(f => $"{f.Key}: {f.Value}"))}){(firstFailure is null ? "" : $"; first failure: {firstFailure}")}; server CPU {callCpu.TotalSeconds:0.0} s; RSS with {Agents} consoles {connectedRss / 1048576} MB, peak under calls {peak / 1048576} MB");
        }

        try
        {
            await node.StandardInput.WriteLineAsync("release");
            await node.StandardInput.FlushAsync();
        }
        catch (IOException) { }

        await node.WaitForExitAsync();
        var json = JsonNode.Parse((await output).Trim().Split('\n')[^1])!;
        var signalr = json["signalr"]!;
        var raw = json["raw"]!;
        double P(JsonNode n, string key) => n[key] is { } v ? (double)v : double.NaN;
        var p99 = P(signalr, "p99");
        var rawP99 = P(raw, "p99");
        var missed = (long)signalr["missed"]!;

        var profile = signalr["profile"]!;
        var rawProfile = raw["profile"]!;
        var sortedCalls = callLatencies.Order().ToArray();
        var callP99 = sortedCalls.Length == 0 ? double.NaN : sortedCalls[Math.Min(sortedCalls.Length - 1, (int)Math.Ceiling(0.99 * sortedCalls.Length) - 1)];
        string Profile(JsonNode p) =>
            $"first delivery {Measure.Ms(P(p, "firstMean"))}{(p["firstAfterAnswerMean"] is null ? "" : $" ({Measure.Ms(P(p, "firstAfterAnswerMean"))} after the POST's answer)")}, first→last {Measure.Ms(P(p, "spreadMean"))} (means per push); " +
            $"CPU per push: server {Measure.Ms(P(p, "serverCpuPerPushMs"))} ({Measure.Ms(P(p, "serverCpuPerPushNetMs"))} less its idle {P(p, "serverIdleCpuPerSecondMs"):0} ms/s), clients {Measure.Ms(P(p, "clientCpuPerPushMs"))}";

        return
        [
            new BenchmarkResult(
                $"SignalR push to {(int)signalr["connected"]!:N0} connected agents (Node @microsoft/signalr, WebSockets, {(int)signalr["workers"]!} client threads), TicketChanged after a registration; latency from the POST, after {(int?)signalr["warmup"] ?? WarmupPushes(context)} warm-up pushes (until the server's CPU per push stopped falling)",
                $"p50 {Measure.Ms(P(signalr, "p50"))}, p99 {Measure.Ms(p99)}, max {Measure.Ms(P(signalr, "max"))} over {(long)signalr["deliveries"]!:N0} deliveries{(missed == 0 ? "" : $", {missed} missed")} (registration itself p50 {Measure.Ms(P(signalr, "registrationP50"))}); profile: {Profile(profile)}",
                "p99 ≤ 100 ms",
                $"raw WebSocket echo to {(int)raw["connected"]!:N0} connections (Node ws, same client threads): p50 {Measure.Ms(P(raw, "p50"))}, p99 {Measure.Ms(rawP99)}; {Profile(rawProfile)}",
                Measure.Ratio(rawP99, p99),
                p99 <= 100 && missed == 0),
            new BenchmarkResult(
                $"memory: server RSS idle / with {Agents:N0} consoles connected / peak with {Agents:N0} consoles + {CallsPerSecond:N0} simulated calls/s",
                $"{idle / 1048576} MB / {connectedRss / 1048576} MB / {peak / 1048576} MB ({calls:N0} calls sent in {callWall.TotalSeconds:0.0} s = {(callWall > TimeSpan.Zero ? calls / callWall.TotalSeconds : 0):N0}/s, {callErrors} refused{(failures.IsEmpty ? "" : " (" + string.Join(", ", failures.Select(f => $"{f.Key}: {f.Value}")) + ")")}, POST p99 {Measure.Ms(callP99)}; recorded by the call center: {recordedInWindow:N0} while sending ({(callWall > TimeSpan.Zero ? recordedInWindow / callWall.TotalSeconds : 0):N0}/s), {recorded:N0} after {drained.TotalSeconds:0} s; server CPU {callCpu.TotalSeconds:0.0} s)",
                "≤ 300 MB idle / ≤ 1 GB loaded", "—", "—",
                idle <= 300L * 1048576 && peak is > 0 and <= 1024L * 1048576 && callErrors == 0 && recordedInWindow >= 0.95 * calls),
        ];

        async Task Call(HttpClient http, long n, int patienceSeconds = 5)
        {
            try
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await http.PostAsJsonAsync("api/dev/calls", new { caller = (13_800_000_000L + n).ToString(CultureInfo.InvariantCulture), patienceSeconds, talkSeconds = 30 });
                callLatencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref callErrors);
                    failures.AddOrUpdate(((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), 1, (_, c) => c + 1);
                    var body = await response.Content.ReadAsStringAsync();
                    Interlocked.CompareExchange(ref firstFailure, $"{(int)response.StatusCode} {body[..Math.Min(300, body.Length)]}", null);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Interlocked.Increment(ref callErrors);
                failures.AddOrUpdate(e.GetType().Name, 1, (_, c) => c + 1);
                Interlocked.CompareExchange(ref firstFailure, e.GetType().Name + " " + e.Message, null);
            }
        }
    }

    /// <summary>Calls queued today (CallQueued records), from the wallboard.</summary>
    private static async Task<long> OfferedTodayAsync(HttpClient board)
    {
        var view = await board.GetFromJsonAsync<JsonNode>("api/calls/wallboard");
        return (long)view!["today"]!["offered"]!;
    }

    private static async Task<string> LoginAsync(ServerProcess server, string user)
    {
        using var http = server.CreateClient();
        using var response = await http.PostAsJsonAsync("api/auth/login", new { username = user, password = "Hotline@2026" });
        response.EnsureSuccessStatusCode();
        return (string)(await response.Content.ReadFromJsonAsync<JsonNode>())!["token"]!;
    }
}
