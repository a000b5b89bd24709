namespace Hotline.EventStore;

/// <summary>
/// The event store port, shaped like EventStoreDB/KurrentDB so an adapter for it can drop in:
/// streams with 0-based revisions, an expected revision on every append, a global
/// <c>$all</c> log with 1-based positions (0 means "before the first event"), and
/// catch-up subscriptions that read history and then go live.
/// </summary>
public interface IEventStore
{
    /// <summary>
    /// Appends events atomically. Throws <see cref="WrongExpectedVersionException"/> when the
    /// stream is not at <paramref name="expected"/>. Re-appending events whose ids are already
    /// stored at the same place in the same stream is a no-op that returns the original result
    /// (idempotent retry). The call returns only after the commit is durable.
    /// </summary>
    Task<AppendResult> AppendAsync(string streamId, ExpectedRevision expected, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default);

    /// <summary>Reads a stream forward from <paramref name="fromRevision"/> (inclusive). An absent stream yields nothing.</summary>
    IAsyncEnumerable<RecordedEvent> ReadStreamAsync(string streamId, long fromRevision = 0, CancellationToken cancellationToken = default);

    /// <summary>Reads the global log forward from the position after <paramref name="afterPosition"/>, at most <paramref name="maxCount"/> events.</summary>
    IAsyncEnumerable<RecordedEvent> ReadAllAsync(long afterPosition, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>The position of the last committed event in the global log (0 when empty).</summary>
    Task<long> GetHeadPositionAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Catch-up subscription to <c>$all</c>: yields every event after <paramref name="afterPosition"/>
    /// in global order, then keeps yielding new events as they are committed, until cancelled.
    /// No event is skipped or repeated, also under concurrent writers.
    /// </summary>
    IAsyncEnumerable<RecordedEvent> SubscribeToAllAsync(long afterPosition, CancellationToken cancellationToken = default);

    /// <summary>True when the backing database answers (used by /readyz).</summary>
    Task<bool> PingAsync(CancellationToken cancellationToken = default);
}

/// <summary>What the writer believes about the stream before its append.</summary>
public readonly record struct ExpectedRevision
{
    private ExpectedRevision(long value) => Value = value;

    /// <summary>-1 = any, -2 = no stream, -3 = stream exists, otherwise the exact revision of the last event.</summary>
    public long Value { get; }

    public static ExpectedRevision Any { get; } = new(-1);
    public static ExpectedRevision NoStream { get; } = new(-2);
    public static ExpectedRevision StreamExists { get; } = new(-3);
    public static ExpectedRevision Exact(long revision) =>
        revision < 0 ? throw new ArgumentOutOfRangeException(nameof(revision)) : new(revision);

    /// <summary>Maps a "version" as the HTTP API shows it (number of events, 0 for none) to an expected revision.</summary>
    public static ExpectedRevision FromVersion(long version) => version == 0 ? NoStream : Exact(version - 1);

    public override string ToString() => Value switch
    {
        -1 => "any",
        -2 => "no stream",
        -3 => "stream exists",
        _ => Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>Who did it and why, stored beside every event.</summary>
public sealed record EventMetadata(string? Actor, Guid? CorrelationId, Guid? CausationId, DateTimeOffset Timestamp);

/// <summary>An event to append. <see cref="Type"/> is the stable stored type name (e.g. "V1.TicketRegistered"); <see cref="Data"/> is UTF-8 JSON.</summary>
public sealed record EventData(Guid EventId, string Type, ReadOnlyMemory<byte> Data, EventMetadata Metadata);

/// <summary>An event as stored: its stream revision (0-based) and its global position (1-based).</summary>
public sealed record RecordedEvent(
    string StreamId,
    long StreamRevision,
    long Position,
    Guid EventId,
    string Type,
    ReadOnlyMemory<byte> Data,
    EventMetadata Metadata);

/// <summary>
/// <see cref="NextExpectedRevision"/> is the revision of the stream's last event after the append; <see cref="Position"/> the
/// global position of that event. Equality compares these two only: an idempotent retry's result equals the original's.
/// </summary>
public sealed record AppendResult(long NextExpectedRevision, long Position)
{
    /// <summary>
    /// The global position of the first event of this append (equal to <see cref="Position"/> for one event or none).
    /// Positions rise strictly within an append, so <c>Position - FirstPosition == count - 1</c> means they are
    /// exactly <c>FirstPosition..Position</c>.
    /// </summary>
    public long FirstPosition { get; init; } = Position;

    /// <summary>
    /// True when this call wrote nothing because every event was already stored (an idempotent retry): the stored
    /// events may then differ from the ones passed in everywhere but their ids, so a caller that wants to show what is
    /// stored must read it.
    /// </summary>
    public bool AlreadyStored { get; init; }

    public bool Equals(AppendResult? other) =>
        other is not null && NextExpectedRevision == other.NextExpectedRevision && Position == other.Position;

    public override int GetHashCode() => HashCode.Combine(NextExpectedRevision, Position);
}

public sealed class WrongExpectedVersionException : Exception
{
    public WrongExpectedVersionException(string streamId, ExpectedRevision expected, long actualRevision)
        : base($"Stream '{streamId}' expected revision {expected} but is at {(actualRevision < 0 ? "no stream" : actualRevision.ToString(System.Globalization.CultureInfo.InvariantCulture))}.")
    {
        StreamId = streamId;
        Expected = expected;
        ActualRevision = actualRevision;
    }

    public WrongExpectedVersionException() : base("Wrong expected version.") { StreamId = ""; }
    public WrongExpectedVersionException(string message) : base(message) { StreamId = ""; }
    public WrongExpectedVersionException(string message, Exception inner) : base(message, inner) { StreamId = ""; }

    public string StreamId { get; }
    public ExpectedRevision Expected { get; }

    /// <summary>Revision of the stream's last event, -1 when the stream does not exist.</summary>
    public long ActualRevision { get; }
}

/// <summary>The backing database is unreachable; the API answers 503 with a retry hint.</summary>
public sealed class EventStoreUnavailableException : Exception
{
    public EventStoreUnavailableException() : base("The event store is unavailable.") { }
    public EventStoreUnavailableException(string message) : base(message) { }
    public EventStoreUnavailableException(string message, Exception inner) : base(message, inner) { }
}
