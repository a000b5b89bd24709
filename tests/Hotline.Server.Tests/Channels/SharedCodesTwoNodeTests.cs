using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Hotline.Testing;

namespace Hotline.Server.Tests.Channels;

/// <summary>
/// Two server processes on one real Redis (and one PostgreSQL): a verification code asked for on node A is accepted on
/// node B and consumed there for both; the per-phone code limit counts requests on both nodes together.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed partial class SharedCodesTwoNodeTests(ServersFixture servers)
{
    [Fact]
    public async Task A_code_sent_by_node_A_is_accepted_once_on_node_B_and_the_rate_limit_counts_both_nodes()
    {
        await using var gateway = new FakeGateway();
        var settings = await servers.ProductionSettingsAsync();
        settings["Hotline:Outbox:GatewayUrl"] = gateway.Url;
        await using var nodeA = await ServerProcess.StartAsync(settings);
        await using var nodeB = await ServerProcess.StartAsync(settings);
        using var a = nodeA.CreateClient();
        using var b = nodeB.CreateClient();
        const string phone = "13800007777";

        Assert.Equal(HttpStatusCode.Accepted, (await a.PostAsJsonAsync("api/public/verification-codes", new { phone })).StatusCode);
        var sms = await gateway.WaitForAsync(m => (string?)m["to"] == phone && (string?)m["kind"] == "verification", 30);
        var code = SixDigits().Match((string)sms["text"]!).Value;

        var appeal = new { phone, code, name = "陈女士", type = "求助", categoryCode = "090101", areaCode = "010101", address = "湖滨路 3 号", content = "小区停水一整天，没有通知。" };
        var created = await b.PostAsJsonAsync("api/public/appeals", appeal);
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"node B → {created.StatusCode}: {await created.Content.ReadAsStringAsync()}\n{E2eScripts.Tail(nodeB.Log, 30)}");

        // Consumed on B, so it is gone on A too.
        var reused = await a.PostAsJsonAsync("api/public/appeals", appeal);
        Assert.Equal(HttpStatusCode.BadRequest, reused.StatusCode);
        Assert.Contains("code", await reused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Five codes per phone per hour, wherever they are asked for: 3 on A + 2 on B pass, the sixth (on A) does not.
        const string other = "13800008888";
        var statuses = new List<HttpStatusCode>();
        foreach (var node in new[] { a, b, a, b, a, a })
            statuses.Add((await node.PostAsJsonAsync("api/public/verification-codes", new { phone = other })).StatusCode);
        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Accepted, 5), HttpStatusCode.TooManyRequests], statuses);
    }

    [GeneratedRegex(@"\d{6}")]
    private static partial Regex SixDigits();
}
