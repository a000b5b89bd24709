using System.Text.Json;
using System.Threading.Channels;
using Hotline.Calls.Redis;
using Microsoft.AspNetCore.SignalR;
using StackExchange.Redis;

namespace Hotline.Server.Calls;

/// <summary>
/// Where the call center's pushes to agents' consoles go. A SignalR hub only knows the connections of its own process,
/// so with several server nodes on one Redis every push is published on one Redis channel
/// (<see cref="RedisKeys.PushChannel"/>) and each node, this one included, delivers it to its own connections of that
/// group, in the order published. With the in-memory queue (one process) pushes go straight to the local hub.
/// A failed push is logged and dropped: it never undoes the write that caused it (consoles resync with GetState).
/// </summary>
public sealed class ConsolePushes : IHostedService, IDisposable
{
    private readonly IHubContext<AgentHub> _agents;
    private readonly ISubscriber? _subscriber;
    private readonly RedisChannel _channel;
    private readonly ILogger<ConsolePushes> _logger;
    private readonly Channel<Push> _inbox = Channel.CreateUnbounded<Push>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private Task? _delivery;

    /// <summary>One push as it travels between nodes: the agent hub group, the client method, its one argument (camelCase JSON).</summary>
    private sealed record Push(string Group, string Method, JsonElement Argument);

    public ConsolePushes(IHubContext<AgentHub> agents, IConnectionMultiplexer? redis, RedisKeys? keys, ILogger<ConsolePushes> logger)
    {
        _agents = agents;
        _logger = logger;
        if (redis is not null && keys is not null)
        {
            _subscriber = redis.GetSubscriber();
            _channel = keys.PushChannel;
        }
    }

    /// <summary>True when pushes travel over Redis (several nodes possible).</summary>
    public bool FansOut => _subscriber is not null;

    /// <summary>The console(s) of one agent, wherever it is connected.</summary>
    public IAgentClient Agent(string agentId) => new AgentTarget(this, AgentHub.GroupOf(agentId));

    /// <summary>Every agent console, on every node.</summary>
    public IAgentClient AllAgents() => new AgentTarget(this, AgentHub.AllAgentsGroup);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _delivery = Task.Run(DeliverAsync, CancellationToken.None);
        if (_subscriber is not null)
        {
            await _subscriber.SubscribeAsync(_channel, (_, message) =>
            {
                try
                {
                    var push = JsonSerializer.Deserialize<Push>((string)message!, JsonSerializerOptions.Web);
                    if (push is not null) _inbox.Writer.TryWrite(push);
                }
                catch (JsonException e) { _logger.LogWarning(e, "Unreadable console push on {Channel}", _channel); }
            });
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_subscriber is not null)
        {
            try { await _subscriber.UnsubscribeAsync(_channel); }
            catch (RedisException e) { _logger.LogDebug(e, "Unsubscribe failed"); }
        }
        _inbox.Writer.TryComplete();
        await _stop.CancelAsync();
        if (_delivery is not null) await _delivery.WaitAsync(cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    public void Dispose() => _stop.Dispose();

    internal async Task SendAsync(string group, string method, object argument)
    {
        var push = new Push(group, method, JsonSerializer.SerializeToElement(argument, argument.GetType(), JsonSerializerOptions.Web));
        if (_subscriber is null)
        {
            _inbox.Writer.TryWrite(push);
            return;
        }
        try
        {
            await _subscriber.PublishAsync(_channel, JsonSerializer.Serialize(push, JsonSerializerOptions.Web));
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            _logger.LogWarning(e, "Could not publish {Method} to {Group}; delivering to this node only", method, group);
            _inbox.Writer.TryWrite(push);
        }
    }

    private async Task DeliverAsync()
    {
        try
        {
            await foreach (var push in _inbox.Reader.ReadAllAsync(_stop.Token))
            {
                try { await _agents.Clients.Group(push.Group).SendCoreAsync(push.Method, [push.Argument], _stop.Token); }
                catch (Exception e) when (e is not OperationCanceledException) { _logger.LogDebug(e, "Push {Method} to {Group} failed", push.Method, push.Group); }
            }
        }
        catch (OperationCanceledException) { }
    }

    private sealed class AgentTarget(ConsolePushes pushes, string group) : IAgentClient
    {
        public Task AgentState(AgentView view) => pushes.SendAsync(group, nameof(AgentState), view);
        public Task CallOffered(OfferView offer) => pushes.SendAsync(group, nameof(CallOffered), offer);
        public Task CallConnected(CallConnectedView call) => pushes.SendAsync(group, nameof(CallConnected), call);
        public Task CallEnded(CallEndedView call) => pushes.SendAsync(group, nameof(CallEnded), call);
        public Task TicketChanged(TicketChangedView ticket) => pushes.SendAsync(group, nameof(TicketChanged), ticket);
        public Task Resync(ResyncView resync) => pushes.SendAsync(group, nameof(Resync), resync);
        public Task MissedCallsChanged(MissedCallsChangedView change) => pushes.SendAsync(group, nameof(MissedCallsChanged), change);
    }
}
