using Hotline.EventStore;
using Hotline.Server.Tickets;
using Quartz;

namespace Hotline.Server.Jobs;

/// <summary>How far this node's read models are behind the global log.</summary>
public sealed record LagSample(DateTimeOffset At, long Head, long Position, long EventsBehind, double SecondsBehind);

/// <summary>The latest lag samples (per node; the job runs on whichever node the cluster picks, each node has its own read models).</summary>
public sealed class ReadModelLag
{
    private volatile LagSample? _current;

    public LagSample? Current => _current;

    public void Record(LagSample sample) => _current = sample;
}

/// <summary>
/// 读模型追赶: the async projections advance from the global position on their own (ProjectionRunner); this job
/// measures how far behind they are — events and the age of the oldest event not yet applied — and records it.
/// </summary>
[DisallowConcurrentExecution]
public sealed class ReadModelLagJob(IEventStore store, TicketIndex index, ReadModelLag lag, TimeProvider time, ILogger<ReadModelLagJob> logger) : OfficeJob
{
    public static readonly JobKey Key = new("read-model-lag", "system");

    public override async Task<string> RunAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var head = await store.GetHeadPositionAsync(ct);
        var position = index.Position;
        double seconds = 0;
        if (head > position)
        {
            await foreach (var e in store.ReadAllAsync(position, 1, ct))
                seconds = Math.Max(0, (now - e.Metadata.Timestamp).TotalSeconds);
        }
        var sample = new LagSample(now, head, position, Math.Max(0, head - position), seconds);
        lag.Record(sample);
        if (sample.SecondsBehind > 30) logger.LogWarning("Read models are {Events} event(s), {Seconds:F0} s behind", sample.EventsBehind, sample.SecondsBehind);
        return $"{sample.EventsBehind} event(s), {sample.SecondsBehind:F1} s behind";
    }
}
