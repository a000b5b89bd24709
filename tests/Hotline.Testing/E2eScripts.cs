using System.Diagnostics;
using System.Text;

namespace Hotline.Testing;

/// <summary>Runs the node scripts of tests/e2e (playwright-core driving Debian chromium) from xunit tests.</summary>
public static class E2eScripts
{
    public static string Directory { get; } = Path.Combine(RepoPaths.Root, "tests", "e2e");

    /// <summary>Installs tests/e2e's packages from its lockfile when they are missing. Returns null, or why it failed.</summary>
    public static async Task<string?> EnsureInstalledAsync()
    {
        if (System.IO.Directory.Exists(Path.Combine(Directory, "node_modules", "playwright-core"))) return null;
        var (exit, output) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], Directory, null, TimeSpan.FromMinutes(3));
        return exit == 0 ? null : $"npm ci in tests/e2e exited with {exit}:\n{output}";
    }

    /// <summary>Runs tests/e2e/<paramref name="script"/> with node and the given environment (e.g. BASE_URL).</summary>
    public static Task<(int ExitCode, string Output)> RunScriptAsync(string script, IReadOnlyDictionary<string, string> environment, TimeSpan? timeout = null) =>
        RunAsync("node", [Path.Combine(Directory, script)], Directory, environment, timeout ?? TimeSpan.FromMinutes(2));

    public static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> args, string workingDirectory, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout)
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

    /// <summary>The last <paramref name="lines"/> lines of a log, for failure messages.</summary>
    public static string Tail(string text, int lines) => string.Join('\n', text.Split('\n').TakeLast(lines));
}
