namespace Hotline.EventStore;

/// <summary>An event of the batch that is already stored (found by its id).</summary>
internal readonly record struct StoredEventId(Guid EventId, string StreamId, long StreamRevision, long Position);

/// <summary>
/// The rules every store applies inside its append transaction, after it has locked the
/// stream and read the stream's current revision and which of the batch's ids already exist.
/// </summary>
internal static class AppendRules
{
    public static void ValidateBatch(string streamId, IReadOnlyList<EventData> events)
    {
        ArgumentException.ThrowIfNullOrEmpty(streamId);
        ArgumentNullException.ThrowIfNull(events);
        var ids = new HashSet<Guid>();
        foreach (var e in events)
        {
            ArgumentNullException.ThrowIfNull(e, nameof(events));
            ArgumentException.ThrowIfNullOrEmpty(e.Type, nameof(events));
            ArgumentNullException.ThrowIfNull(e.Metadata, nameof(events));
            if (!ids.Add(e.EventId))
            {
                throw new ArgumentException($"Event id {e.EventId} occurs twice in one append.", nameof(events));
            }
        }
    }

    /// <summary>
    /// Idempotent retry (EventStoreDB semantics): when every id of the batch is already stored in
    /// this stream as one contiguous run in batch order, returns the original result. When only some
    /// are (or they are elsewhere), the retry cannot be honoured: throws. Null when none exist.
    /// </summary>
    public static AppendResult? CheckIdempotent(
        string streamId, ExpectedRevision expected, long currentRevision,
        IReadOnlyList<EventData> events, IReadOnlyCollection<StoredEventId> existing)
    {
        if (existing.Count == 0)
        {
            return null;
        }

        if (existing.Count == events.Count)
        {
            var byId = existing.ToDictionary(e => e.EventId);
            var first = byId[events[0].EventId];
            var contiguous = true;
            for (var i = 0; i < events.Count && contiguous; i++)
            {
                var stored = byId[events[i].EventId];
                contiguous = stored.StreamId == streamId && stored.StreamRevision == first.StreamRevision + i;
            }

            if (contiguous)
            {
                var last = byId[events[^1].EventId];
                return new AppendResult(last.StreamRevision, last.Position) { FirstPosition = first.Position, AlreadyStored = true };
            }
        }

        // Some ids are stored, but not as this very batch: the retry cannot be honoured.
        throw new WrongExpectedVersionException(streamId, expected, currentRevision);
    }

    /// <summary>Throws <see cref="WrongExpectedVersionException"/> when <paramref name="currentRevision"/> (-1 = no stream) does not satisfy <paramref name="expected"/>.</summary>
    public static void CheckExpected(string streamId, ExpectedRevision expected, long currentRevision)
    {
        var ok = expected.Value switch
        {
            -1 => true,
            -2 => currentRevision == -1,
            -3 => currentRevision >= 0,
            var exact => currentRevision == exact,
        };
        if (!ok)
        {
            throw new WrongExpectedVersionException(streamId, expected, currentRevision);
        }
    }
}
