using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Storage;

namespace Hotline.Server.Tickets;

/// <summary>Reads and writes ticket streams ("ticket-{id}"), one short stream per ticket.</summary>
public sealed class TicketStore(IEventStore store, EventSerializer serializer)
{
    public static string StreamOf(Guid ticketId) => $"ticket-{ticketId:N}";

    public static bool IsTicketStream(string streamId) => streamId.StartsWith("ticket-", StringComparison.Ordinal) && streamId.Length == 39;

    public async Task<(Ticket State, IReadOnlyList<RecordedEvent> Recorded)> LoadAsync(Guid ticketId, CancellationToken ct)
    {
        var recorded = new List<RecordedEvent>();
        var state = Ticket.Initial;
        await foreach (var e in store.ReadStreamAsync(StreamOf(ticketId), 0, ct))
        {
            recorded.Add(e);
            if (serializer.Deserialize(e) is ITicketEvent te) state = Ticket.Evolve(state, te);
        }
        return (state, recorded);
    }

    /// <summary>
    /// Appends at <paramref name="expectedVersion"/>. <c>Written</c> is the events as now stored (revisions and
    /// positions from the store's answer), or null when the store wrote nothing because the events were already
    /// stored (an idempotent retry, whose stored events may differ from these in all but their ids) or its answer
    /// does not give every position: then only a read of the stream says what is stored.
    /// </summary>
    public async Task<(AppendResult Result, IReadOnlyList<RecordedEvent>? Written)> AppendAsync(Guid ticketId, long expectedVersion, IReadOnlyList<ITicketEvent> events, string commandId, string actor, Guid correlationId, DateTimeOffset now, CancellationToken ct)
    {
        var metadata = new EventMetadata(actor, correlationId, null, now);
        var data = events.Select((e, i) => serializer.ToEventData(e, EventIdOf(commandId, i), metadata)).ToList();
        var stream = StreamOf(ticketId);
        var result = await store.AppendAsync(stream, ExpectedRevision.FromVersion(expectedVersion), data, ct);
        if (result.AlreadyStored || data.Count == 0 || result.NextExpectedRevision != expectedVersion + data.Count - 1 || result.Position - result.FirstPosition != data.Count - 1)
            return (result, null);
        var written = new RecordedEvent[data.Count];
        for (var i = 0; i < data.Count; i++)
            written[i] = new RecordedEvent(stream, expectedVersion + i, result.FirstPosition + i, data[i].EventId, data[i].Type, data[i].Data, data[i].Metadata);
        return (result, written);
    }

    /// <summary>The state after <paramref name="written"/> (events just appended after <paramref name="before"/>), folded as <see cref="LoadAsync"/> folds them.</summary>
    public (Ticket State, IReadOnlyList<RecordedEvent> Recorded) Fold(Ticket before, IReadOnlyList<RecordedEvent> beforeRecorded, IReadOnlyList<RecordedEvent> written)
    {
        var recorded = new List<RecordedEvent>(beforeRecorded.Count + written.Count);
        recorded.AddRange(beforeRecorded);
        var state = before;
        foreach (var e in written)
        {
            recorded.Add(e);
            if (serializer.Deserialize(e) is ITicketEvent te) state = Ticket.Evolve(state, te);
        }
        return (state, recorded);
    }

    public static Guid EventIdOf(string commandId, int index) => DeterministicId.From("ticket-command", commandId, index.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
