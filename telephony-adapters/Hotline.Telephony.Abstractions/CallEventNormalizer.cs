namespace Hotline.Telephony;

/// <summary>What <see cref="CallEventNormalizer"/> did with an event.</summary>
public enum NormalizerVerdict
{
    /// <summary>Passed on to the inner sink.</summary>
    Published,
    /// <summary>Same EventId seen before (re-delivery, retry): dropped.</summary>
    Duplicate,
    /// <summary>The call already ended or was abandoned: a late event (e.g. Answered after Ended) is dropped.</summary>
    AfterEnd,
    /// <summary>Not meaningful in the call's current state (second offer, second answer, hold before answer): dropped.</summary>
    OutOfOrder,
}

public sealed class CallEventNormalizerOptions
{
    /// <summary>How many event ids are remembered for duplicate detection (oldest forgotten first).</summary>
    public int EventIdCapacity { get; set; } = 200_000;

    /// <summary>How many calls' states are remembered (oldest forgotten first).</summary>
    public int CallCapacity { get; set; } = 50_000;

    /// <summary>
    /// How many calls may be published at once (default 64). Events are serialised per call (the call id picks one of this
    /// many gates), so each call's events reach the server one at a time, in the order decided here, while different calls go
    /// through concurrently. 1 serialises everything (one event at a time).
    /// </summary>
    public int Concurrency { get; set; } = 64;
}

/// <summary>
/// Sink decorator every adapter puts in front of the server's <see cref="ICallEventSink"/>. It makes the
/// stream idempotent by <see cref="CallEvent.EventId"/> and orderly per call:
/// <list type="bullet">
/// <item>an EventId seen before is dropped;</item>
/// <item>after <see cref="CallEnded"/> or <see cref="CallAbandoned"/> every event of the call is dropped
///   (an <see cref="CallAnswered"/> that arrives after the hang-up is a late fact about a finished call);</item>
/// <item>a second <see cref="CallOffered"/> or <see cref="CallAnswered"/> of the same call is dropped, and so is
///   hold/resume before the call was answered;</item>
/// <item>events of a call never offered (the adapter started mid-call) pass through.</item>
/// </list>
/// Memory is bounded: both the id set and the call table forget their oldest entries first.
/// Publishing is serialised <b>per call</b> (one gate per call id, out of <see cref="CallEventNormalizerOptions.Concurrency"/>),
/// so the inner sink sees each call's events one at a time in the order decided here, and a re-delivery waits for the
/// original's outcome; events of different calls are published concurrently (the server's appends of several calls then
/// share one group commit).
/// </summary>
public sealed class CallEventNormalizer : ICallEventSink, IDisposable
{
    private enum Phase { Offered, Answered, Over }

    private readonly ICallEventSink _inner;
    private readonly BoundedMap<string, bool> _seen;
    private readonly BoundedMap<string, Phase> _calls;
    private readonly Lock _state = new();
    private readonly SemaphoreSlim[] _gates;
    private long _published, _duplicates, _ignored;

    public CallEventNormalizer(ICallEventSink inner, CallEventNormalizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        options ??= new CallEventNormalizerOptions();
        _inner = inner;
        _seen = new BoundedMap<string, bool>(options.EventIdCapacity);
        _calls = new BoundedMap<string, Phase>(options.CallCapacity);
        _gates = [.. Enumerable.Range(0, Math.Clamp(options.Concurrency, 1, 4096)).Select(_ => new SemaphoreSlim(1, 1))];
    }

    // The same call id always takes the same gate (a stable hash, not the per-process randomised one).
    private SemaphoreSlim GateOf(string callId)
    {
        if (_gates.Length == 1) return _gates[0];
        var h = 2166136261u;
        foreach (var c in callId) h = (h ^ c) * 16777619u;
        return _gates[h % (uint)_gates.Length];
    }

    public long Published => Interlocked.Read(ref _published);
    public long Duplicates => Interlocked.Read(ref _duplicates);
    public long Ignored => Interlocked.Read(ref _ignored);

    /// <summary>Whether an event id is still remembered (used by adapters to answer "duplicate" to a caller).</summary>
    public bool HasSeen(string eventId)
    {
        lock (_state) { return _seen.ContainsKey(eventId); }
    }

