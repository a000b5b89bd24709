using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Hotline.Testing;
using Xunit.Abstractions;

namespace Hotline.Server.Tests.Faults;

/// <summary>
/// PostgreSQL goes away under a running server (its own PostgreSQL, so no other test sees the outage): writes answer
/// 503 fast with Retry-After, what the server holds in memory (lists, work lists, wallboard, /api/me) still answers,
/// /readyz says the event store is unreachable; PostgreSQL comes back and the same server takes writes again, the
/// retried write lands once, the read models pick up the new events, nothing half-written is left.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class PostgresOutageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Writes_fail_fast_with_retry_hint_reads_of_live_state_work_and_all_resumes_without_restart()
    {
        await using var postgres = await PostgresServer.StartNewAsync();
        var settings = FaultSettings.RelaxedOnPostgres(await postgres.CreateDatabaseAsync("outage"));
        await using var server = await ServerProcess.StartAsync(settings);
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        using var dispatcher = await ApiClient.LoginAsync(server, "disp1");
        using var supervisor = await ApiClient.LoginAsync(server, "super1");

        var (status, before, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", Registration("停电前"), idempotencyKey: Guid.NewGuid().ToString());
        Assert.True(status == HttpStatusCode.Created, $"{status}: {before}");
        var beforeId = (string)before!["id"]!;

        await postgres.StopAsync();

        // Writes: 503 with Retry-After, quickly, as a problem document.
        var key = Guid.NewGuid().ToString();
        foreach (var (who, url, body, version, k) in new (ApiClient, string, object, long?, string?)[]
        {
            (agent, "api/tickets", Registration("停电中"), null, key),
            (dispatcher, $"api/tickets/{beforeId}/dispatch", new { unitId = "zjj" }, 1, Guid.NewGuid().ToString()),
        })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(body) };
            if (version is { } v) request.Headers.TryAddWithoutValidation("If-Match", $"\"{v}\"");
            if (k is not null) request.Headers.Add("Idempotency-Key", k);
            var clock = Stopwatch.StartNew();
            using var response = await who.Http.SendAsync(request);
            var elapsed = clock.Elapsed;
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{url} → {response.StatusCode}: {text}");
            Assert.True(elapsed < TimeSpan.FromSeconds(5), $"{url} took {elapsed.TotalSeconds:F1} s to fail");
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
            output.WriteLine($"{url}: 503 in {elapsed.TotalMilliseconds:F0} ms, Retry-After {response.Headers.RetryAfter}");
        }

        // Reads of live state held in memory still answer.
        var list = await agent.GetJsonAsync("api/tickets");
        Assert.Contains(beforeId, list["items"]!.AsArray().Select(x => (string?)x!["id"]));
        var toDispatch = await dispatcher.GetJsonAsync("api/worklists/to-dispatch");
        Assert.Contains(beforeId, toDispatch["items"]!.AsArray().Select(x => (string?)x!["id"]));
        await supervisor.GetJsonAsync("api/calls/wallboard");
        await agent.GetJsonAsync("api/me");
        await agent.GetJsonAsync("api/reference/categories");

        // /readyz says why.
        using (var http = server.CreateClient())
        {
            var ready = await http.GetAsync("readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
            Assert.StartsWith("unreachable", (string?)body["checks"]!["eventStore"], StringComparison.Ordinal);
            output.WriteLine("readyz during the outage: " + body.ToJsonString());
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);
        }

        await postgres.StartAsync();

        // The same server takes writes again: the retried registration lands (once), the dispatch too.
        using var retrying = new Resilient(server.BaseAddress, agent.Token);
        var clockBack = Stopwatch.StartNew();
        var (again, during) = await retrying.SendAsync(HttpMethod.Post, "api/tickets", Registration("停电中"), null, key, TimeSpan.FromSeconds(60));
        Assert.True(again == HttpStatusCode.Created, $"{again}: {during}");
        output.WriteLine($"first write after PostgreSQL restart landed {clockBack.Elapsed.TotalMilliseconds:F0} ms after it was back ({retrying.Retries} retries)");
        var (retried, same) = await retrying.SendAsync(HttpMethod.Post, "api/tickets", Registration("停电中"), null, key);
        Assert.Equal(HttpStatusCode.Created, retried);
        Assert.Equal((string?)during!["id"], (string?)same!["id"]);
        await dispatcher.ActAsync(beforeId, "dispatch", new { unitId = "zjj" }, 1);
        for (var i = 0; i < 5; i++)
        {
            var (s, b, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", Registration("恢复后 " + i), idempotencyKey: Guid.NewGuid().ToString());
            Assert.True(s == HttpStatusCode.Created, $"{s}: {b}");
        }

        // Read models and readiness follow.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        using (var http = server.CreateClient())
        {
            while ((await http.GetAsync("readyz")).StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline) await Task.Delay(200);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("readyz")).StatusCode);
        }
        // The ticket list is the persistent search read model, fed asynchronously: it catches up on its own.
        var after = await agent.GetJsonAsync("api/tickets?pageSize=50");
        var until = DateTime.UtcNow.AddSeconds(15);
        while ((int)after["total"]! != 7 && DateTime.UtcNow < until)
        {
            await Task.Delay(200);
            after = await agent.GetJsonAsync("api/tickets?pageSize=50");
        }
        Assert.Equal(7, (int)after["total"]!);

        var audit = await StoreAudit.RunAsync(server, settings);
        Assert.True(audit.Problems.Count == 0, string.Join("\n", audit.Problems));
        Assert.Equal(7, audit.Tickets.Count);
    }

    private static object Registration(string note) => new
    {
        channel = "电话", type = "求助", urgency = "一般", categoryCode = "010201", areaCode = "010101",
        address = "湖滨路 1 号", content = "供水中断，请尽快处理（" + note + "）", callerName = "李华", callerPhone = "13700001111",
    };
}
