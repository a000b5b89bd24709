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
            if (current.Version == 0 ? _tickets.TryAdd(ticketId, next) : _tickets.TryUpdate(ticketId, next, current)) return true;
        }
    }

    /// <summary>Sets the state just written on this node, unless a newer one is already known.</summary>
    public void Put(Ticket state)
    {
        _tickets.AddOrUpdate(state.Id, state, (_, existing) => existing.Version >= state.Version ? existing : state);
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

    public IEnumerable<Ticket> ByCaller(string phone) => _tickets.Values.Where(t => t.CallerPhone == phone);
}
