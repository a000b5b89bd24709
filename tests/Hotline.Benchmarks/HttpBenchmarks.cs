using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Hotline.Testing;

namespace Hotline.Benchmarks;

/// <summary>
/// Ticket registration over HTTP against the real server process (<see cref="ServerProcess"/>), on the embedded
/// default (SQLite, in-memory queue) and on PostgreSQL: a closed loop of <see cref="Connections"/> concurrent
/// clients in this process, then the same load from <c>wrk</c> with <c>tests/load/register.lua</c> when wrk is
/// installed (its requests take the tokens of several office users in turn). Every request carries a fresh
/// Idempotency-Key, so each one registers a new ticket. Also reads the server's RSS when idle and after the load. The
/// servers run with <see cref="BenchmarkOnlyLimits"/>.
/// </summary>
public sealed class HttpRegistrationBenchmark : IBenchmarkSuite
{
    private const int Connections = 32;
    /// <summary>A registration; PHONE is the caller's phone (varied, so the repeat-caller lookup sees realistic data).</summary>
    private const string Body =
        """{"channel":"电话","type":"投诉","urgency":"一般","categoryCode":"010201","areaCode":"010101","address":"湖滨路 88 号 3 栋","content":"小区物业长期不清理楼道垃圾，多次反映无果。","callerName":"王建华","callerPhone":"139PHONE"}""";

    public string Name => "http-register";

    /// <summary>
    /// Benchmark only: the per-user request limit (production default 6,000/min = 100 req/s per user) is raised so the
    /// load measures registration, not the limiter (the wrk line before this setting got 55,377 answers 429). The
    /// server's defaults are unchanged; never set this in production.
    /// </summary>
    private static readonly Dictionary<string, string> BenchmarkOnlyLimits = new() { ["Hotline:Security:RequestsPerUserPerMinute"] = "1000000" };

    /// <summary>Office demo users whose tokens wrk takes in turn (tests/load/register.lua, HOTLINE_TOKENS).</summary>
    private static readonly string[] WrkUsers = ["agent1", "agent2", "agent3", "super1", "disp1", "cb1"];

    /// <summary>The server logs its write-path timings every N seconds (Tickets/PerformanceTimings.cs).</summary>
    internal const string TimingsSetting = "Hotline:Diagnostics:TimingsSeconds";

    public async Task<IReadOnlyList<BenchmarkResult>> RunAsync(BenchmarkContext context)
    {
        var rows = new List<BenchmarkResult>();
        await using (var server = await ServerProcess.StartAsync(new Dictionary<string, string>(BenchmarkOnlyLimits) { ["Hotline:Jobs:CallbackSchedulingSeconds"] = "60", [TimingsSetting] = "2" }))
        {
            rows.AddRange(await MeasureAsync(server, "embedded (SQLite)", context, idleMemory: true));
        }

        await using var postgres = await PostgresServer.StartNewAsync();
        await using (var server = await ServerProcess.StartAsync(new Dictionary<string, string>(BenchmarkOnlyLimits)
        {
            ["Hotline:EventStore"] = "Postgres",
            ["ConnectionStrings:Postgres"] = await postgres.CreateDatabaseAsync("hotline_bench"),
            ["Hotline:Jobs:CallbackSchedulingSeconds"] = "60",
            [TimingsSetting] = "2",
        }))
        {
            rows.AddRange(await MeasureAsync(server, "PostgreSQL", context, idleMemory: false));
        }

        return rows;
    }

