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

    private sealed class FlakySink : ICallEventSink
    {
        private int _calls;

        public Task PublishAsync(CallEvent e, CancellationToken ct) =>
            Interlocked.Increment(ref _calls) == 1 ? throw new InvalidOperationException("event store down") : Task.CompletedTask;
    }
}
