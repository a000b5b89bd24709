using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Hotline.Domain.Common;
using Hotline.EventStore;
using Hotline.Server.Storage;

namespace Hotline.Server.Tickets;

/// <summary>
/// Legacy (before number blocks): one entry per ticket in the day's stream, the number being the entry's revision + 1.
/// No longer written; kept so old day streams load and the next block starts after the numbers they gave out.
/// </summary>
[EventType("V1.TicketNumberAssigned")]
public sealed record TicketNumberAssigned(Guid TicketId, DateTimeOffset At);

/// <summary>Numbers <see cref="From"/>..<see cref="To"/> (inclusive) of <see cref="Day"/> (yyyyMMdd, Shanghai) belong to <see cref="Node"/>.</summary>
[EventType("V1.NumberBlockReserved")]
public sealed record NumberBlockReserved(string Day, long From, long To, string Node, DateTimeOffset At);

/// <summary>"Hotline:TicketNumbers": how many numbers one reservation takes.</summary>
public sealed record TicketNumberOptions
{
    public const string SectionName = "Hotline:TicketNumbers";

    /// <summary>Numbers per block (default 100). A crash or restart leaves at most two blocks' unused numbers as a gap.</summary>
    public int BlockSize { get; init; } = 100;
}

/// <summary>
/// Human-readable ticket numbers unique per day (20261122-000123), handed out from memory. Each Shanghai day is a
/// stream (<c>ticketnumbers-yyyyMMdd</c>) of <see cref="NumberBlockReserved"/> events: a node reserves the next block
/// with one append at the exact expected revision of the day's stream (a lost race re-reads the stream and reserves
/// the block after the winner's), so two nodes never share a block; numbers are then taken from the block in memory
/// and the ticket's number is recorded only in its <c>TicketRegistered</c>. A registration therefore waits for one
/// commit (the ticket's), not two. When half the block is used the next one is reserved in the background.
/// Numbers are unique but not gap-free: the unused rest of a node's blocks is lost when it stops or crashes, and a
/// registration that fails after taking its number leaves that number unused. Across nodes, numbers are not in
/// registration order (each node counts up in its own blocks).
/// </summary>
public sealed class TicketNumbers : IDisposable
{
    private static readonly EventSerializer Serializer = new([typeof(TicketNumberAssigned), typeof(NumberBlockReserved)]);
    private static readonly Meter Meter = new(TicketService.MeterName);
    private static readonly Histogram<double> Reservations = Meter.CreateHistogram<double>("hotline.tickets.number.reserve", "ms", "Wall time of one ticket-number block reservation (one append, plus re-reads after lost races)");

    private readonly IEventStore _store;
    private readonly int _blockSize;
    private readonly string _node = $"{Environment.MachineName}/{Environment.ProcessId}";
    private readonly SemaphoreSlim _gate = new(1, 1);

    // Guarded by _gate.
    private string? _day;
    private long _next = 1;
    private long _to;
    private Task<Block>? _ahead; // the next block of _day: reserving or reserved, at most one in flight

    // What this node last saw of a day's stream (only a hint: the exact expected revision catches a stale one).
    private volatile Known? _known;

    public TicketNumbers(IEventStore store, TicketNumberOptions? options = null)
    {
        _store = store;
        _blockSize = Math.Max(1, options?.BlockSize ?? 100);
    }

    public void Dispose() => _gate.Dispose();

    public static string StreamOf(string day) => $"ticketnumbers-{day}";

    public static string DayOf(DateTimeOffset at) => TimeZones.ToLocal(at).ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>Takes the next number of the Shanghai day of <paramref name="now"/> (no write unless a block must be reserved).</summary>
    public async Task<string> AssignAsync(DateTimeOffset now, CancellationToken ct)
    {
        var day = DayOf(now);
        await _gate.WaitAsync(ct);
        try
        {
            if (_day != day)
            {
                _ = _ahead?.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                (_day, _next, _to, _ahead) = (day, 1, 0, null);
            }

            if (_next > _to)
            {
                _ahead ??= ReserveAsync(day, now);
                Block block;
                try { block = await _ahead.WaitAsync(ct); }
                catch when (_ahead.IsFaulted || _ahead.IsCanceled)
                {
                    _ahead = null; // the next registration tries again
                    throw;
                }
                _ahead = null;
                (_next, _to) = (block.From, block.To);
            }

            var number = _next++;
            if (_ahead is null && _to - _next + 1 <= _blockSize / 2) _ahead = ReserveAsync(day, now);
            return Format(day, number);
        }
        finally
        {
            _gate.Release();
        }
    }

    public static string Format(string day, long number) => $"{day}-{number.ToString("D6", CultureInfo.InvariantCulture)}";

    /// <summary>One append of the block after the last one the day's stream holds, at its exact revision; retried after a lost race.</summary>
    private async Task<Block> ReserveAsync(string day, DateTimeOffset now)
    {
        var started = Stopwatch.GetTimestamp();
        var known = _known is { } k && k.Day == day ? k : await ReadAsync(day);
        for (var attempt = 1; ; attempt++)
        {
            var block = new Block(known.Last + 1, known.Last + _blockSize);
            var data = Serializer.ToEventData(new NumberBlockReserved(day, block.From, block.To, _node, now), Guid.CreateVersion7(),
                new EventMetadata("system", null, null, now));
            try
            {
                var result = await _store.AppendAsync(StreamOf(day), known.Revision < 0 ? ExpectedRevision.NoStream : ExpectedRevision.Exact(known.Revision), [data]);
                _known = new Known(day, result.NextExpectedRevision, block.To);
                Reservations.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                return block;
            }
            catch (WrongExpectedVersionException) when (attempt < 20)
            {
                known = await ReadAsync(day); // another node reserved first: the next block starts after its
            }
        }
    }

    /// <summary>The day stream's last revision (-1 when absent) and the highest number it gave out (blocks, and legacy entries).</summary>
    private async Task<Known> ReadAsync(string day)
    {
        long revision = -1, last = 0;
        await foreach (var e in _store.ReadStreamAsync(StreamOf(day), 0))
        {
            revision = e.StreamRevision;
            switch (Serializer.Deserialize(e))
            {
                case NumberBlockReserved b: last = Math.Max(last, b.To); break;
                case TicketNumberAssigned: last = Math.Max(last, e.StreamRevision + 1); break;
                default: break;
            }
        }
        return new Known(day, revision, last);
    }

    private sealed record Known(string Day, long Revision, long Last);

    private readonly record struct Block(long From, long To);
}

public static class TimeZones
{
    public static TimeZoneInfo China { get; } = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");

    public static DateTimeOffset ToLocal(DateTimeOffset at) => TimeZoneInfo.ConvertTime(at, China);
}
