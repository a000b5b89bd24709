using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Hotline.Testing;
using Xunit.Abstractions;

namespace Hotline.Server.Tests.Faults;

/// <summary>
/// kill -9 under load. Workers register tickets and advance each through dispatch and sign-for (three writes per
/// ticket, each with an idempotency key and If-Match) while the server is killed and restarted on the same data
/// several times; a write without an answer is retried unchanged. Afterwards every write the client saw
/// acknowledged is in the store exactly once, nothing else is, the read models (lists) agree with the streams after
/// one more restart, and the store passes <see cref="StoreAudit"/>.
/// </summary>
public abstract class KillDuringLoadTests(ITestOutputHelper output)
{
    /// <summary>200 by default (600 writes); HOTLINE_FAULT_TICKETS=2000 for a long run.</summary>
    protected static readonly int Tickets = int.TryParse(Environment.GetEnvironmentVariable("HOTLINE_FAULT_TICKETS"), out var n) && n > 0 ? n : 200;
    private const int Workers = 6;

    protected abstract Task<(ServerProcess Server, IReadOnlyDictionary<string, string>? Settings)> StartServerAsync();

    [Fact]
    public async Task Every_acknowledged_write_survives_kill_9_exactly_once()
    {
        var (server, settings) = await StartServerAsync();
        await using var _ = server;
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        using var dispatcher = await ApiClient.LoginAsync(server, "disp1");
        using var handler = await ApiClient.LoginAsync(server, "handler1");
        using var admin = await ApiClient.LoginAsync(server, "admin");
        using var asAgent = new Resilient(server.BaseAddress, agent.Token);
        using var asDispatcher = new Resilient(server.BaseAddress, dispatcher.Token);
        using var asHandler = new Resilient(server.BaseAddress, handler.Token);

        var run = Guid.NewGuid().ToString("N")[..8];
        var acknowledged = new ConcurrentDictionary<string, (string TicketId, long Version)>(); // write key → answer
        var failures = new ConcurrentQueue<string>();
        var next = -1;
        var clock = Stopwatch.StartNew();

        async Task WorkerAsync()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < Tickets)
            {
                var key = $"{run}-{i}";
                var (status, body) = await asAgent.SendAsync(HttpMethod.Post, "api/tickets", Registration(run, i), null, key);
                if (status != HttpStatusCode.Created) { failures.Enqueue($"register {key} → {status}: {body}"); continue; }
                var id = (string)body!["id"]!;
                acknowledged[key] = (id, (long)body["version"]!);

                (status, body) = await asDispatcher.SendAsync(HttpMethod.Post, $"api/tickets/{id}/dispatch", new { unitId = "zjj", reason = "负载测试" }, 1, key + "-dispatch");
                if (status != HttpStatusCode.OK) { failures.Enqueue($"dispatch {key} → {status}: {body}"); continue; }
                acknowledged[key + "-dispatch"] = (id, (long)body!["version"]!);

                (status, body) = await asHandler.SendAsync(HttpMethod.Post, $"api/tickets/{id}/sign-for", new { }, 2, key + "-sign");
                if (status != HttpStatusCode.OK) { failures.Enqueue($"sign-for {key} → {status}: {body}"); continue; }
                acknowledged[key + "-sign"] = (id, (long)body!["version"]!);
            }
        }

        var load = Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => Task.Run(WorkerAsync)));

        // kill -9 at three points of the run, each time while writes are in flight.
        var kills = 0;
        foreach (var fraction in new[] { 0.15, 0.45, 0.75 })
        {
            while (!load.IsCompleted && acknowledged.Count < fraction * Tickets * 3) await Task.Delay(20);
            if (load.IsCompleted) break;
            await server.KillAsync();
            kills++;
            await Task.Delay(300); // writes pile up against a dead port
            await server.RestartAsync();
        }
        await load.WaitAsync(TimeSpan.FromMinutes(4));
        var loadTime = clock.Elapsed;
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(20)));
        Assert.True(kills >= 2, $"the load finished before the server could be killed enough ({kills} kills)");

        // One more kill, then the read models are rebuilt from the log alone.
        await server.KillAsync();
        await server.RestartAsync();

        var audit = await StoreAudit.RunAsync(server, settings);
        Assert.True(audit.Problems.Count == 0, string.Join("\n", audit.Problems.Take(20)));

        var ticketIds = acknowledged.Where(a => !a.Key.Contains("-dispatch", StringComparison.Ordinal) && !a.Key.Contains("-sign", StringComparison.Ordinal))
            .Select(a => Guid.Parse(a.Value.TicketId)).ToHashSet();
        Assert.Equal(Tickets, ticketIds.Count);
        // Exactly once: each ticket of the run is one stream with registration, dispatch and sign-for once each, and nothing more.
        var ours = audit.Tickets.Where(t => t.Value.Content.Contains(run, StringComparison.Ordinal)).ToDictionary();
        Assert.Equal(Tickets, ours.Count);
        Assert.All(ticketIds, id => Assert.True(ours.ContainsKey(id), $"acknowledged ticket {id} is missing"));
        foreach (var (id, t) in ours)
        {
            Assert.Equal(3, t.Version);
            Assert.Equal("InProgress", t.State.ToString());
        }
        Assert.Equal(ours.Count, ours.Values.Select(t => t.Number).Distinct().Count());
        foreach (var (key, (ticketId, version)) in acknowledged) Assert.True(ours[Guid.Parse(ticketId)].Version >= version, $"{key}: acknowledged version {version} lost");

        // The read model after restart (the ticket list) agrees with the streams.
        var listed = new Dictionary<string, long>();
        for (var page = 1; ; page++)
        {
            var rows = await admin.GetJsonAsync($"api/tickets?q={run}&pageSize=200&page={page}");
            foreach (var row in rows["items"]!.AsArray()) listed[(string)row!["id"]!] = (long)row["version"]!;
            if (rows["items"]!.AsArray().Count < 200) break;
        }
        Assert.Equal(Tickets, listed.Count);
        Assert.All(ours, t => Assert.Equal(t.Value.Version, listed[t.Key.ToString()]));

        // And the details endpoint shows each step once.
        foreach (var id in ticketIds.Take(20))
        {
            var details = await admin.GetJsonAsync($"api/tickets/{id}");
            Assert.Equal(["TicketRegistered", "TicketDispatched", "TaskSignedFor"], details["history"]!.AsArray().Select(h => (string?)h!["type"]));
        }

        output.WriteLine($"{Tickets * 3} writes ({Tickets} tickets × register/dispatch/sign-for) in {loadTime.TotalSeconds:F1} s, {kills + 1} kill -9, " +
            $"{asAgent.Retries + asDispatcher.Retries + asHandler.Retries} retried sends; {audit.Events} events in {audit.Streams.Count} streams audited.");
    }

    private static object Registration(string run, int i) => new
    {
        channel = "电话", type = "投诉", urgency = "一般", categoryCode = "010201", areaCode = "010101",
        address = $"湖滨路 {i} 号", content = $"楼道垃圾无人清理（压测 {run} 第 {i} 件）", callerName = "王建华", callerPhone = $"139{i:D8}",
    };
}

