using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;

namespace Hotline.Server.Calls;

/// <summary>
/// The TicketChanged pushes of this node, off the read models' path. <see cref="Storage.ProjectionRunner"/> only
/// enqueues (never awaits SignalR); one background sender per node drains the queue in order and makes the group sends.
/// A SignalR group send waits for any member connection whose transport buffer is full (a console that stopped reading,
/// until <c>TransportSendTimeout</c> closes it), so awaiting it in the projection would stall the inbox, search and
/// wallboard figures. The queue is bounded (<see cref="Capacity"/>); when it is full the sender is far behind and the
/// oldest queued TicketChanged is dropped and counted (meter <see cref="MeterName"/>, counter
/// <c>hotline.pushes.ticket_changed.dropped</c>, and a warning log): a console that misses one reloads the ticket on
/// the next change or resyncs on reconnect. At stop the sender abandons what is still queued.
/// </summary>
public sealed class TicketPushes : IHostedService, IDisposable
{
    public const string MeterName = "Hotline.Pushes";

    /// <summary>Queued pushes at most (~10 s of a busy city's ticket changes; ~2 MB).</summary>
    public const int Capacity = 10_000;

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> DroppedCounter =
        Meter.CreateCounter<long>("hotline.pushes.ticket_changed.dropped", "{push}", "TicketChanged pushes dropped because the push queue was full");

    private readonly IHubContext<AgentHub, IAgentClient> _agents;
    private readonly ILogger<TicketPushes> _logger;
    private readonly Channel<Push> _queue;
    private readonly CancellationTokenSource _stop = new();
    private long _dropped;
    private Task? _sender;

    /// <summary>One ticket change: the ticket's watchers and, when known, the console(s) of the agent who registered it.</summary>
    private sealed record Push(TicketChangedView View, string? RegisteredBy);

    public TicketPushes(IHubContext<AgentHub, IAgentClient> agents, ILogger<TicketPushes> logger)
    {
        _agents = agents;
        _logger = logger;
        _queue = Channel.CreateBounded<Push>(
            new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = false },
            OnDropped);
    }

    /// <summary>TicketChanged pushes dropped since start because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Queues one TicketChanged; never waits.</summary>
    public void Enqueue(TicketChangedView view, string? registeredBy) =>
        _queue.Writer.TryWrite(new Push(view, string.IsNullOrEmpty(registeredBy) ? null : registeredBy));

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _sender = Task.Run(SendAllAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync();
        if (_sender is not null) await _sender.WaitAsync(cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    public void Dispose() => _stop.Dispose();

    private void OnDropped(Push push)
    {
        var n = Interlocked.Increment(ref _dropped);
        DroppedCounter.Add(1);
        if (n == 1 || n % 1000 == 0)
            _logger.LogWarning("Push queue full ({Capacity}): dropped the oldest TicketChanged (ticket {Ticket}); {Dropped} dropped so far", Capacity, push.View.TicketId, n);
    }

    private async Task SendAllAsync()
    {
        try
        {
            await foreach (var push in _queue.Reader.ReadAllAsync(_stop.Token))
            {
                try
                {
                    await _agents.Clients.Group("ticket:" + push.View.TicketId).TicketChanged(push.View);
                    if (push.RegisteredBy is not null) await _agents.Clients.Group(AgentHub.GroupOf(push.RegisteredBy)).TicketChanged(push.View);
                }
                catch (Exception e) when (e is not OperationCanceledException) { _logger.LogDebug(e, "Push of ticket change failed"); }
            }
        }
        catch (OperationCanceledException) { }
    }
}
