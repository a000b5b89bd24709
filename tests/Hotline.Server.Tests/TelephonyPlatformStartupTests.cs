using System.Net;
using Hotline.Testing;

namespace Hotline.Server.Tests;

/// <summary>
/// Each telephony platform the configuration can choose must let the server start, even while the platform itself
/// is unreachable (the adapter reconnects in the background). A dependency cycle between the adapter and the call
/// center used to hang start-up.
/// </summary>
public sealed class TelephonyPlatformStartupTests
{
    [Theory]
    [InlineData("FreeSwitch")]
    [InlineData("Webhook")]
    public async Task The_server_starts_and_takes_tickets_with_the_platform_unreachable(string platform)
    {
        var settings = new Dictionary<string, string>
        {
            ["Hotline:Telephony"] = platform,
            ["Hotline:FreeSwitch:Port"] = ServerProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Hotline:Webhook:Secret"] = "test-secret-0123456789abcdef-0123456789",
        };
        await using var server = await ServerProcess.StartAsync(settings);
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        var (status, ticket, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", new
        {
            channel = "电话", type = "咨询", urgency = "一般", categoryCode = "040201", areaCode = "0201",
            content = "咨询社保缴费基数怎么调整", callerName = "李娟", callerPhone = "13600001111",
        }, idempotencyKey: Guid.NewGuid().ToString());
        Assert.True(status == HttpStatusCode.Created, $"{platform}: register → {status}: {ticket}");
    }
}
