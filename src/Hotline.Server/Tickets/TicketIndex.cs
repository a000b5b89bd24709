using System.Collections.Concurrent;
using Hotline.Domain.Tickets;

namespace Hotline.Server.Tickets;

/// <summary>
/// The in-process read model behind the work lists, the unit inbox and the screen pop: the folded state of every
/// ticket, kept current inline after each write on this node and from the <c>$all</c> subscription for writes on
/// other nodes. Rebuilt from position 0 at start.
/// </summary>
public sealed class TicketIndex
{
    private readonly ConcurrentDictionary<Guid, Ticket> _tickets = new();

    // Caller phone → ticket ids: the screen pop and the repeat-caller check look a caller up on every call and every
    // registration, so they must not scan every ticket. A ticket's phone is set once, at registration.
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Guid, byte>> _byPhone = new(StringComparer.Ordinal);

    // Unit → tickets with an open task of that unit: the unit inbox and the handler's work list look their units up
    // instead of scanning every ticket. Added when a task opens; pruned by the reader when the task is no longer open.
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Guid, byte>> _byUnit = new(StringComparer.Ordinal);

    public long Position { get; private set; }

    public int Count => _tickets.Count;

    public Ticket? Get(Guid id) => _tickets.TryGetValue(id, out var t) ? t : null;

    /// <summary>Applies one event of a ticket stream if it is the next one for that ticket.</summary>
    public bool Apply(Guid ticketId, long streamRevision, ITicketEvent e)
    {
        while (true)
        {
            var current = _tickets.GetValueOrDefault(ticketId) ?? Ticket.Initial;
            if (current.Version != streamRevision) return false; // already applied (inline) or out of order
            var next = Ticket.Evolve(current, e);
            if (current.Version == 0 ? _tickets.TryAdd(ticketId, next) : _tickets.TryUpdate(ticketId, next, current))
            {
                IndexPhone(next);
                IndexUnits(next);
                return true;
            }
        }
    }

    /// <summary>Sets the state just written on this node, unless a newer one is already known.</summary>
    public void Put(Ticket state)
    {
        _tickets.AddOrUpdate(state.Id, state, (_, existing) => existing.Version >= state.Version ? existing : state);
        IndexPhone(state);
        IndexUnits(state);
    }

    private void IndexUnits(Ticket t)
    {
        foreach (var task in t.Tasks)
        {
            if (task.IsOpen) _byUnit.GetOrAdd(task.UnitId, _ => new ConcurrentDictionary<Guid, byte>()).TryAdd(t.Id, 0);
        }
    }

    private bool HasOpenTask(Guid id, string unitId) => Get(id) is { } t && t.Tasks.Any(task => task.IsOpen && task.UnitId == unitId);

    /// <summary>
    /// Tickets with an open task of a unit <paramref name="unitMatches"/> accepts, each once: looks up the units, not
    /// every ticket (O(units + their open tickets)).
    /// </summary>
    public IEnumerable<Ticket> WithOpenTasks(Func<string, bool> unitMatches)
    {
        var seen = new HashSet<Guid>();
        foreach (var (unitId, ids) in _byUnit)
        {
            if (!unitMatches(unitId)) continue;
            foreach (var id in ids.Keys)
            {
                if (!HasOpenTask(id, unitId))
                {
                    ids.TryRemove(id, out _);
                    // A writer stores the state before indexing it, so a task reopened meanwhile is seen here.
                    if (!HasOpenTask(id, unitId)) continue;
                    ids.TryAdd(id, 0);
                }
                if (seen.Add(id) && Get(id) is { } t) yield return t;
            }
        }
    }

    private void IndexPhone(Ticket t)
    {
        if (!string.IsNullOrEmpty(t.CallerPhone)) _byPhone.GetOrAdd(t.CallerPhone, _ => new ConcurrentDictionary<Guid, byte>()).TryAdd(t.Id, 0);
    }

    public void Advance(long position)
    {
        if (position > Position) Position = position;
    }

    public IEnumerable<Ticket> All => _tickets.Values;

    public IEnumerable<Ticket> InState(params TicketState[] states) => _tickets.Values.Where(t => states.Contains(t.State));

    /// <summary>Tickets with an open task of the unit (or of a unit inside it, when <paramref name="within"/> says so).</summary>
    public IEnumerable<Ticket> ForUnit(Func<string, bool> isMine) => WithOpenTasks(isMine);

    public IEnumerable<Ticket> ByCaller(string phone) =>
        _byPhone.TryGetValue(phone, out var ids) ? ids.Keys.Select(Get).OfType<Ticket>() : [];
}
