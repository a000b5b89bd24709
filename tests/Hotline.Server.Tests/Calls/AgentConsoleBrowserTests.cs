using System.Diagnostics;
using System.Text;
using Hotline.Testing;

namespace Hotline.Server.Tests.Calls;

/// <summary>
/// The agent's hot path in a real browser: tests/e2e/agent-console.mjs (playwright-core driving Debian chromium,
/// headless) against a real server process. Screenshots land in tests/artifacts/e2e/.
/// </summary>
public sealed class AgentConsoleBrowserTests
{
    private static readonly string E2eDir = Path.Combine(RepoPaths.Root, "tests", "e2e");

    [Fact]
    public async Task Agent_takes_a_call_registers_a_ticket_and_wraps_up_while_the_wallboard_follows()
    {
        await EnsureNodeModulesAsync();
        await using var server = await ServerProcess.StartAsync();

        var (exit, output) = await RunAsync("node", [Path.Combine(E2eDir, "agent-console.mjs")], E2eDir,
            new Dictionary<string, string> { ["BASE_URL"] = server.BaseAddress.ToString() }, TimeSpan.FromMinutes(2));

        Assert.True(exit == 0, $"agent-console.mjs exited with {exit}:\n{output}\n--- server log ---\n{Tail(server.Log, 80)}");
    }

    private static async Task EnsureNodeModulesAsync()
    {
        if (Directory.Exists(Path.Combine(E2eDir, "node_modules", "playwright-core"))) return;
        var (exit, output) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], E2eDir, null, TimeSpan.FromMinutes(3));
        Assert.True(exit == 0, $"npm ci in tests/e2e exited with {exit}:\n{output}");
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> args, string workingDirectory, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        var output = new StringBuilder();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            lock (output) return (-1, $"timed out after {timeout}:\n{output}");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }

    private static string Tail(string text, int lines) => string.Join('\n', text.Split('\n').TakeLast(lines));
}
