using System.Net;
using System.Text.Json.Nodes;
using Hotline.Server.Tests.Faults;
using Hotline.Testing;

namespace Hotline.Server.Tests.Tickets;

/// <summary>
/// Registration with an Idempotency-Key has no separate idempotency read: the key fixes the ticket id and the event
/// ids, and the append (expecting no stream) is the check. Against the real server on each store: concurrent
/// duplicates of one key, a later retry, a retry whose body no longer validates and a retry after kill -9 all answer
/// the ticket the first attempt created, and the store holds it once.
/// </summary>
public abstract class RegistrationIdempotencyContract
{
    protected abstract Task<Dictionary<string, string>> SettingsAsync();

    [Fact]
    public async Task Every_retry_of_a_key_concurrent_later_invalid_or_after_kill_9_answers_the_first_ticket_written_once()
    {
        var settings = await SettingsAsync();
        await using var server = await ServerProcess.StartAsync(settings);
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        var key = "dup-" + Guid.NewGuid().ToString("N");

        // 16 requests with one key at once: one ticket, every answer is that ticket at version 1.
        var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => agent.SendAsync(HttpMethod.Post, "api/tickets", Registration("并发重复"), idempotencyKey: key)));
        Assert.All(answers, a => Assert.True(a.Status == HttpStatusCode.Created, $"{a.Status}: {a.Body}"));
        var id = (string)answers[0].Body!["id"]!;
        var number = (string)answers[0].Body!["number"]!;
        Assert.All(answers, a => Assert.Equal((id, number, 1L), ((string)a.Body!["id"]!, (string)a.Body!["number"]!, (long)a.Body!["version"]!)));

        // A later retry with another body, and one whose body no longer validates: still the first ticket.
        var (status, later, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", Registration("第二次内容"), idempotencyKey: key);
        Assert.Equal(HttpStatusCode.Created, status);
        AssertFirst(later, id, number, "并发重复");
        (status, later, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", new { channel = "电话" }, idempotencyKey: key);
        Assert.True(status == HttpStatusCode.Created, $"{status}: {later}");
        AssertFirst(later, id, number, "并发重复");

        // After kill -9 the server answers the retry from the store.
        await server.KillAsync();
        await server.StartAsync();
        using var again = await ApiClient.LoginAsync(server, "agent1");
        (status, later, _) = await again.SendAsync(HttpMethod.Post, "api/tickets", Registration("重启后重试"), idempotencyKey: key);
        Assert.Equal(HttpStatusCode.Created, status);
        AssertFirst(later, id, number, "并发重复");

        var details = await again.GetJsonAsync($"api/tickets/{id}");
        Assert.Equal(["TicketRegistered"], details["history"]!.AsArray().Select(h => (string?)h!["type"]));
        var audit = await StoreAudit.RunAsync(server, settings);
        Assert.True(audit.Problems.Count == 0, string.Join("\n", audit.Problems.Take(20)));
        Assert.Single(audit.Tickets.Values, t => t.Content.Contains("并发重复", StringComparison.Ordinal));

        // Without a key every request is a new ticket, and the answer shows what was stored (version, history).
        var (s1, first, _) = await again.SendAsync(HttpMethod.Post, "api/tickets", Registration("无键"));
        var (s2, second, _) = await again.SendAsync(HttpMethod.Post, "api/tickets", Registration("无键"));
        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created), (s1, s2));
        Assert.NotEqual((string)first!["id"]!, (string)second!["id"]!);
        var stored = await again.GetJsonAsync($"api/tickets/{(string)first["id"]!}");
        Assert.Equal(stored["history"]!.ToJsonString(), first["history"]!.ToJsonString());
        Assert.Equal((long)stored["version"]!, (long)first["version"]!);
    }

    private static void AssertFirst(JsonNode? body, string id, string number, string content)
    {
        Assert.Equal(id, (string)body!["id"]!);
        Assert.Equal(number, (string)body["number"]!);
        Assert.Equal(1L, (long)body["version"]!);
        Assert.Contains(content, (string)body["content"]!, StringComparison.Ordinal);
    }

    private static object Registration(string content) => new
    {
        channel = "电话", type = "投诉", urgency = "一般", categoryCode = "010201", areaCode = "010101",
        address = "湖滨路 88 号", content = "楼道垃圾无人清理（" + content + "）", callerName = "王建华", callerPhone = "13900001111",
    };
}

[Collection(FaultsCollection.Name)]
public sealed class RegistrationIdempotencyOnSqlite : RegistrationIdempotencyContract
{
    protected override Task<Dictionary<string, string>> SettingsAsync() => Task.FromResult(FaultSettings.Relaxed());
}

[Collection(ServersCollection.Name)]
public sealed class RegistrationIdempotencyOnPostgres(ServersFixture servers) : RegistrationIdempotencyContract
{
    protected override async Task<Dictionary<string, string>> SettingsAsync()
    {
        var settings = FaultSettings.Relaxed();
        foreach (var (k, v) in await servers.ProductionSettingsAsync()) settings[k] = v;
        return settings;
    }
}
