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
/// ticket stream folds to a registered ticket, and ticket numbers are sound: every ticket's number (from its
/// <c>TicketRegistered</c>) is unique, lies in a block its day's stream reserved (<see cref="NumberBlockReserved"/>;
/// blocks of one day never overlap), or — for streams written before number blocks — is the ticket's own legacy
/// <see cref="TicketNumberAssigned"/> entry. Unused numbers (gaps) are allowed: a node that stops loses the rest of its blocks.
/// </summary>
public sealed record StoreAudit(
    int Events, IReadOnlyDictionary<string, long> Streams, IReadOnlyDictionary<Guid, Ticket> Tickets,
    IReadOnlyDictionary<string, Guid> Numbers, IReadOnlyList<string> Problems)
{
    public static EventSerializer Serializer { get; } = new(TicketEventTypes.All.Concat(CallRecordTypes.All).Append(typeof(TicketNumberAssigned)).Append(typeof(NumberBlockReserved)).Append(typeof(HolidayYearImported)));

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
        var legacy = new Dictionary<Guid, string>(); // ticket → number of its legacy TicketNumberAssigned entry
        var blocks = new Dictionary<string, List<NumberBlockReserved>>(StringComparer.Ordinal); // day → its reserved blocks
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
                            legacy.TryAdd(n.TicketId, TicketNumbers.Format(e.StreamId["ticketnumbers-".Length..], e.StreamRevision + 1));
                            break;
                        case NumberBlockReserved b:
                            if (e.StreamId != TicketNumbers.StreamOf(b.Day)) problems.Add($"{e.StreamId}: block of day {b.Day}");
                            if (b.From < 1 || b.To < b.From) problems.Add($"{e.StreamId}@{e.StreamRevision}: empty or invalid block {b.From}..{b.To}");
                            (blocks.TryGetValue(b.Day, out var day) ? day : blocks[b.Day] = []).Add(b);
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
        // Legacy entries (one per ticket, before number blocks): as before, at most one per ticket, never for a ticket not written.
        foreach (var g in numbered.GroupBy(x => x).Where(g => g.Count() > 1)) problems.Add($"ticket {g.Key} numbered {g.Count()} times");
        foreach (var orphan in numbered.Where(n => !tickets.ContainsKey(n))) problems.Add($"ticket number taken for {orphan} but the ticket was never written (partial registration)");

        // Blocks of one day never overlap (two nodes never share a number).
        foreach (var (day, list) in blocks)
        {
            var sorted = list.OrderBy(b => b.From).ToList();
            for (var i = 1; i < sorted.Count; i++)
            {
                if (sorted[i].From <= sorted[i - 1].To)
                    problems.Add($"day {day}: block {sorted[i].From}..{sorted[i].To} ({sorted[i].Node}) overlaps {sorted[i - 1].From}..{sorted[i - 1].To} ({sorted[i - 1].Node})");
            }
        }

        // Every ticket's number (recorded only in TicketRegistered) is unique and was reserved for its day (or is its legacy entry).
        var numbers = new Dictionary<string, Guid>(StringComparer.Ordinal);
        foreach (var (id, t) in tickets)
        {
            if (string.IsNullOrEmpty(t.Number)) { problems.Add($"ticket {id} has no number"); continue; }
            if (!numbers.TryAdd(t.Number, id)) { problems.Add($"number {t.Number} given to ticket {numbers[t.Number]} and to ticket {id}"); continue; }
            if (legacy.TryGetValue(id, out var old))
            {
                if (old != t.Number) problems.Add($"ticket {id}: number {t.Number}, its legacy entry says {old}");
                continue;
            }
            var parts = t.Number.Split('-');
            if (parts.Length != 2 || !long.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var n))
            {
                problems.Add($"ticket {id}: number {t.Number} is not yyyyMMdd-nnnnnn");
                continue;
            }
            if (parts[0] != TicketNumbers.DayOf(t.RegisteredAt)) problems.Add($"ticket {id}: number {t.Number} is not of its registration day {TicketNumbers.DayOf(t.RegisteredAt)}");
            if (!blocks.TryGetValue(parts[0], out var dayBlocks) || !dayBlocks.Any(b => b.From <= n && n <= b.To))
                problems.Add($"ticket {id}: number {t.Number} lies in no block reserved for {parts[0]}");
        }
        return new StoreAudit(count, streams, tickets, numbers, problems);
    }
}