[Collection(FaultsCollection.Name)]
public sealed class KillDuringLoadOnSqlite(ITestOutputHelper output) : KillDuringLoadTests(output)
{
    protected override async Task<(ServerProcess, IReadOnlyDictionary<string, string>?)> StartServerAsync() =>
        (await ServerProcess.StartAsync(FaultSettings.Relaxed()), null);
}

/// <summary>On its own PostgreSQL (with the Redis queue of the shared fixture unused: the queue plays no part here).</summary>
[Collection(FaultsCollection.Name)]
public sealed class KillDuringLoadOnPostgres(ITestOutputHelper output) : KillDuringLoadTests(output), IAsyncLifetime
{
    private PostgresServer? _postgres;

    public async Task InitializeAsync() => _postgres = await PostgresServer.StartNewAsync();

    public async Task DisposeAsync()
    {
        if (_postgres is not null) await _postgres.DisposeAsync();
    }

    protected override async Task<(ServerProcess, IReadOnlyDictionary<string, string>?)> StartServerAsync()
    {
        var settings = FaultSettings.RelaxedOnPostgres(await _postgres!.CreateDatabaseAsync("killed"));
        return (await ServerProcess.StartAsync(settings), settings);
    }
}

/// <summary>Settings for load and fuzz runs: the per-user rate limit is raised so the load itself is measured, not the limiter.</summary>
public static class FaultSettings
{
    public static Dictionary<string, string> Relaxed() => new()
    {
        ["Hotline:Security:RequestsPerUserPerMinute"] = "1000000",
        ["Hotline:Security:AnonymousPerIpPerMinute"] = "1000000",
        ["Hotline:Security:LoginPerIpPerMinute"] = "1000",
        ["Hotline:Security:LoginPerUserPerMinute"] = "1000",
    };

    /// <summary><see cref="Relaxed()"/> with the live queue on <paramref name="redis"/>.</summary>
    public static Dictionary<string, string> Relaxed(RedisServer redis)
    {
        var settings = Relaxed();
        settings["Hotline:Queue"] = "Redis";
        settings["ConnectionStrings:Redis"] = redis.ConnectionString;
        return settings;
    }

    /// <summary><see cref="Relaxed()"/> with the event store on the PostgreSQL database <paramref name="connectionString"/>.</summary>
    public static Dictionary<string, string> RelaxedOnPostgres(string connectionString)
    {
        var settings = Relaxed();
        settings["Hotline:EventStore"] = "Postgres";
        settings["ConnectionStrings:Postgres"] = connectionString;
        return settings;
    }
}
