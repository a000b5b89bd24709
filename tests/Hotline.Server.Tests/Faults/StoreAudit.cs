using System.Text.Json;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.EventStore.Postgres;
using Hotline.EventStore.Sqlite;
using Hotline.Server.Calendar;
using Hotline.Server.Calls;
using Hotline.Server.Storage;
using Hotline.Server.Tickets;
using Hotline.Testing;

namespace Hotline.Server.Tests.Faults;

/// <summary>
/// Reads a server's whole event store directly (not through the server) and checks it is sound: positions strictly
/// increase, every stream's revisions run 0..n-1 without gaps, every event id is unique, every payload is JSON, every
/// ticket stream folds to a registered ticket, and every ticket number belongs to a ticket that exists (no half-done
/// registration).
/// </summary>
public sealed record StoreAudit(
    int Events, IReadOnlyDictionary<string, long> Streams, IReadOnlyDictionary<Guid, Ticket> Tickets,
    IReadOnlyList<Guid> NumberedTickets, IReadOnlyList<string> Problems)
{
    public static EventSerializer Serializer { get; } = new(TicketEventTypes.All.Concat(CallRecordTypes.All).Append(typeof(TicketNumberAssigned)).Append(typeof(HolidayYearImported)));

    /// <summary>Opens the event store the server at <paramref name="settings"/> writes to (SQLite file in its data folder, or PostgreSQL).</summary>
    public static IEventStore Open(ServerProcess server, IReadOnlyDictionary<string, string>? settings) =>
        settings is not null && settings.TryGetValue("ConnectionStrings:Postgres", out var pg)
            ? new PostgresEventStore(pg, TimeProvider.System)
            : new SqliteEventStore($"Data Source={Path.Combine(server.DataDirectory, "hotline-events.db")}", TimeProvider.System);

    public static async Task<StoreAudit> RunAsync(ServerProcess server, IReadOnlyDictionary<string, string>? settings)
    {
        var store = Open(server, settings);
        try { return await RunAsync(store); }
        finally
        {
            if (store is IAsyncDisposable d) await d.DisposeAsync();
            else if (store is IDisposable s) s.Dispose();
        }
    }

    public static async Task<StoreAudit> RunAsync(IEventStore store)
    {
        var problems = new List<string>();
        var streams = new Dictionary<string, long>(StringComparer.Ordinal);
        var ids = new HashSet<Guid>();
        var ticketEvents = new Dictionary<Guid, List<ITicketEvent>>();
        var numbered = new List<Guid>();
        long last = 0;
        var count = 0;
        while (true)
        {
            var page = new List<RecordedEvent>();
            await foreach (var e in store.ReadAllAsync(last, 1000)) page.Add(e);
            foreach (var e in page)
            {
                count++;
                if (e.Position <= last) problems.Add($"position {e.Position} after {last}");
                last = e.Position;
                var expected = streams.TryGetValue(e.StreamId, out var r) ? r + 1 : 0;
                if (e.StreamRevision != expected) problems.Add($"{e.StreamId}: revision {e.StreamRevision}, expected {expected}");
                streams[e.StreamId] = e.StreamRevision;
                if (!ids.Add(e.EventId)) problems.Add($"event id {e.EventId} stored twice");
                try
                {
                    using var _ = JsonDocument.Parse(e.Data);
                    switch (Serializer.Deserialize(e))
                    {
                        case ITicketEvent te:
                            if (TicketStore.StreamOf(te.TicketId) != e.StreamId) problems.Add($"{e.StreamId}: event of ticket {te.TicketId}");
                            (ticketEvents.TryGetValue(te.TicketId, out var list) ? list : ticketEvents[te.TicketId] = []).Add(te);
                            break;
                        case TicketNumberAssigned n:
                            numbered.Add(n.TicketId);
                            break;
                        default:
                            break;
                    }
                }
                catch (JsonException ex) { problems.Add($"{e.StreamId}@{e.StreamRevision}: {ex.Message}"); }
            }
            if (page.Count < 1000) break;
        }

        var tickets = new Dictionary<Guid, Ticket>();
        foreach (var (id, events) in ticketEvents)
        {
            try
            {
                var t = Ticket.Fold(events);
                if (t.State == TicketState.None) problems.Add($"ticket {id} folds to no state");
                if (t.Version != events.Count) problems.Add($"ticket {id}: version {t.Version} after {events.Count} events");
                tickets[id] = t;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException) { problems.Add($"ticket {id} does not fold: {ex.Message}"); }
        }
        foreach (var g in numbered.GroupBy(x => x).Where(g => g.Count() > 1)) problems.Add($"ticket {g.Key} numbered {g.Count()} times");
        foreach (var orphan in numbered.Where(n => !tickets.ContainsKey(n))) problems.Add($"ticket number taken for {orphan} but the ticket was never written (partial registration)");
        foreach (var t in tickets.Keys.Where(t => !numbered.Contains(t))) problems.Add($"ticket {t} has no number entry");
        return new StoreAudit(count, streams, tickets, numbered, problems);
    }
}
