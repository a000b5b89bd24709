using System.Net;
using Hotline.Testing;

namespace Hotline.Server.Tests;

/// <summary>A city's time-limit table comes from configuration ("Hotline:TimeLimits") and drives the deadlines.</summary>
public sealed class TimeLimitConfigurationTests
{
    [Fact]
    public async Task A_configured_dispatch_limit_sets_the_dispatch_deadline()
    {
        var settings = new Dictionary<string, string>
        {
            ["Hotline:City"] = "海川市",
            ["Hotline:TimeLimits:Cities:海川市:0:Kind"] = "Dispatch",
            ["Hotline:TimeLimits:Cities:海川市:0:Type"] = "*",
            ["Hotline:TimeLimits:Cities:海川市:0:Urgency"] = "一般",
            ["Hotline:TimeLimits:Cities:海川市:0:Amount"] = "5",
            ["Hotline:TimeLimits:Cities:海川市:0:Unit"] = "NaturalHours",
        };
        await using var server = await ServerProcess.StartAsync(settings);
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        var (status, ticket, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", new
        {
            channel = "电话", type = "求助", urgency = "一般", categoryCode = "090101", areaCode = "0301",
            content = "小区停水两天了，没有任何通知", callerName = "赵敏", callerPhone = "13500002222",
        }, idempotencyKey: Guid.NewGuid().ToString());
        Assert.True(status == HttpStatusCode.Created, $"register → {status}: {ticket}");

        var registeredAt = DateTimeOffset.Parse((string)ticket!["createdAt"]!, System.Globalization.CultureInfo.InvariantCulture);
        var dueAt = DateTimeOffset.Parse((string)ticket["deadline"]!["dueAt"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("派单", (string?)ticket["deadline"]!["kind"]);
        Assert.Equal(TimeSpan.FromHours(5), dueAt - registeredAt);
    }
}
