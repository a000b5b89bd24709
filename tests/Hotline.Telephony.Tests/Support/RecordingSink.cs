using Hotline.Telephony;

namespace Hotline.Telephony.Tests.Support;

/// <summary>Stands in for the server: records what the adapters publish.</summary>
public sealed class RecordingSink : ICallEventSink
{
    private readonly List<CallEvent> _events = [];

    public IReadOnlyList<CallEvent> Events
    {
        get { lock (_events) { return [.. _events]; } }
    }

    public Task PublishAsync(CallEvent e, CancellationToken ct)
    {
        lock (_events) { _events.Add(e); }
        return Task.CompletedTask;
    }

    public IReadOnlyList<CallEvent> For(string callId) => [.. Events.Where(e => e.CallId == callId)];

    public IReadOnlyList<string> KindsFor(string callId) => [.. For(callId).Select(e => e.GetType().Name)];

    public async Task<T> WaitForAsync<T>(string callId, Func<T, bool>? match = null, TimeSpan? timeout = null) where T : CallEvent
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < deadline)
        {
            var hit = For(callId).OfType<T>().FirstOrDefault(e => match?.Invoke(e) ?? true);
            if (hit is not null)
            {
                return hit;
            }
            await Task.Delay(10);
        }
        throw new TimeoutException($"No {typeof(T).Name} for {callId}; got [{string.Join(", ", KindsFor(callId))}].");
    }
}
