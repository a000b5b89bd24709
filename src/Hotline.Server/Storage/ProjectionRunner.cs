using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Calls;
using Hotline.Server.Reference;
using Hotline.Server.Tickets;
using Microsoft.AspNetCore.SignalR;

namespace Hotline.Server.Storage;

/// <summary>
/// Feeds the in-process read models from the global log: a catch-up subscription from position 0 (so a restart
/// rebuilds them), then live. Writes on other nodes reach this node's read models and pushes this way.
/// Pushes come from here, never from inside a write; a failed push never undoes anything.
/// </summary>
public sealed class ProjectionRunner(
    IEventStore store,
    EventSerializer serializer,
    TicketIndex tickets,
    CallStats calls,
    IHubContext<AgentHub, IAgentClient> agents,
    CityReference city,
    ILogger<ProjectionRunner> logger) : CatchUpProjection(store, logger)
{
    /// <summary>The ticket index keeps the position (it is also advanced by inline writes' readers).</summary>
    protected override long Position
    {
        get => tickets.Position;
        set => tickets.Advance(value);
    }

    protected override async Task ApplyAsync(RecordedEvent e, bool live, CancellationToken ct)
    {
        var data = serializer.Deserialize(e);
        switch (data)
        {
            case ITicketEvent te:
                tickets.Apply(te.TicketId, e.StreamRevision, te);
                if (live && tickets.Get(te.TicketId) is { } t)
                {
                    try
                    {
                        var view = new TicketChangedView(t.Id, t.Number, t.State.ToString(), TicketStateNames.Of(t.State), t.Version);
                        await agents.Clients.Group("ticket:" + t.Id).TicketChanged(view);
                        if (t.RegisteredBy.Length > 0) await agents.Clients.Group(AgentHub.GroupOf(t.RegisteredBy)).TicketChanged(view);
                    }
                    catch (Exception ex) { logger.LogDebug(ex, "Push of ticket change failed"); }
                }
                break;
            // Versions published on another node (this node applies its own at once; applying again is a no-op).
            case CategoryTreePublished c:
                city.Apply(c);
                break;
            case DispatchCataloguePublished d:
                city.Apply(d);
                break;
            case ICallRecord cr:
                calls.Apply(cr);
                break;
            default:
                break;
        }
    }
}
