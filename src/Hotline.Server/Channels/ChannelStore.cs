using Hotline.EventStore;
using Hotline.Server.Storage;

namespace Hotline.Server.Channels;

/// <summary>Reads and writes the channel streams (draft-, outbox-, appeal-) with deterministic event ids, so every retried write is a no-op.</summary>
public sealed class ChannelStore(IEventStore store, TimeProvider time)
{
    public EventSerializer Serializer { get; } = new(ChannelEventTypes.All);

    public TimeProvider Time => time;

    public async Task<IReadOnlyList<object>> ReadAsync(string stream, CancellationToken ct)
    {
        var list = new List<object>();
        await foreach (var e in store.ReadStreamAsync(stream, 0, ct))
            if (Serializer.Deserialize(e) is { } data) list.Add(data);
        return list;
    }

    /// <summary>Appends one event with an id derived from <paramref name="eventKey"/> at <paramref name="expectedVersion"/> (number of events before it).</summary>
    public Task<AppendResult> AppendAsync(string stream, long expectedVersion, object @event, string eventKey, string actor, CancellationToken ct) =>
        store.AppendAsync(stream, ExpectedRevision.FromVersion(expectedVersion),
            [Serializer.ToEventData(@event, DeterministicId.From("channel-event", stream, eventKey), new EventMetadata(actor, null, null, time.GetUtcNow()))], ct);

    /// <summary>Starts a stream with its first event; a retry (same key) is a no-op, another first event is a <see cref="WrongExpectedVersionException"/>.</summary>
    public Task<AppendResult> StartAsync(string stream, object @event, string eventKey, string actor, CancellationToken ct) =>
        AppendAsync(stream, 0, @event, eventKey, actor, ct);
}
