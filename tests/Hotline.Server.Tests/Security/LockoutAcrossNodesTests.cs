using System.Net;
using System.Net.Http.Json;
using Hotline.Testing;

namespace Hotline.Server.Tests.Security;

/// <summary>
/// Two server processes on one real Redis: failed logins on either node count toward one lockout, the lockout holds on
/// both, an admin's unlock on one node lifts it on the other, and the per-username login rate is one budget for both.
/// (The nodes share only Redis here; each keeps its own SQLite event store.)
/// </summary>
[Collection(Faults.FaultsCollection.Name)]
public sealed class LockoutAcrossNodesTests
{
    [Fact]
    public async Task Failed_logins_on_two_nodes_lock_the_name_on_both_until_unlocked_and_the_login_rate_is_shared()
    {
        await using var redis = await RedisServer.StartAsync();
        var settings = new Dictionary<string, string>
        {
            ["Hotline:Queue"] = "Redis",
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["Hotline:RedisPrefix"] = "lock" + Guid.NewGuid().ToString("N")[..8],
            ["Hotline:Security:MaxFailedLogins"] = "3",
            ["Hotline:Security:LockoutMinutes"] = "5",
            ["Hotline:Security:LoginPerUserPerMinute"] = "6",
            ["Hotline:Security:LoginPerIpPerMinute"] = "1000",
        };
        await using var a = await ServerProcess.StartAsync(settings);
        await using var b = await ServerProcess.StartAsync(settings);
        using var httpA = a.CreateClient();
        using var httpB = b.CreateClient();
        static async Task<HttpResponseMessage> Login(HttpClient http, string username, string password) =>
            await http.PostAsJsonAsync("api/auth/login", new { username, password });

        // Two failures on A, the third on B: B locks the name.
        Assert.Equal(HttpStatusCode.Unauthorized, (await Login(httpA, "cb1", "wrong-1")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Login(httpA, "cb1", "wrong-2")).StatusCode);
        var third = await Login(httpB, "cb1", "wrong-3");
        Assert.Equal((HttpStatusCode)423, third.StatusCode);
        Assert.NotNull(third.Headers.RetryAfter);

        // Locked on both nodes, even with the right password (the name is case-insensitive).
        Assert.Equal((HttpStatusCode)423, (await Login(httpA, "cb1", ApiClient.Password)).StatusCode);
        Assert.Equal((HttpStatusCode)423, (await Login(httpB, "CB1", ApiClient.Password)).StatusCode);

        // An unknown name is counted the same way, across nodes.
        Assert.Equal(HttpStatusCode.Unauthorized, (await Login(httpB, "nobody-here", "x")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Login(httpA, "nobody-here", "x")).StatusCode);
        Assert.Equal((HttpStatusCode)423, (await Login(httpB, "nobody-here", "x")).StatusCode);

        // An admin on A unlocks; B lets cb1 in.
        using (var admin = await ApiClient.LoginAsync(a, "admin"))
            Assert.Equal(HttpStatusCode.NoContent, (await admin.SendAsync(HttpMethod.Post, "api/admin/users/cb1/unlock")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Login(httpB, "cb1", ApiClient.Password)).StatusCode);

        // Six attempts a minute per name, wherever they land: the seventh is refused with 429 on the other node.
        for (var i = 0; i < 6; i++)
            Assert.Equal(HttpStatusCode.OK, (await Login(i % 2 == 0 ? httpA : httpB, "leader1", ApiClient.Password)).StatusCode);
        var seventh = await Login(httpB, "leader1", ApiClient.Password);
        Assert.Equal(HttpStatusCode.TooManyRequests, seventh.StatusCode);
        Assert.NotNull(seventh.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Login(httpA, "leader1", ApiClient.Password)).StatusCode);
        // Another name is not affected.
        Assert.Equal(HttpStatusCode.OK, (await Login(httpA, "super1", ApiClient.Password)).StatusCode);
    }
}