    private static async Task<List<BenchmarkResult>> MeasureAsync(ServerProcess server, string store, BenchmarkContext context, bool idleMemory)
    {
        var rows = new List<BenchmarkResult>();
        var pid = ServerPid(server.Port);
        await Task.Delay(TimeSpan.FromSeconds(3)); // let start-up work settle
        var idle = Rss(pid);
        context.Log.WriteLine($"  {store}: server pid {pid}, idle RSS {idle / 1024.0 / 1024:0} MB");
        if (idleMemory)
        {
            rows.Add(new BenchmarkResult("memory: idle server (embedded, after start-up)", $"{idle / 1024.0 / 1024:0} MB RSS", "≤ 300 MB", "—", "—", idle <= 300L * 1024 * 1024));
        }

        var token = await LoginAsync(server, "agent1");
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var run = Guid.NewGuid().ToString("N")[..8];
        var duration = TimeSpan.FromSeconds(context.Quick ? 5 : 15);
        Func<int, long, Task<int>> register = async (client, n) =>
        {
            var body = Body.Replace("PHONE", (((client * 1_000_003L) + n) % 100_000_000).ToString("D8", CultureInfo.InvariantCulture), StringComparison.Ordinal);
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/tickets") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("Idempotency-Key", $"{run}-{client}-{n}");
            using var response = await http.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }

            return 1;
        };
        await Measure.ClosedLoopAsync(Connections, TimeSpan.FromSeconds(context.Quick ? 2 : 5), (client, n) => register(client, n + 10_000_000)); // warm-up
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // the warm-up's timings line
        var logMark = server.Log.Length;
        var cpuBefore = CpuTime(pid);
        var figures = await Measure.ClosedLoopAsync(Connections, duration, register);
        var loaded = Rss(pid);
        var cpuPerRequest = (CpuTime(pid) - cpuBefore).TotalMilliseconds / Math.Max(1, figures.Count);
        context.Log.WriteLine($"  {store}: {figures.PerSecond:N0} req/s, p50 {figures.P50Ms:0.0} ms, p99 {figures.P99Ms:0.0} ms, errors {figures.Errors}, RSS after {loaded / 1024.0 / 1024:0} MB, server CPU {cpuPerRequest:0.00} ms/request");
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var timings = ServerTimings.Parse(server.Log[logMark..]);
        context.Log.WriteLine("  profile (server, during the measured load): " + timings.Describe());
        rows.Add(new BenchmarkResult(
            $"ticket registration over HTTP, {store}, {Connections} connections (.NET client)",
            $"{Measure.Rate(figures.PerSecond, "req/s")}, p50 {Measure.Ms(figures.P50Ms)}, p99 {Measure.Ms(figures.P99Ms)}{AppendPostgresBenchmark.Errors(figures)}; server CPU {cpuPerRequest.ToString("0.0", CultureInfo.InvariantCulture)} ms/req (bound on {Environment.ProcessorCount} cores: {Measure.Rate(Environment.ProcessorCount * 1000 / cpuPerRequest, "req/s")}); RSS after {loaded / 1024 / 1024} MB; server profile: {timings.Short()}",
            "≥ 1,000 req/s, p99 ≤ 50 ms", "—", "—",
            figures.PerSecond >= 1_000 && figures.P99Ms <= 50 && figures.Errors == 0));

        if (idleMemory)
        {
            rows.Add(await InboxAsync(http, context));
        }

        var tokens = new List<string>();
        foreach (var user in WrkUsers) tokens.Add(await LoginAsync(server, user));
        if (await WrkAsync(server, string.Join(',', tokens), duration, context) is { } wrk)
        {
            context.Log.WriteLine($"  {store}: wrk {wrk.PerSecond:N0} req/s, p99 {wrk.P99Ms:0.0} ms, non-2xx {wrk.Errors}");
            rows.Add(new BenchmarkResult(
                $"ticket registration over HTTP, {store}, {Connections} connections (wrk + tests/load/register.lua)",
                $"{Measure.Rate(wrk.PerSecond, "req/s")}, p50 {Measure.Ms(wrk.P50Ms)}, p99 {Measure.Ms(wrk.P99Ms)}{(wrk.Errors == 0 ? "" : $", {wrk.Errors} non-2xx")}",
                "≥ 1,000 req/s, p99 ≤ 50 ms", "—", "—",
                wrk.PerSecond >= 1_000 && wrk.P99Ms <= 50 && wrk.Errors == 0));
        }