    public async Task PublishAsync(CallEvent e, CancellationToken ct) => await PublishWithVerdictAsync(e, ct);

    public async Task<NormalizerVerdict> PublishWithVerdictAsync(CallEvent e, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(e);
        var gate = GateOf(e.CallId);
        await gate.WaitAsync(ct);
        try
        {
            NormalizerVerdict verdict;
            Phase? previous;
            lock (_state) verdict = Decide(e, out previous);
            switch (verdict)
            {
                case NormalizerVerdict.Published:
                    try
                    {
                        await _inner.PublishAsync(e, ct);
                    }
                    catch
                    {
                        // Not delivered: forget it so a re-delivery of the same event can succeed.
                        Forget(e, previous);
                        throw;
                    }
                    Interlocked.Increment(ref _published);
                    break;
                case NormalizerVerdict.Duplicate:
                    Interlocked.Increment(ref _duplicates);
                    break;
                default:
                    Interlocked.Increment(ref _ignored);
                    break;
            }
            return verdict;
        }
        finally
        {
            gate.Release();
        }
    }

    // Under _state (the maps are not thread-safe; the call's gate keeps its events in order).
    private NormalizerVerdict Decide(CallEvent e, out Phase? previous)
    {
        previous = null;
        if (_seen.ContainsKey(e.EventId))
        {
            return NormalizerVerdict.Duplicate;
        }
        _seen.Set(e.EventId, true);

        Phase? phase = _calls.TryGetValue(e.CallId, out var current) ? current : null;
        previous = phase;

        if (phase == Phase.Over)
        {
            return NormalizerVerdict.AfterEnd;
        }

        switch (e)
        {
            case CallOffered when phase is not null:
                return NormalizerVerdict.OutOfOrder;
            case CallOffered:
                _calls.Set(e.CallId, Phase.Offered);
                break;
            case CallAnswered when phase == Phase.Answered:
                return NormalizerVerdict.OutOfOrder;
            case CallAnswered:
                _calls.Set(e.CallId, Phase.Answered);
                break;
            case CallHeld or CallResumed when phase == Phase.Offered:
                return NormalizerVerdict.OutOfOrder;
            case CallEnded or CallAbandoned:
                _calls.Set(e.CallId, Phase.Over);
                break;
            case CallTransferred:
                // The call leaves the hotline; its CallEnded follows and is terminal.
                break;
            default:
                break;
        }
        return NormalizerVerdict.Published;
    }

    private void Forget(CallEvent e, Phase? previous)
    {
        lock (_state)
        {
            _seen.Remove(e.EventId);
            if (previous is { } p)
            {
                _calls.Set(e.CallId, p);
            }
            else
            {
                _calls.Remove(e.CallId);
            }
        }
    }

    public void Dispose()
    {
        foreach (var gate in _gates) gate.Dispose();
    }
}

/// <summary>A dictionary that forgets its oldest keys when full. Not thread-safe.</summary>
internal sealed class BoundedMap<TKey, TValue> where TKey : notnull
{
    private readonly int _capacity;
    private readonly Dictionary<TKey, (TValue Value, LinkedListNode<TKey> Node)> _map = [];
    private readonly LinkedList<TKey> _order = new();

    public BoundedMap(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    public int Count => _map.Count;

    public bool ContainsKey(TKey key) => _map.ContainsKey(key);

    public bool TryGetValue(TKey key, out TValue value)
    {
        if (_map.TryGetValue(key, out var entry))
        {
            value = entry.Value;
            return true;
        }
        value = default!;
        return false;
    }

    public void Set(TKey key, TValue value)
    {
        if (_map.TryGetValue(key, out var entry))
        {
            _map[key] = (value, entry.Node);
            return;
        }
        if (_map.Count >= _capacity && _order.First is { } oldest)
        {
            _map.Remove(oldest.Value);
            _order.RemoveFirst();
        }
        _map[key] = (value, _order.AddLast(key));
    }

    public void Remove(TKey key)
    {
        if (_map.Remove(key, out var entry))
        {
            _order.Remove(entry.Node);
        }
    }
}
