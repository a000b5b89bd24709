namespace Hotline.Server.Calls;

/// <summary>
/// Bounds how often one broadcast to every console goes out: up to <c>burst</c> at once, then one per <c>interval</c>.
/// A change that arrives while none is allowed waits, and only the latest waiting one is sent, as soon as the next is
/// allowed (so the last change always reaches the consoles, at most one interval late). Meant for "the list changed, read it
/// again" pushes (<see cref="IAgentClient.MissedCallsChanged"/>), whose count would otherwise be calls × consoles: 1,000
/// abandoned calls a second to 2,000 consoles is 2 million frames a second, which starves the node that sends them.
/// </summary>
public sealed class BroadcastLimiter(int burst, TimeSpan interval, TimeProvider time, ILogger logger)
{
    private readonly Lock _gate = new();
    private double _tokens = burst;
    private long _refilledAt = time.GetTimestamp();
    private Func<CancellationToken, Task>? _waiting;

    /// <summary>Changes sent later than they happened, or not at all because a later one replaced them (diagnostics).</summary>
    public long Deferred { get; private set; }

    /// <summary>Sends now when allowed; otherwise keeps <paramref name="send"/> as the latest waiting change and returns.</summary>
    public Task SendAsync(Func<CancellationToken, Task> send, CancellationToken ct)
    {
        TimeSpan delay;
        lock (_gate)
        {
            Refill();
            if (_waiting is null && _tokens >= 1)
            {
                _tokens -= 1;
                delay = TimeSpan.Zero;
            }
            else
            {
                Deferred++;
                var first = _waiting is null;
                _waiting = send;
                if (!first) return Task.CompletedTask;
                delay = interval * Math.Max(0, 1 - _tokens);
            }
        }
        if (delay == TimeSpan.Zero) return send(ct);
        _ = SendLaterAsync(delay);
        return Task.CompletedTask;
    }

    private async Task SendLaterAsync(TimeSpan delay)
    {
        await Task.Delay(delay, time);
        Func<CancellationToken, Task>? send;
        lock (_gate)
        {
            Refill();
            _tokens = Math.Max(0, _tokens - 1);
            send = _waiting;
            _waiting = null;
        }
        try
        {
            if (send is not null) await send(CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogDebug(e, "A deferred console broadcast failed");
        }
    }

    private void Refill()
    {
        var now = time.GetTimestamp();
        _tokens = Math.Min(burst, _tokens + time.GetElapsedTime(_refilledAt, now) / interval);
        _refilledAt = now;
    }
}
