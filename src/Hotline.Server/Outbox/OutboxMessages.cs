using System.Collections.Concurrent;
using System.Net.Http.Json;
using Hotline.EventStore;
using Hotline.Server.Storage;
using Microsoft.Extensions.Options;

namespace Hotline.Server.Channels;

public sealed record OutboxMessage(Guid MessageId, string Channel, string To, string Kind, string Text, Guid? RefId, DateTimeOffset QueuedAt)
{
    public long Version { get; init; } = 1;
    public int Attempts { get; init; }
    public DateTimeOffset? DeliveredAt { get; init; }
    public string? LastError { get; init; }
    public DateTimeOffset NextAttemptAt { get; init; }
}

/// <summary>OutboxMessages: every outbound notification and whether it is delivered, folded from the "outbox-{id}" streams.</summary>
public sealed class Outbox : IDisposable
{
    private readonly ConcurrentDictionary<Guid, OutboxMessage> _messages = new();
    private readonly SemaphoreSlim _signal = new(0);

    public static string StreamOf(Guid id) => $"outbox-{id:N}";

    public IEnumerable<OutboxMessage> All => _messages.Values;

    public OutboxMessage? Get(Guid id) => _messages.GetValueOrDefault(id);

    public IEnumerable<OutboxMessage> Pending => _messages.Values.Where(m => m.DeliveredAt is null);

    public void Apply(object e, long revision)
    {
        switch (e)
        {
            case MessageQueued q when revision == 0:
                _messages.TryAdd(q.MessageId, new OutboxMessage(q.MessageId, q.Channel, q.To, q.Kind, q.Text, q.RefId, q.At) { NextAttemptAt = q.At });
                _signal.Release();
                break;
            case MessageDelivered d when _messages.TryGetValue(d.MessageId, out var m) && m.Version == revision:
                _messages[d.MessageId] = Fold(m, d);
                break;
            case MessageAttemptFailed f when _messages.TryGetValue(f.MessageId, out var m) && m.Version == revision:
                _messages[f.MessageId] = Fold(m, f);
                break;
        }
    }

    public static OutboxMessage Fold(OutboxMessage m, object e) => e switch
    {
        MessageDelivered d => m with { Version = m.Version + 1, Attempts = d.Attempt, DeliveredAt = d.At },
        MessageAttemptFailed f => m with { Version = m.Version + 1, Attempts = f.Attempt, LastError = f.Error, NextAttemptAt = f.At.AddSeconds(Math.Min(300, Math.Pow(2, f.Attempt))) },
        _ => m with { Version = m.Version + 1 },
    };

    public Task WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);

    public void Dispose() => _signal.Dispose();
}

/// <summary>Puts notifications into the outbox: one stream per message, the id derived from what the message is for, so it is queued once.</summary>
public sealed class OutboxWriter(ChannelStore store, Outbox outbox)
{
    public async Task<Guid> QueueAsync(string channel, string to, string kind, string text, Guid? refId, string dedupKey, CancellationToken ct)
    {
        var id = DeterministicId.From("outbox", dedupKey);
        var queued = new MessageQueued(id, channel, to, kind, text, refId, store.Time.GetUtcNow());
        try
        {
            await store.StartAsync(Outbox.StreamOf(id), queued, "queued", "system", ct);
        }
        catch (WrongExpectedVersionException)
        {
            // Already queued (and maybe delivered) by an earlier attempt with the same key.
        }
        outbox.Apply(queued, 0);
        return id;
    }
}

/// <summary>The outbound gateway adapter: hands one message to the SMS/mail operator. The message id goes along as the idempotency key.</summary>
public interface IMessageGateway
{
    Task<string?> SendAsync(OutboxMessage message, CancellationToken ct);
}

/// <summary>
/// Posts JSON {messageId, channel, to, kind, text} to the configured URL with Idempotency-Key = messageId. A 2xx means
/// the gateway has the message; the gateway answers a repeated key with 2xx without sending again.
/// </summary>
public sealed class HttpMessageGateway(HttpClient http, IOptions<ChannelsOptions> options) : IMessageGateway
{
    public async Task<string?> SendAsync(OutboxMessage message, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, options.Value.GatewayUrl)
        {
            Content = JsonContent.Create(new { messageId = message.MessageId, channel = message.Channel, to = message.To, kind = message.Kind, text = message.Text }),
        };
        request.Headers.Add("Idempotency-Key", message.MessageId.ToString());
        if (options.Value.GatewayKey.Length > 0) request.Headers.Add("X-Gateway-Key", options.Value.GatewayKey);
        using var response = await http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"gateway answered {(int)response.StatusCode}");
        return response.Headers.TryGetValues("X-Gateway-Reference", out var r) ? r.FirstOrDefault() : null;
    }
}

/// <summary>Development gateway (no GatewayUrl configured): logs the message and counts it delivered.</summary>
public sealed class LoggingGateway(ILogger<LoggingGateway> logger) : IMessageGateway
{
    public Task<string?> SendAsync(OutboxMessage message, CancellationToken ct)
    {
        logger.LogInformation("Outbound {Channel} to {To} ({Kind}): {Text}", message.Channel, message.To, message.Kind, message.Text);
        return Task.FromResult<string?>("logged");
    }
}

/// <summary>
/// Delivers queued messages once. Before each send it re-reads the message's stream (so a message delivered before a
/// crash is not sent again); the only window left (the gateway took it, the crash came before "delivered" was
/// stored) is closed by the gateway's idempotency key. Starts only when the read models have caught up.
/// </summary>
public sealed class OutboxDispatcher(Outbox outbox, ChannelStore store, IMessageGateway gateway, ChannelsProjection projection, ILogger<OutboxDispatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await projection.CaughtUp.WaitAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                var now = store.Time.GetUtcNow();
                foreach (var m in outbox.Pending.Where(m => m.NextAttemptAt <= now).OrderBy(m => m.QueuedAt).ToList())
                {
                    if (stoppingToken.IsCancellationRequested) break;
                    await DeliverAsync(m.MessageId, stoppingToken);
                }
                await outbox.WaitAsync(TimeSpan.FromMilliseconds(500), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    private async Task DeliverAsync(Guid id, CancellationToken ct)
    {
        var stream = Outbox.StreamOf(id);
        var events = await store.ReadAsync(stream, ct);
        if (events.Count == 0 || events[0] is not MessageQueued q) return;
        var state = new OutboxMessage(q.MessageId, q.Channel, q.To, q.Kind, q.Text, q.RefId, q.At);
        foreach (var e in events.Skip(1)) state = Outbox.Fold(state, e);
        if (state.DeliveredAt is not null)
        {
            outbox.Apply(events.OfType<MessageDelivered>().First(), state.Version - 1);
            return;
        }

        var attempt = state.Attempts + 1;
        object outcome;
        try
        {
            var reference = await gateway.SendAsync(state, ct);
            outcome = new MessageDelivered(id, attempt, reference, store.Time.GetUtcNow());
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            logger.LogWarning("Delivery of {MessageId} attempt {Attempt} failed: {Error}", id, attempt, e.Message);
            outcome = new MessageAttemptFailed(id, attempt, e.Message, store.Time.GetUtcNow());
        }

        try
        {
            await store.AppendAsync(stream, state.Version, outcome, "attempt-" + attempt, "outbox", ct);
        }
        catch (WrongExpectedVersionException)
        {
            return; // another node recorded this attempt first; the projection brings it here
        }
        outbox.Apply(outcome, state.Version);
    }
}
