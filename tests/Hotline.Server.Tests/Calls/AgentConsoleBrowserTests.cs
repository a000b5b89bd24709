using Hotline.Testing;

namespace Hotline.Server.Tests.Calls;

/// <summary>
/// The agent's hot path in a real browser: tests/e2e/agent-console.mjs (playwright-core driving Debian chromium,
/// headless) against a real server process. Screenshots land in tests/artifacts/e2e/.
/// </summary>
public sealed class AgentConsoleBrowserTests
{

    [Fact]
    public async Task Agent_takes_a_call_registers_a_ticket_and_wraps_up_while_the_wallboard_follows()
    {
        await EnsureNodeModulesAsync();
        await using var server = await ServerProcess.StartAsync();

        var (exit, output) = await E2eScripts.RunScriptAsync("agent-console.mjs", new Dictionary<string, string> { ["BASE_URL"] = server.BaseAddress.ToString() });

        Assert.True(exit == 0, $"agent-console.mjs exited with {exit}:\n{output}\n--- server log ---\n{Tail(server.Log, 80)}");
    }

    private static async Task EnsureNodeModulesAsync()
    {
        var failure = await E2eScripts.EnsureInstalledAsync();
        Assert.True(failure is null, failure);
    }

    private static string Tail(string text, int lines) => E2eScripts.Tail(text, lines);
}
