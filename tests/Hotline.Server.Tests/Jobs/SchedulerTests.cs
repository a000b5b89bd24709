using System.Net;
using System.Text.Json.Nodes;
using Hotline.Testing;
using Npgsql;

namespace Hotline.Server.Tests.Jobs;

/// <summary>The real Quartz scheduler in a real server process (embedded profile: in-memory store).</summary>
public sealed class SchedulerTests
{
    [Fact]
    public async Task The_scheduler_fires_jobs_records_their_runs_and_an_admin_can_trigger_one_now()
    {
        await using var server = await ServerProcess.StartAsync();
        using var admin = await ApiClient.LoginAsync(server, "admin");
        using var leader = await ApiClient.LoginAsync(server, "leader1");

        // The callback-scheduling job fires every second (Hotline:Jobs:CallbackSchedulingSeconds=1): its runs are recorded.
        var list = await PollAsync(() => admin.GetJsonAsync("api/admin/jobs"),
            l => Row(l, "tickets.callback-scheduling")?["lastRun"] is JsonObject, "a recorded run of callback-scheduling");
        Assert.False((bool)list["clustered"]!);
        var jobs = list["jobs"]!.AsArray().Select(j => (string)j!["job"]!).ToList();
        foreach (var name in new[] { "tickets.auto-dispatch", "tickets.sign-for-chase", "tickets.overdue-chase", "tickets.request-windows", "tickets.callback-retry", "calendar.calendar-alert", "reports.daily-brief", "reports.weekly-workbook", "system.read-model-lag" })
        {
            Assert.Contains(name, jobs);
            Assert.NotNull(Row(list, name)!["next"]);
        }
        var run = Row(list, "tickets.callback-scheduling")!["lastRun"]!;
        Assert.True((bool)run["succeeded"]!);
        Assert.EndsWith("callback task(s) created", (string)run["result"]!, StringComparison.Ordinal);
        Assert.True((double)run["durationMs"]! >= 0);

        // Trigger the daily brief now: it runs, its run is listed, and the leader finds the announcement.
        var (status, body, _) = await admin.SendAsync(HttpMethod.Post, "api/admin/jobs/reports/daily-brief/trigger");
        Assert.True(status == HttpStatusCode.Accepted, $"trigger → {status}: {body}");
        var runs = await PollAsync(() => admin.GetJsonAsync("api/admin/jobs/reports/daily-brief/runs"), r => r.AsArray().Count > 0, "a daily-brief run");
        Assert.True((bool)runs[0]!["succeeded"]!);
        Assert.Contains("受理", (string)runs[0]!["result"]!, StringComparison.Ordinal);
        var announcements = await PollAsync(() => leader.GetJsonAsync("api/announcements"),
            a => a.AsArray().Any(x => (string?)x!["kind"] == "daily-brief"), "the daily brief announcement");
        Assert.Equal("每日简报", (string?)announcements.AsArray().First(x => (string?)x!["kind"] == "daily-brief")!["title"]);

        var (missing, _, _) = await admin.SendAsync(HttpMethod.Post, "api/admin/jobs/reports/no-such-job/trigger");
        Assert.Equal(HttpStatusCode.NotFound, missing);
        using var leaderOnly = await leader.Http.GetAsync("api/admin/jobs");
        Assert.Equal(HttpStatusCode.Forbidden, leaderOnly.StatusCode);
    }

    internal static JsonNode? Row(JsonNode list, string job) => list["jobs"]!.AsArray().FirstOrDefault(j => (string?)j!["job"] == job);

    internal static async Task<JsonNode> PollAsync(Func<Task<JsonNode>> get, Func<JsonNode, bool> done, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var value = await get();
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited {seconds} s for {what}; last: {value}");
            await Task.Delay(250);
        }
    }
}

