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
/// The unit inbox with 10 M events stored (issue 10): <see cref="InboxStoreGenerator"/> bulk-writes a year of ticket
/// history (10 M events, ~870 k tickets; 200 k events with --quick) into an embedded SQLite event store, then the real
/// server starts on it twice: a first start (in-memory read models replayed from <c>$all</c>, the persistent search
/// read model built from position 0) and a restart (the search read model resumes from its checkpoint). For each it
/// prints the time until the server listens, until <c>/readyz</c> (in-memory read models caught up), until the search
/// read model has caught up, and the RSS. On the restarted server: the inbox of a city department, of a district with
/// its subtree and of a town (the lowest unit level of the demo tree), and the ticket list and text search an agent
/// uses, each as sequential requests (p50/p99). Set <c>HOTLINE_BENCH_INBOX_DB</c> to a file path to keep the generated
/// store there and reuse it in later runs (the server's own writes at start-up are appended to it), and
/// <c>HOTLINE_BENCH_INBOX_EVENTS</c> to generate another number of events.
/// </summary>
public sealed class InboxBenchmark : IBenchmarkSuite
{
    private static readonly Dictionary<string, string> Settings = new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Development",
        // Benchmark only, as in http-register: sequential requests of one user go past the production per-user limit.
        ["Hotline__Security__RequestsPerUserPerMinute"] = "1000000",
    };

    public string Name => "inbox-10m";

    public async Task<IReadOnlyList<BenchmarkResult>> RunAsync(BenchmarkContext context)
    {
        var log = context.Log;
        var events = long.TryParse(Environment.GetEnvironmentVariable("HOTLINE_BENCH_INBOX_EVENTS"), out var n) ? n : context.Quick ? 200_000L : 10_000_000L;
        var scale = (events / 1_000_000.0).ToString("0.#", CultureInfo.InvariantCulture);
        var keep = Environment.GetEnvironmentVariable("HOTLINE_BENCH_INBOX_DB");
        var dir = Directory.CreateTempSubdirectory("hotline-inbox-").FullName;
        var rows = new List<BenchmarkResult>();
        try
        {
            var db = Path.Combine(dir, "hotline-events.db");
            string generated;
            if (keep is not null && File.Exists(keep))
            {
                generated = $"reused {keep} ({new FileInfo(keep).Length / 1024 / 1024:N0} MB)";
                log.WriteLine("  " + generated);
                File.CreateSymbolicLink(db, Path.GetFullPath(keep));
            }
            else
            {
                var target = keep ?? db;
                var g = await InboxStoreGenerator.GenerateSqliteAsync(target, events, DateTimeOffset.UtcNow, log);
                if (keep is not null) File.CreateSymbolicLink(db, Path.GetFullPath(keep));
                generated = $"{g.Events:N0} events ({g.Tickets:N0} tickets) in {g.Elapsed.TotalSeconds:0.0} s ({g.Events / g.Elapsed.TotalSeconds:N0} events/s), {g.Bytes / 1024.0 / 1024:N0} MB";
                log.WriteLine("  generated " + generated);
            }

            rows.Add(new BenchmarkResult("inbox-10m: store generated (bulk INSERT of the server's event types into SQLite)", generated, "—", "—", "—", true));

            var first = await StartAsync(dir, log);
            log.WriteLine("  first start: " + first.Describe());
            // The ticket index snapshot is written once the in-memory read models have caught up (Storage/TicketIndexSnapshot.cs).
            var snapshot = Path.Combine(dir, "ticket-index.snapshot");
            var waited = Stopwatch.StartNew();
            while (!File.Exists(snapshot) && waited.Elapsed < TimeSpan.FromMinutes(15)) await Task.Delay(500);
            var snapshotNote = File.Exists(snapshot) ? $"; ticket index snapshot {new FileInfo(snapshot).Length / 1024 / 1024:N0} MB there {(first.SearchCaughtUp + waited.Elapsed)?.TotalSeconds:0} s after start" : "; no ticket index snapshot written";
            log.WriteLine("  " + snapshotNote.TrimStart(';', ' '));
            await first.StopAsync();
            rows.Add(new BenchmarkResult($"start-up with {scale} M events, first start (every event replayed; search read model built from position 0)", first.Describe() + snapshotNote, "—", "—", "—", true));

            await using var server = await StartAsync(dir, log);
            log.WriteLine("  restart: " + server.Describe());
            rows.Add(new BenchmarkResult($"start-up with {scale} M events, restart (ticket index from its snapshot; search read model resumes from its checkpoint)", server.Describe(), "—", "—", "—", true));
            rows.Add(new BenchmarkResult($"memory after start-up with {scale} M events", $"{server.RssMb:N0} MB RSS", "—", "—", "—", true));

            var token = await LoginAsync(server.BaseAddress, "agent1");
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var count = context.Quick ? 200 : 1_000;
            foreach (var (what, url) in new[]
            {
                ("city department (zjj)", "api/units/zjj/inbox?box=all"),
                ("district with subtree (gov-01)", "api/units/gov-01/inbox?box=all&subtree=true"),
                ("town (town-0101)", "api/units/town-0101/inbox?box=all"),
                ("department overdue box (cgj)", "api/units/cgj/inbox?box=overdue"),
            })
            {
                var (p50, p99, total) = await SequentialAsync(http, url, count);
                log.WriteLine($"  inbox {what}: {total} rows, p50 {p50:0.0} ms, p99 {p99:0.0} ms");
                rows.Add(new BenchmarkResult(
                    $"unit inbox, {what}, {scale} M events stored",
                    $"p50 {Measure.Ms(p50)}, p99 {Measure.Ms(p99)} over {count} sequential requests ({total:N0} open tasks)",
                    "p99 ≤ 20 ms with 10 M events", "—", "—", p99 <= 20));
            }

            foreach (var (what, url) in new[]
            {
                ("ticket list (newest first)", "api/tickets?pageSize=20"),
                ("ticket text search", "api/tickets?q=" + Uri.EscapeDataString("噪音") + "&pageSize=20"),
                ("ticket search by unit and state", "api/tickets?unit=zjj&state=InProgress&pageSize=20"),
            })
            {
                var (p50, p99, total) = await SequentialAsync(http, url, count / 5);
                log.WriteLine($"  search {what}: {total} rows, p50 {p50:0.0} ms, p99 {p99:0.0} ms");
                rows.Add(new BenchmarkResult(
                    $"agent's {what}, {scale} M events stored",
                    $"p50 {Measure.Ms(p50)}, p99 {Measure.Ms(p99)} over {count / 5} sequential requests ({total:N0} matches)",
                    "—", "—", "—", true));
            }

            rows.Add(new BenchmarkResult($"memory after the queries with {scale} M events", $"{HttpRegistrationBenchmark.Rss(server.Pid) / 1024 / 1024:N0} MB RSS", "—", "—", "—", true));
            return rows;
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static async Task<(double P50, double P99, long Total)> SequentialAsync(HttpClient http, string url, int count)
    {
        long total = 0;
        for (var i = 0; i < 3; i++)
        {
            using var warm = await http.GetAsync(url);
            warm.EnsureSuccessStatusCode();
            total = (long?)(await warm.Content.ReadFromJsonAsync<JsonNode>())?["total"] ?? 0;
        }

        var latencies = new double[count];
        for (var i = 0; i < count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await http.GetAsync(url);
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsByteArrayAsync();
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        Array.Sort(latencies);
        return (Measure.Percentile(latencies, 0.5), Measure.Percentile(latencies, 0.99), total);
    }

    private static async Task<string> LoginAsync(Uri baseAddress, string username)
    {
        using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.PostAsJsonAsync("api/auth/login", new { username, password = "Hotline@2026" });
        response.EnsureSuccessStatusCode();
        return (string)(await response.Content.ReadFromJsonAsync<JsonNode>())!["token"]!;
    }

    /// <summary>
    /// Starts the server on <paramref name="dataDirectory"/> (like <see cref="ServerProcess"/>, but with no 180 s limit on
    /// getting ready) and times its start-up.
    /// </summary>
    private static async Task<StartedServer> StartAsync(string dataDirectory, TextWriter log)
    {
        var port = ServerProcess.FreePort();
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = dataDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(RepoPaths.ServerDll);
        psi.ArgumentList.Add("--contentRoot");
        psi.ArgumentList.Add(RepoPaths.ServerProject);
        psi.Environment["Urls"] = $"http://127.0.0.1:{port}";
        psi.Environment["Hotline__DataDirectory"] = dataDirectory;
        foreach (var (k, v) in Settings) psi.Environment[k] = v;
        var clock = Stopwatch.StartNew();
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the server");
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new StartedServer(process, new Uri($"http://127.0.0.1:{port}/"), output);
        try
        {
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
            var deadline = TimeSpan.FromMinutes(40);
            string? adminToken = null;
            var peak = 0L;
            while (clock.Elapsed < deadline)
            {
                if (process.HasExited) throw new InvalidOperationException($"The server exited with {process.ExitCode}:\n{server.Output}");
                peak = Math.Max(peak, SafeRss(process.Id));
                try
                {
                    if (server.Listening is null && (await http.GetAsync("healthz")).StatusCode == HttpStatusCode.OK) server.Listening = clock.Elapsed;
                    if (server.Listening is not null && server.Ready is null && (await http.GetAsync("readyz")).StatusCode == HttpStatusCode.OK) server.Ready = clock.Elapsed;
                    if (server.Ready is not null)
                    {
                        adminToken ??= await LoginAsync(server.BaseAddress, "admin");
                        using var request = new HttpRequestMessage(HttpMethod.Get, "api/admin/read-models");
                        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
                        using var response = await http.SendAsync(request);
                        var models = (await response.Content.ReadFromJsonAsync<JsonArray>())!;
                        if (models.All(m => (bool)m!["caughtUp"]! && !(bool)m["rebuilding"]!))
                        {
                            server.SearchCaughtUp = clock.Elapsed;
                            break;
                        }
                    }
                }
                catch (HttpRequestException) { }
                catch (TaskCanceledException) { }
                await Task.Delay(200);
            }

            if (server.SearchCaughtUp is null) throw new TimeoutException($"The server did not catch up within {deadline}:\n{server.Output}");
            await Task.Delay(TimeSpan.FromSeconds(2)); // let start-up work settle
            server.RssMb = HttpRegistrationBenchmark.Rss(process.Id) / 1024 / 1024;
            server.PeakRssMb = Math.Max(peak, SafeRss(process.Id)) / 1024 / 1024;
            return server;
        }
        catch
        {
            log.WriteLine("  server output (last 4,000 characters): " + server.Output[^Math.Min(4000, server.Output.Length)..]);
            await server.DisposeAsync();
            throw;
        }
    }

    private static long SafeRss(int pid)
    {
        try { return HttpRegistrationBenchmark.Rss(pid); }
        catch (IOException) { return 0; }
        catch (InvalidOperationException) { return 0; }
    }

    private sealed class StartedServer(Process process, Uri baseAddress, StringBuilder output) : IAsyncDisposable
    {
        public Uri BaseAddress { get; } = baseAddress;
        public int Pid => process.Id;
        public TimeSpan? Listening { get; set; }
        public TimeSpan? Ready { get; set; }
        public TimeSpan? SearchCaughtUp { get; set; }
        public long RssMb { get; set; }
        public long PeakRssMb { get; set; }

        public string Output { get { lock (output) return output.ToString(); } }

        public string Describe() => string.Create(CultureInfo.InvariantCulture,
            $"listening {Listening?.TotalSeconds:0.0} s, ready (in-memory read models caught up) {Ready?.TotalSeconds:0.0} s, search read model caught up {SearchCaughtUp?.TotalSeconds:0.0} s; RSS {RssMb:N0} MB (peak seen {PeakRssMb:N0} MB)");

        /// <summary>A graceful stop (SIGTERM, as systemd or docker stop), then kill after 60 s.</summary>
        public async Task StopAsync()
        {
            if (!process.HasExited)
            {
                using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                try { await process.WaitForExitAsync(wait.Token); } catch (OperationCanceledException) { }
            }

            await DisposeAsync();
        }

        public async ValueTask DisposeAsync()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }
    }
}
