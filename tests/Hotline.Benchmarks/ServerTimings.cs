using System.Globalization;
using System.Text.RegularExpressions;

namespace Hotline.Benchmarks;

/// <summary>
/// The server's "timings" log lines (src/Hotline.Server/Tickets/PerformanceTimings.cs, on with
/// Hotline:Diagnostics:TimingsSeconds) summed over a window: per instrument and tag, count, sum and max. Says where a
/// registration's wall time goes (decide, number, append; load and re-read only for retries) and how the event store
/// batched (appends per group, queue wait, group and commit time, wake-up delay after the commit, conflicts).
/// </summary>
internal sealed partial class ServerTimings
{
    private readonly Dictionary<string, (long Count, double Sum, double Max)> _values = new(StringComparer.Ordinal);

    public static ServerTimings Parse(string log)
    {
        var timings = new ServerTimings();
        foreach (var line in log.Split('\n').Where(l => l.Contains(" timings ", StringComparison.Ordinal)))
        {
            foreach (Match m in Entry().Matches(line))
            {
                var key = m.Groups[1].Value;
                var count = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
                var max = double.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture);
                var sum = double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) * count;
                var old = timings._values.GetValueOrDefault(key);
                timings._values[key] = (old.Count + count, old.Sum + sum, Math.Max(old.Max, max));
            }
        }

        return timings;
    }

    [GeneratedRegex(@" (\S+) n=(\d+) mean=([0-9.]+) max=([0-9.]+) sum=[0-9.]+;")]
    private static partial Regex Entry();

    private (long Count, double Mean, double Max) Get(string key) =>
        _values.TryGetValue(key, out var v) && v.Count > 0 ? (v.Count, v.Sum / v.Count, v.Max) : (0, 0, 0);

    private double Mean(string key) => Get(key).Mean;

    /// <summary>Every instrument, one per line.</summary>
    public string Describe() =>
        _values.Count == 0 ? "(no timings logged)" :
        Environment.NewLine + string.Join(Environment.NewLine, _values.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => string.Create(CultureInfo.InvariantCulture, $"    {kv.Key}: n={kv.Value.Count}, mean={kv.Value.Sum / kv.Value.Count:0.00}, max={kv.Value.Max:0.00}")));

    /// <summary>
    /// One line for the results table: registration phases (mean ms; load and re-read only happen for retries, so
    /// their counts are shown) and group commit (queue wait, group time, commit, and the wake-up delay after it).
    /// </summary>
    public string Short()
    {
        var store = _values.Keys.FirstOrDefault(k => k.StartsWith("hotline.eventstore.group.appends", StringComparison.Ordinal)) is { } k
            ? k["hotline.eventstore.group.appends".Length..] : "";
        var conflicts = _values.TryGetValue("hotline.eventstore.append.conflicts" + store, out var c) ? c.Sum : 0;
        const string phase = "hotline.tickets.command.phase[phase=";
        return string.Create(CultureInfo.InvariantCulture,
            $"register {Mean(phase + "register.total]"):0.0} ms = decide {Mean(phase + "register.decide]"):0.0} + number {Mean(phase + "register.number]"):0.0} + append {Mean(phase + "append]"):0.0} ms " +
            $"(retries: load n={Get(phase + "register.load]").Count}, re-read n={Get(phase + "reread]").Count}); " +
            $"{Mean("hotline.eventstore.group.appends" + store):0.0} appends/group, queue wait {Mean("hotline.eventstore.append.queue_wait" + store):0.0} ms, group {Mean("hotline.eventstore.group.duration" + store):0.0} ms " +
            $"(commit {Mean("hotline.eventstore.group.commit" + store):0.0}), wake-up after it {Mean("hotline.eventstore.append.wake" + store):0.0} ms, conflicts {conflicts:0}");
    }
}