        return rows;
    }

    /// <summary>
    /// UnitInbox over HTTP: <c>TicketIndex.WithOpenTasks</c> looks up the units in scope (not every ticket). Measured
    /// one request at a time right after the registration load, so the index holds every ticket that load registered.
    /// </summary>
    private static async Task<BenchmarkResult> InboxAsync(HttpClient http, BenchmarkContext context)
    {
        using (var total = await http.GetAsync("api/tickets?pageSize=1"))
        {
            context.Log.WriteLine($"  inbox: ticket search answers {(int)total.StatusCode}");
        }

        var latencies = new List<double>();
        var count = context.Quick ? 200 : 1_000;
        for (var i = 0; i < count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await http.GetAsync("api/units/zjj/inbox?box=all&subtree=true");
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsByteArrayAsync();
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        var sorted = latencies.Order().ToArray();
        var p99 = Measure.Percentile(sorted, 0.99);
        context.Log.WriteLine($"  inbox: p50 {Measure.Percentile(sorted, 0.5):0.0} ms, p99 {p99:0.0} ms");
        return new BenchmarkResult(
            "unit inbox query (TicketIndex looked up per unit, over the tickets the registration load stored, not 10 M events)",
            $"p50 {Measure.Ms(Measure.Percentile(sorted, 0.5))}, p99 {Measure.Ms(p99)} over {count} sequential requests",
            "p99 ≤ 20 ms with 10 M events", "—", "—", false);
    }

    private static async Task<string> LoginAsync(ServerProcess server, string username)
    {
        using var http = server.CreateClient();
        using var response = await http.PostAsJsonAsync("api/auth/login", new { username, password = "Hotline@2026" });
        response.EnsureSuccessStatusCode();
        var body = (await response.Content.ReadFromJsonAsync<JsonNode>())!;
        return (string)body["token"]!;
    }

    private static async Task<Measure.Figures?> WrkAsync(ServerProcess server, string tokens, TimeSpan duration, BenchmarkContext context)
    {
        var script = Path.Combine(RepoPaths.Root, "tests", "load", "register.lua");
        var psi = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-t2", $"-c{Connections}", $"-d{(int)duration.TotalSeconds}s", "--latency", "-s", script, server.BaseAddress.ToString().TrimEnd('/') })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["HOTLINE_TOKENS"] = tokens;
        Process? process;
        try
        {
            process = Process.Start(psi);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            context.Log.WriteLine("  wrk not installed (apt-get install -y wrk): skipped");
            return null;
        }

        using (process)
        {
            var output = await process!.StandardOutput.ReadToEndAsync();
            var errors = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (errors.Length > 0)
            {
                context.Log.WriteLine("  wrk stderr: " + errors.Trim());
            }

            var lines = output.Split('\n').Select(l => l.Trim()).ToList();
            var rps = double.Parse(lines.First(l => l.StartsWith("Requests/sec:", StringComparison.Ordinal)).Split(':')[1].Trim(), CultureInfo.InvariantCulture);
            var nonOk = lines.FirstOrDefault(l => l.StartsWith("Non-2xx", StringComparison.Ordinal)) is { } n ? long.Parse(n.Split(':')[1].Trim(), CultureInfo.InvariantCulture) : 0;
            var socketErrors = lines.FirstOrDefault(l => l.StartsWith("Socket errors", StringComparison.Ordinal)) is { } se ? 1 : 0;
            var requests = long.Parse(lines.First(l => l.Contains("requests in", StringComparison.Ordinal)).Split(' ')[0], CultureInfo.InvariantCulture);
            return new Measure.Figures(requests, nonOk + socketErrors, duration, Latency(lines, "50%"), Latency(lines, "99%"));
        }
    }

    /// <summary>Parses a wrk latency distribution line ("99%   12.34ms") into milliseconds.</summary>
    private static double Latency(List<string> lines, string percentile)
    {
        var value = lines.First(l => l.StartsWith(percentile, StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var (number, factor) = value.EndsWith("us", StringComparison.Ordinal) ? (value[..^2], 0.001)
            : value.EndsWith("ms", StringComparison.Ordinal) ? (value[..^2], 1.0)
            : value.EndsWith('m') ? (value[..^1], 60_000.0)
            : (value[..^1], 1000.0);
        return double.Parse(number, CultureInfo.InvariantCulture) * factor;
    }

    /// <summary>The pid of the process listening on <paramref name="port"/> (from /proc: socket inode → fd).</summary>
    internal static int ServerPid(int port)
    {
        var hexPort = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
        var inode = File.ReadLines("/proc/net/tcp").Concat(File.ReadLines("/proc/net/tcp6")).Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .First(f => f[1].EndsWith(hexPort, StringComparison.Ordinal) && f[3] == "0A")[9];
        foreach (var dir in Directory.GetDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            try
            {
                if (Directory.GetFiles(Path.Combine(dir, "fd")).Any(fd => new FileInfo(fd).LinkTarget == $"socket:[{inode}]"))
                {
                    return int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture);
                }
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
            }
        }

        throw new InvalidOperationException($"No process listens on port {port}.");
    }

    /// <summary>User + system CPU time the process has used (/proc/pid/stat, clock ticks of 10 ms).</summary>
    internal static TimeSpan CpuTime(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    /// <summary>Resident set size in bytes (VmRSS).</summary>
    internal static long Rss(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }
}
