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

    public async Task<AppendResult> AppendAsync(Guid ticketId, long expectedVersion, IReadOnlyList<ITicketEvent> events, string commandId, string actor, Guid correlationId, DateTimeOffset now, CancellationToken ct)
    {
        var metadata = new EventMetadata(actor, correlationId, null, now);
        var data = events.Select((e, i) => serializer.ToEventData(e, EventIdOf(commandId, i), metadata)).ToList();
        return await store.AppendAsync(StreamOf(ticketId), ExpectedRevision.FromVersion(expectedVersion), data, ct);
    }

    public static Guid EventIdOf(string commandId, int index) => DeterministicId.From("ticket-command", commandId, index.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
