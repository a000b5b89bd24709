using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Calls;
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
    ILogger<ProjectionRunner> logger) : BackgroundService
{
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the read models have reached the head of the log as it was at start.</summary>
    public Task CaughtUp => _caughtUp.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var head = await store.GetHeadPositionAsync(stoppingToken);
                if (tickets.Position >= head) _caughtUp.TrySetResult();
                await foreach (var e in store.SubscribeToAllAsync(tickets.Position, stoppingToken))
                {
                    await ApplyAsync(e, live: e.Position > head);
                    tickets.Advance(e.Position);
                    if (e.Position >= head) _caughtUp.TrySetResult();
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
            catch (Exception e)
            {
                logger.LogWarning(e, "Projection subscription dropped at position {Position}; resubscribing", tickets.Position);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task ApplyAsync(RecordedEvent e, bool live)
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
            case ICallRecord cr:
                calls.Apply(cr);
                break;
            default:
                break;
        }
    }
}
