using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;

namespace Hotline.Benchmarks;

/// <summary>
/// Count / mean / max of every instrument of the given meters while it is alive (in this process), e.g. the event
/// stores' group-commit figures (<c>Hotline.EventStore.EventStoreMetrics</c>): appends per group, commit time, queue
/// wait, conflicts. The profile printed next to each append figure.
/// </summary>
internal sealed class MeterStats : IDisposable
{
    private readonly MeterListener listener = new();
    private readonly ConcurrentDictionary<string, Aggregate> aggregates = new(StringComparer.Ordinal);

    public MeterStats(params string[] meters)
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (meters.Contains(instrument.Meter.Name, StringComparer.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((i, v, _, _) => Add(i.Name, v));
        listener.SetMeasurementEventCallback<long>((i, v, _, _) => Add(i.Name, v));
        listener.SetMeasurementEventCallback<double>((i, v, _, _) => Add(i.Name, v));
        listener.Start();
    }

    private void Add(string name, double value) => aggregates.GetOrAdd(name, _ => new Aggregate()).Add(value);

    public void Reset() => aggregates.Clear();

    public (long Count, double Sum, double Mean, double Max) Get(string name) =>
        aggregates.TryGetValue(name, out var a) ? a.Snapshot() : (0, 0, 0, 0);

    /// <summary>One line: mean appends per group, groups, mean queue wait, mean group time and commit time, conflicts.</summary>
    public string GroupCommitSummary()
    {
        var groups = Get("hotline.eventstore.group.appends");
        var wait = Get("hotline.eventstore.append.queue_wait");
        var duration = Get("hotline.eventstore.group.duration");
        var commit = Get("hotline.eventstore.group.commit");
        var conflicts = Get("hotline.eventstore.append.conflicts");
        return string.Create(CultureInfo.InvariantCulture,
            $"{groups.Count:N0} groups, {groups.Mean:0.0} appends/group (max {groups.Max:0}), queue wait {wait.Mean:0.0} ms, group {duration.Mean:0.0} ms of which COMMIT {commit.Mean:0.0} ms, conflicts {conflicts.Sum:0}");
    }

    public void Dispose() => listener.Dispose();

    private sealed class Aggregate
    {
        private readonly Lock gate = new();
        private long count;
        private double sum;
        private double max;

        public void Add(double value)
        {
            lock (gate)
            {
                count++;
                sum += value;
                max = Math.Max(max, value);
            }
        }

        public (long, double, double, double) Snapshot()
        {
            lock (gate)
            {
                return (count, sum, count == 0 ? 0 : sum / count, max);
            }
        }
    }
}
