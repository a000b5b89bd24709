using System.Collections.Concurrent;

namespace Hotline.Telephony.Webhook;

/// <summary>Remembers webhook event ids so a re-delivered event is acknowledged but not published again.
/// The in-memory one forgets on restart; the server may register a persistent one (e.g. Redis SET NX with TTL).</summary>
public interface IWebhookReplayStore
{
    /// <summary>Records the id; false when it was already recorded.</summary>
    ValueTask<bool> TryRememberAsync(string eventId, CancellationToken ct);

    /// <summary>Forgets an id whose event could not be published, so the platform's retry goes through.</summary>
    ValueTask ForgetAsync(string eventId, CancellationToken ct);
}

/// <summary>Bounded: keeps the most recent <see cref="Capacity"/> ids.</summary>
public sealed class InMemoryWebhookReplayStore(int capacity = 200_000) : IWebhookReplayStore
{
    private readonly ConcurrentDictionary<string, byte> _ids = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    public int Capacity { get; } = capacity;

    public ValueTask<bool> TryRememberAsync(string eventId, CancellationToken ct)
    {
        if (!_ids.TryAdd(eventId, 0))
        {
            return ValueTask.FromResult(false);
        }
        _order.Enqueue(eventId);
        while (_ids.Count > Capacity && _order.TryDequeue(out var oldest))
        {
            _ids.TryRemove(oldest, out _);
        }
        return ValueTask.FromResult(true);
    }

    public ValueTask ForgetAsync(string eventId, CancellationToken ct)
    {
        _ids.TryRemove(eventId, out _);
        return ValueTask.CompletedTask;
    }
}
