using Hotline.Telephony.Tests.Support;
using Xunit;

namespace Hotline.Telephony.Tests;

public sealed class NormalizerTests
{
    private static readonly DateTimeOffset T = new(2025, 3, 3, 10, 0, 0, TimeSpan.FromHours(8));

    private static CallOffered Offer(string id, string call) => new(id, call, T, "t", "13800138000", "12345");

    [Fact]
    public async Task Drops_duplicates_late_events_and_impossible_ones()
    {
        var sink = new RecordingSink();
        using var n = new CallEventNormalizer(sink);

        Assert.Equal(NormalizerVerdict.Published, await n.PublishWithVerdictAsync(Offer("1", "c"), default));
        Assert.Equal(NormalizerVerdict.Duplicate, await n.PublishWithVerdictAsync(Offer("1", "c"), default));
        Assert.Equal(NormalizerVerdict.OutOfOrder, await n.PublishWithVerdictAsync(Offer("1b", "c"), default));
        Assert.Equal(NormalizerVerdict.OutOfOrder, await n.PublishWithVerdictAsync(new CallHeld("2", "c", T, "t"), default));
        Assert.Equal(NormalizerVerdict.Published, await n.PublishWithVerdictAsync(new CallAnswered("3", "c", T, "t", "A1"), default));
        Assert.Equal(NormalizerVerdict.OutOfOrder, await n.PublishWithVerdictAsync(new CallAnswered("3b", "c", T, "t", "A1"), default));
        Assert.Equal(NormalizerVerdict.Published, await n.PublishWithVerdictAsync(new CallHeld("4", "c", T, "t"), default));
        Assert.Equal(NormalizerVerdict.Published, await n.PublishWithVerdictAsync(new CallEnded("5", "c", T, "t", CallEndedBy.Caller), default));
        Assert.Equal(NormalizerVerdict.AfterEnd, await n.PublishWithVerdictAsync(new DtmfReceived("6", "c", T, "t", "1"), default));

        Assert.Equal(["CallOffered", "CallAnswered", "CallHeld", "CallEnded"], sink.KindsFor("c"));
        Assert.Equal((4, 1, 4), (n.Published, n.Duplicates, n.Ignored));
    }

    [Fact]
    public async Task Memory_is_bounded_and_forgets_the_oldest_ids()
    {
        var sink = new RecordingSink();
        using var n = new CallEventNormalizer(sink, new CallEventNormalizerOptions { EventIdCapacity = 3, CallCapacity = 3 });
        for (var i = 0; i < 5; i++)
        {
            await n.PublishAsync(Offer($"e{i}", $"c{i}"), default);
        }
        Assert.False(n.HasSeen("e0"));
        Assert.True(n.HasSeen("e4"));
        // e0 and its call were forgotten: a re-delivery far too late is published again (the bound is the trade-off).
        Assert.Equal(NormalizerVerdict.Published, await n.PublishWithVerdictAsync(Offer("e0", "c0"), default));
        Assert.Equal(NormalizerVerdict.Duplicate, await n.PublishWithVerdictAsync(Offer("e4", "c4"), default));
    }

    [Fact]
    public async Task A_failed_publish_is_forgotten_so_the_retry_goes_through()
    {
        var sink = new FlakySink();
        using var n = new CallEventNormalizer(sink);
        await Assert.ThrowsAsync<InvalidOperationException>(() => n.PublishAsync(Offer("1", "c"), default));
        Assert.Equal(NormalizerVerdict.Published, await n.PublishWithVerdictAsync(Offer("1", "c"), default));
    }

    [Fact]
    public async Task Different_calls_are_published_concurrently_while_one_calls_events_wait_their_turn()
    {
        var sink = new HoldingSink("a");
        using var n = new CallEventNormalizer(sink);

        var aOffered = n.PublishWithVerdictAsync(Offer("a1", "a"), default);
        await sink.Held.Task; // call a's first event is inside the server, not finished
        var aEnded = n.PublishWithVerdictAsync(new CallAbandoned("a2", "a", T, "t"), default);
        var aAgain = n.PublishWithVerdictAsync(Offer("a1", "a"), default); // a re-delivery waits for the original's outcome

        // Another call is not held up by call a.
        Assert.Equal(NormalizerVerdict.Published, await n.PublishWithVerdictAsync(Offer("b1", "b"), default));
        Assert.False(aEnded.IsCompleted);
        Assert.False(aAgain.IsCompleted);
        Assert.Equal(["CallOffered"], sink.KindsFor("a"));

        sink.Release.SetResult();
        Assert.Equal(NormalizerVerdict.Published, await aOffered);
        Assert.Equal(NormalizerVerdict.Published, await aEnded);
        Assert.Equal(NormalizerVerdict.Duplicate, await aAgain);
        Assert.Equal(["CallOffered", "CallAbandoned"], sink.KindsFor("a"));
    }

    [Fact]
    public async Task With_concurrency_one_every_event_waits_for_the_one_before()
    {
        var sink = new HoldingSink("a");
        using var n = new CallEventNormalizer(sink, new CallEventNormalizerOptions { Concurrency = 1 });

        var aOffered = n.PublishWithVerdictAsync(Offer("a1", "a"), default);
        await sink.Held.Task;
        var bOffered = n.PublishWithVerdictAsync(Offer("b1", "b"), default);
        Assert.False(bOffered.IsCompleted);

        sink.Release.SetResult();
        Assert.Equal(NormalizerVerdict.Published, await aOffered);
        Assert.Equal(NormalizerVerdict.Published, await bOffered);
        Assert.Equal(["a", "b"], sink.Events.Select(e => e.CallId));
    }

    /// <summary>Records every event; the first event of <c>heldCall</c> stays in the sink until <see cref="Release"/>.</summary>
    private sealed class HoldingSink(string heldCall) : ICallEventSink
    {
        private readonly List<CallEvent> _events = [];
        private int _held;

        public TaskCompletionSource Held { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IReadOnlyList<CallEvent> Events
        {
            get { lock (_events) { return [.. _events]; } }
        }

        public IReadOnlyList<string> KindsFor(string callId) => [.. Events.Where(e => e.CallId == callId).Select(e => e.GetType().Name)];

        public async Task PublishAsync(CallEvent e, CancellationToken ct)
        {
            lock (_events) { _events.Add(e); }
            if (e.CallId == heldCall && Interlocked.Exchange(ref _held, 1) == 0)
            {
                Held.SetResult();
                await Release.Task;
            }
        }
    }

    private sealed class FlakySink : ICallEventSink
    {
        private int _calls;

        public Task PublishAsync(CallEvent e, CancellationToken ct) =>
            Interlocked.Increment(ref _calls) == 1 ? throw new InvalidOperationException("event store down") : Task.CompletedTask;
    }
}
