using System.Collections.Concurrent;
using System.Net.Http.Json;
using Hotline.EventStore;
using Hotline.Server.Storage;
using Microsoft.Extensions.Options;

namespace Hotline.Server.Outbox;

/// <summary>The "Hotline:Outbox" section: the outbound gateway and the retry backoff.</summary>
public sealed class OutboxOptions
{
    public const string Section = "Hotline:Outbox";

    /// <summary>The outbound SMS/mail/unit-notice gateway (HTTP POST, see README). Empty: messages are logged and counted as delivered (development).</summary>
    public string? GatewayUrl { get; set; }

    /// <summary>Sent as X-Gateway-Key to the gateway.</summary>
    public string GatewayKey { get; set; } = "";

    /// <summary>Backoff after a failed attempt: 2^attempt seconds, at most this.</summary>
    public double MaxRetrySeconds { get; set; } = 300;
}

public sealed record OutboxMessage(Guid MessageId, string Channel, string To, string Kind, string Text, Guid? RefId, DateTimeOffset QueuedAt)
{
    public long Version { get; init; } = 1;
    public int Attempts { get; init; }
    public DateTimeOffset? DeliveredAt { get; init; }
    public string? LastError { get; init; }
    public DateTimeOffset NextAttemptAt { get; init; }
}

/// <summary>OutboxMessages: every outbound notification and whether it is delivered, folded from the "outbox-{id}" streams.</summary>
public sealed class OutboxMessages(IOptions<OutboxOptions> options) : IDisposable
{
    private readonly ConcurrentDictionary<Guid, OutboxMessage> _messages = new();
    private readonly SemaphoreSlim _signal = new(0);

    public static string StreamOf(Guid id) => $"outbox-{id:N}";

    public static bool IsOutboxStream(string stream) => stream.StartsWith("outbox-", StringComparison.Ordinal);

    /// <summary>The message id for a dedup key: what the message is for, so it is queued once however often it is asked for.</summary>
    public static Guid IdFor(string dedupKey) => DeterministicId.From("outbox", dedupKey);

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

    public OutboxMessage Fold(OutboxMessage m, object e) => Fold(m, e, options.Value.MaxRetrySeconds);

    /// <summary>Folds one event; a failed attempt sets the next try 2^attempt seconds later, capped at <paramref name="maxRetrySeconds"/>.</summary>
    public static OutboxMessage Fold(OutboxMessage m, object e, double maxRetrySeconds) => e switch
    {
        MessageDelivered d => m with { Version = m.Version + 1, Attempts = d.Attempt, DeliveredAt = d.At },
        MessageAttemptFailed f => m with { Version = m.Version + 1, Attempts = f.Attempt, LastError = f.Error, NextAttemptAt = f.At.AddSeconds(Math.Min(maxRetrySeconds, Math.Pow(2, f.Attempt))) },
        _ => m with { Version = m.Version + 1 },
    };

    /// <summary>"Retry now" from the console: the next attempt is due at once (on this node; the dispatcher is woken).</summary>
    public bool RetryNow(Guid id, DateTimeOffset now)
    {
        if (!_messages.TryGetValue(id, out var m) || m.DeliveredAt is not null) return false;
        _messages[id] = m with { NextAttemptAt = now };
        _signal.Release();
        return true;
    }

    public Task WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);

    public void Dispose() => _signal.Dispose();
}

/// <summary>Reads and writes the outbox streams with deterministic event ids, so a retried write is a no-op.</summary>
public sealed class OutboxStore(IEventStore store, TimeProvider time)
{
    public EventSerializer Serializer { get; } = new(OutboxEventTypes.All);

    public TimeProvider Time => time;

    public async Task<IReadOnlyList<object>> ReadAsync(Guid id, CancellationToken ct)
    {
        var list = new List<object>();
        await foreach (var e in store.ReadStreamAsync(OutboxMessages.StreamOf(id), 0, ct))
            if (Serializer.Deserialize(e) is { } data) list.Add(data);
        return list;
    }

    /// <summary>Appends one event at <paramref name="expectedVersion"/> (events before it); the event id comes from the stream and <paramref name="eventKey"/>.</summary>
    public Task<AppendResult> AppendAsync(Guid id, long expectedVersion, object @event, string eventKey, string actor, CancellationToken ct)
    {
        var stream = OutboxMessages.StreamOf(id);
        // Same id formula as the channel streams used before the outboxes were merged, so old and new rows agree.
        return store.AppendAsync(stream, ExpectedRevision.FromVersion(expectedVersion),
            [Serializer.ToEventData(@event, DeterministicId.From("channel-event", stream, eventKey), new EventMetadata(actor, null, null, time.GetUtcNow()))], ct);
    }
}

/// <summary>
/// The one way into the outbox, for every writer (citizen notices, verification codes, draft acknowledgements, 催办/督办
/// of units, knowledge reminders): one stream per message, the id derived from what the message is for, so it is queued once.
/// </summary>
public sealed class OutboxWriter(OutboxStore store, OutboxMessages outbox)
{
    public async Task<Guid> QueueAsync(string channel, string to, string kind, string text, Guid? refId, string dedupKey, CancellationToken ct)
    {
        var id = OutboxMessages.IdFor(dedupKey);
        var queued = new MessageQueued(id, channel, to, kind, text, refId, store.Time.GetUtcNow());
        try
        {
            await store.AppendAsync(id, 0, queued, "queued", "system", ct);
        }
        catch (WrongExpectedVersionException)
        {
            return id; // already queued (and maybe delivered) by an earlier attempt with the same key
        }
        outbox.Apply(queued, 0);
        return id;
    }
}

/// <summary>Feeds <see cref="OutboxMessages"/> from the global log (from position 0 at start, then live).</summary>
public sealed class OutboxProjection(IEventStore store, OutboxStore outboxStore, OutboxMessages outbox, ILogger<OutboxProjection> logger) : CatchUpProjection(store, logger)
{
    protected override Task ApplyAsync(RecordedEvent e, bool live, CancellationToken ct)
    {
        if (OutboxMessages.IsOutboxStream(e.StreamId) && outboxStore.Serializer.Deserialize(e) is { } data) outbox.Apply(data, e.StreamRevision);
        return Task.CompletedTask;
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
public sealed class HttpMessageGateway(HttpClient http, IOptions<OutboxOptions> options) : IMessageGateway
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
/// stored) is closed by the gateway's idempotency key. Starts only when the read model has caught up.
/// </summary>
public sealed class OutboxDispatcher(OutboxMessages outbox, OutboxStore store, IMessageGateway gateway, OutboxProjection projection, ILogger<OutboxDispatcher> logger) : BackgroundService
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

    /// <summary>One attempt at one message (also what a test calls directly).</summary>
    public async Task DeliverAsync(Guid id, CancellationToken ct)
    {
        var events = await store.ReadAsync(id, ct);
        if (events.Count == 0 || events[0] is not MessageQueued q) return;
        var state = new OutboxMessage(q.MessageId, q.Channel, q.To, q.Kind, q.Text, q.RefId, q.At);
        foreach (var e in events.Skip(1)) state = outbox.Fold(state, e);
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
            await store.AppendAsync(id, state.Version, outcome, "attempt-" + attempt, "outbox", ct);
        }
        catch (WrongExpectedVersionException)
        {
            return; // another node recorded this attempt first; the projection brings it here
        }
        outbox.Apply(outcome, state.Version);
    }
}
