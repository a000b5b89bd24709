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
                return true;
            }
        }
    }

    /// <summary>Sets the state just written on this node, unless a newer one is already known.</summary>
    public void Put(Ticket state)
    {
        _tickets.AddOrUpdate(state.Id, state, (_, existing) => existing.Version >= state.Version ? existing : state);
        IndexPhone(state);
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
    public IEnumerable<Ticket> ForUnit(Func<string, bool> isMine) =>
        _tickets.Values.Where(t => t.Tasks.Any(task => isMine(task.UnitId) && task.State is TaskState.ToSign or TaskState.InProgress));

    public IEnumerable<Ticket> ByCaller(string phone) =>
        _byPhone.TryGetValue(phone, out var ids) ? ids.Keys.Select(Get).OfType<Ticket>() : [];
}
