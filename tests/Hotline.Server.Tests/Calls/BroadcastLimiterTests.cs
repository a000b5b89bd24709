using Hotline.Server.Calls;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hotline.Server.Tests.Calls;

public sealed class BroadcastLimiterTests
{
    /// <summary>A clock moved by hand whose timers fire when it passes their due time (Task.Delay(…, time) included).</summary>
    private sealed class SteppedClock : TimeProvider
    {
        private readonly List<SteppedTimer> _timers = [];
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2026, 11, 22, 8, 0, 0, TimeSpan.Zero).AddTicks(GetTimestamp());

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new SteppedTimer(callback, state, GetTimestamp() + dueTime.Ticks);
            lock (_timers) _timers.Add(timer);
            return timer;
        }

        public void Advance(TimeSpan by)
        {
            Interlocked.Add(ref _ticks, by.Ticks);
            List<SteppedTimer> due;
            lock (_timers)
            {
                due = _timers.Where(t => !t.Disposed && t.Due <= GetTimestamp()).ToList();
                _timers.RemoveAll(due.Contains);
            }
            foreach (var t in due) t.Fire();
        }

        private sealed class SteppedTimer(TimerCallback callback, object? state, long due) : ITimer
        {
            public long Due { get; } = due;
            public bool Disposed { get; private set; }
            public void Fire() => callback(state);
            public bool Change(TimeSpan dueTime, TimeSpan period) => false;
            public void Dispose() => Disposed = true;
            public ValueTask DisposeAsync()
            {
                Disposed = true;
                return ValueTask.CompletedTask;
            }
        }
    }

    [Fact]
    public async Task Sends_up_to_the_burst_at_once_then_only_the_latest_waiting_change_one_interval_later()
    {
        var clock = new SteppedClock();
        var limiter = new BroadcastLimiter(5, TimeSpan.FromSeconds(1), clock, NullLogger.Instance);
        var sent = new List<int>();
        var eighth = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        for (var i = 1; i <= 8; i++)
        {
            var n = i;
            await limiter.SendAsync(_ =>
            {
                lock (sent) sent.Add(n);
                if (n == 8) eighth.TrySetResult();
                return Task.CompletedTask;
            }, CancellationToken.None);
        }

        lock (sent) Assert.Equal("1,2,3,4,5", string.Join(",", sent));
        Assert.Equal(3, limiter.Deferred);

        clock.Advance(TimeSpan.FromSeconds(1));
        await eighth.Task.WaitAsync(TimeSpan.FromSeconds(30));
        lock (sent) Assert.Equal("1,2,3,4,5,8", string.Join(",", sent));
    }

    [Fact]
    public async Task A_change_after_a_quiet_interval_goes_out_at_once()
    {
        var clock = new SteppedClock();
        var limiter = new BroadcastLimiter(1, TimeSpan.FromSeconds(1), clock, NullLogger.Instance);
        var sent = 0;

        await limiter.SendAsync(_ => { sent++; return Task.CompletedTask; }, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(1));
        await limiter.SendAsync(_ => { sent++; return Task.CompletedTask; }, CancellationToken.None);

        Assert.Equal(2, sent);
        Assert.Equal(0, limiter.Deferred);
    }
}
