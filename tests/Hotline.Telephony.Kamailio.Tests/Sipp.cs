using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Hotline.Telephony.Kamailio.Tests;

/// <summary>What one sipp run counted (from its -trace_stat file).</summary>
public sealed record SippStats(int Created, int Successful, int Failed)
{
    public override string ToString() => $"created {Created}, successful {Successful}, failed {Failed}";
}

/// <summary>
/// One sipp process (caller UAC or agent-phone UAS), always under `timeout`. Call-IDs of callers are
/// "&lt;n&gt;-&lt;tag&gt;@hotline" so the test knows every call sipp placed.
/// </summary>
public sealed class Sipp : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly string _statFile;

    private Sipp(Process process, string statFile, string name)
    {
        _process = process;
        _statFile = statFile;
        Name = name;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }

    public string Log { get { lock (_log) return _log.ToString(); } }

    public static string Scenario(string name) => Path.Combine(AppContext.BaseDirectory, "Sipp", name + ".xml");

    public static string CallId(string tag, int n) => FormattableString.Invariant($"{n}-{tag}@hotline");

    /// <summary>Callers: <paramref name="calls"/> calls of <paramref name="scenario"/>, at most <paramref name="limit"/> at once.</summary>
    public static Sipp Callers(string scenario, string tag, string prefix, int calls, int rate, int limit, int sipPort, string directory, int timeoutSeconds = 150, IEnumerable<string>? extra = null) =>
        Start(scenario, directory, timeoutSeconds,
            new[] {"-i", "127.0.0.1", "-p", "0", $"127.0.0.1:{sipPort}", "-m", $"{calls}", "-r", $"{rate}", "-l", $"{limit}",
             "-cid_str", $"%u-{tag}@hotline", "-key", "prefix", prefix, "-timeout", $"{timeoutSeconds - 10}s", "-timeout_error",
             "-recv_timeout", $"{(timeoutSeconds - 10) * 1000}", "-max_recv_loops", "5000"}.Concat(extra ?? []), tag);

    /// <summary>An agent's phone listening on <paramref name="port"/>.</summary>
    public static Sipp Phone(string scenario, int port, string directory, int timeoutSeconds = 200) =>
        Start(scenario, directory, timeoutSeconds, ["-i", "127.0.0.1", "-p", $"{port}"], $"{scenario}-{port}");

    private static Sipp Start(string scenario, string directory, int timeoutSeconds, IEnumerable<string> args, string name)
    {
        var stat = Path.Combine(directory, $"{name}.csv");
        var psi = new ProcessStartInfo("timeout") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { "-s", "TERM", timeoutSeconds.ToString(CultureInfo.InvariantCulture), "/usr/bin/sipp", "-sf", Scenario(scenario), "-nostdin", "-trace_stat", "-stf", stat, "-fd", "1", "-trace_err" }.Concat(args))
        {
            psi.ArgumentList.Add(a);
        }
        return new Sipp(Process.Start(psi) ?? throw new InvalidOperationException("could not start sipp"), stat, name);
    }

    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    /// <summary>Asks sipp (the child of `timeout`) to stop taking calls and exit, writing its final statistics.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited) return;
        var children = $"/proc/{_process.Id}/task/{_process.Id}/children";
        if (File.Exists(children))
        {
            foreach (var pid in File.ReadAllText(children).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                using var kill = Process.Start("kill", ["-USR1", pid]);
                await kill.WaitForExitAsync();
            }
        }
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>The cumulative counters of the last line sipp wrote.</summary>
    public SippStats Stats()
    {
        if (!File.Exists(_statFile)) return new SippStats(0, 0, 0);
        var lines = File.ReadAllLines(_statFile).Where(l => l.Length > 0).ToList();
        if (lines.Count < 2) return new SippStats(0, 0, 0);
        var header = lines[0].Split(';');
        var last = lines[^1].Split(';');
        int Column(string name)
        {
            var i = Array.IndexOf(header, name);
            return i >= 0 && i < last.Length && int.TryParse(last[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : -1;
        }
        return new SippStats(Column("TotalCallCreated"), Column("SuccessfulCall(C)"), Column("FailedCall(C)"));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
