using Hotline.Testing;

namespace Hotline.Server.Tests.Calls;

/// <summary>
/// Reconnect and resync in a real browser: tests/e2e/agent-reconnect.mjs puts agent1 on a call; this harness then kills the
/// server process (kill -9) and starts it again (same port, same data directory, same private Redis: the Redis profile), and the
/// script checks that the console reconnects on its own and shows the same call card and state. Screenshots land in
/// tests/artifacts/e2e/ (reconnect-*.png).
/// </summary>
[Collection(Faults.FaultsCollection.Name)]
public sealed class AgentConsoleReconnectTests
{
    [Fact]
    public async Task After_a_server_restart_the_agent_console_reconnects_and_shows_the_same_call_card()
    {
        var failure = await E2eScripts.EnsureInstalledAsync();
        Assert.True(failure is null, failure);
        await using var redis = await RedisServer.StartAsync();
        var settings = new Dictionary<string, string>
        {
            ["Hotline:Queue"] = "Redis",
            ["Hotline:RedisPrefix"] = "e2e" + Guid.NewGuid().ToString("N")[..8],
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
        };
        await using var server = await ServerProcess.StartAsync(settings);
        var handshake = Directory.CreateTempSubdirectory("hotline-reconnect-").FullName;

        var script = E2eScripts.RunScriptAsync(
            "agent-reconnect.mjs",
            new Dictionary<string, string> { ["BASE_URL"] = server.BaseAddress.ToString(), ["HANDSHAKE_DIR"] = handshake },
            TimeSpan.FromMinutes(8));

        // Wait for the script to put agent1 on a call, then restart the server under it.
        var onCall = Path.Combine(handshake, "on-call");
        while (!File.Exists(onCall) && !script.IsCompleted) await Task.Delay(200);
        if (File.Exists(onCall))
        {
            await server.KillAsync();
            await Task.Delay(TimeSpan.FromSeconds(2)); // the console notices and starts reconnecting
            await server.StartAsync();
            await File.WriteAllTextAsync(Path.Combine(handshake, "restarted"), "1");
        }

        var (exit, output) = await script;
        Assert.True(exit == 0, $"agent-reconnect.mjs exited with {exit}:\n{output}\n--- server log ---\n{E2eScripts.Tail(server.Log, 80)}");
    }
}
