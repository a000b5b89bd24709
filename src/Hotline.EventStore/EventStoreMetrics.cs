using System.Diagnostics.Metrics;

namespace Hotline.EventStore;

/// <summary>
/// Group-commit figures of both stores on the meter <see cref="MeterName"/>, readable by any
/// <see cref="MeterListener"/>, <c>dotnet-counters</c> or OpenTelemetry: how many appends and events each group
/// commit carried, how long a request waited in the queue before its group started, how long a group took and how
/// much of that was its COMMIT (the WAL fsync), how long an appender waited after its acknowledgement to run
/// again (thread-pool delay), and how many appends were refused for a wrong expected revision.
/// Every measurement carries the tag <c>store</c> (<c>sqlite</c> or <c>postgres</c>).
/// </summary>
public static class EventStoreMetrics
{
    public const string MeterName = "Hotline.EventStore";

    private static readonly Meter Meter = new(MeterName);

    internal static readonly Histogram<int> GroupAppends =
        Meter.CreateHistogram<int>("hotline.eventstore.group.appends", "{append}", "Append requests written in one group commit");

    internal static readonly Histogram<int> GroupEvents =
        Meter.CreateHistogram<int>("hotline.eventstore.group.events", "{event}", "Events written in one group commit");

    internal static readonly Histogram<double> QueueWait =
        Meter.CreateHistogram<double>("hotline.eventstore.append.queue_wait", "ms", "Time an append waited in the queue until its group started");

    internal static readonly Histogram<double> GroupDuration =
        Meter.CreateHistogram<double>("hotline.eventstore.group.duration", "ms", "Time from the start of a group to its acknowledgement (commit included)");

    internal static readonly Histogram<double> CommitDuration =
        Meter.CreateHistogram<double>("hotline.eventstore.group.commit", "ms", "Time of a group's COMMIT (the durable flush)");

    internal static readonly Histogram<double> WakeDelay =
        Meter.CreateHistogram<double>("hotline.eventstore.append.wake", "ms", "Time from a group's acknowledgement until the appender runs again (thread-pool delay; grows when the CPU is saturated)");

    internal static readonly Counter<long> Conflicts =
        Meter.CreateCounter<long>("hotline.eventstore.append.conflicts", "{append}", "Appends refused: wrong expected revision");

    internal static KeyValuePair<string, object?> Store(string name) => new("store", name);
}