/// <summary>
/// Two server processes on one PostgreSQL with Quartz's clustered ADO store: every firing runs once in the cluster,
/// and the firing of a node killed mid-job is recovered by the other.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class ClusteredSchedulerTests(ServersFixture servers)
{
    [Fact]
    public async Task Two_nodes_run_each_firing_once_and_recover_the_job_of_a_killed_node()
    {
        var settings = await servers.ProductionSettingsAsync();
        settings["Hotline:Jobs:ClusterCheckinSeconds"] = "1";
        settings["Hotline:Jobs:ClusterCheckinMisfireSeconds"] = "4";
        settings["Hotline:Jobs:ClusterProbeSeconds"] = "2";
        settings["Hotline:Jobs:ClusterProbeDurationMs"] = "8000";
        var postgres = settings["ConnectionStrings:Postgres"];

        await using var a = await ServerProcess.StartAsync(settings);
        await using var b = await ServerProcess.StartAsync(settings);
        using var adminA = await ApiClient.LoginAsync(a, "admin");
        using var adminB = await ApiClient.LoginAsync(b, "admin");
        var listA = await adminA.GetJsonAsync("api/admin/jobs");
        var nodeA = (string)listA["node"]!;
        var nodeB = (string)(await adminB.GetJsonAsync("api/admin/jobs"))["node"]!;
        Assert.True((bool)listA["clustered"]!);
        Assert.NotEqual(nodeA, nodeB);

        // Let the 1-second job fire for a while on the shared schedule.
        await Task.Delay(TimeSpan.FromSeconds(8));

        // Wait for a probe to start, then kill the node running it (kill -9, mid-job).
        const string started = "Cluster probe started on ";
        int Count(ServerProcess p) => p.Log.Split('\n').Count(l => l.Contains(started, StringComparison.Ordinal));
        var (beforeA, beforeB) = (Count(a), Count(b));
        var deadline = DateTime.UtcNow.AddSeconds(40);
        ServerProcess? victim = null;
        while (victim is null && DateTime.UtcNow < deadline)
        {
            if (Count(a) > beforeA) victim = a;
            else if (Count(b) > beforeB) victim = b;
            else await Task.Delay(100);
        }
        Assert.True(victim is not null, "no probe started on either node:\n" + a.Log + "\n" + b.Log);
        var survivor = victim == a ? nodeB : nodeA;
        await victim.KillAsync();

        // The survivor notices the missed check-ins and runs the cut-off firing again, as a recovery. Quartz schedules
        // the recovery within seconds, but the job disallows concurrent execution, so the recovery firing can queue
        // behind several regular firings of the same job (seen: 48 s on an idle machine); allow for that.
        await using var db = new NpgsqlConnection(postgres);
        await db.OpenAsync();
        deadline = DateTime.UtcNow.AddSeconds(180);
        var recovered = 0L;
        while (recovered == 0 && DateTime.UtcNow < deadline)
        {
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM hotline_job_runs WHERE job = 'system.cluster-probe' AND recovering AND node = $1", db);
            cmd.Parameters.AddWithValue(survivor);
            recovered = (long)(await cmd.ExecuteScalarAsync())!;
            if (recovered == 0) await Task.Delay(500);
        }
        Assert.True(recovered > 0, "the survivor did not recover the probe:\n" + (victim == a ? b.Log : a.Log));

        // Every scheduled firing of every job ran once in the cluster (recoveries re-run a firing on purpose).
        await using (var dup = new NpgsqlCommand(
            "SELECT job || ' @ ' || scheduled_at || ' × ' || count(*) || ' on ' || string_agg(node || ' ' || started_at, ', ') FROM hotline_job_runs WHERE NOT recovering GROUP BY job, scheduled_at HAVING count(*) > 1", db))
        {
            var duplicates = new List<string>();
            await using var reader = await dup.ExecuteReaderAsync();
            while (await reader.ReadAsync()) duplicates.Add(reader.GetString(0));
            Assert.True(duplicates.Count == 0, "firings run twice: " + string.Join(", ", duplicates));
        }
        await using (var count = new NpgsqlCommand("SELECT count(*) FROM hotline_job_runs WHERE job = 'tickets.callback-scheduling'", db))
            Assert.True((long)(await count.ExecuteScalarAsync())! >= 5, "the 1-second job ran fewer than 5 times");
    }
}
