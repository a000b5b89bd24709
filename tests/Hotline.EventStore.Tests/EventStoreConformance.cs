using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Xunit;

namespace Hotline.EventStore.Tests;

/// <summary>
/// The behaviour every <see cref="IEventStore"/> must show. Each implementation subclasses this
/// once. A test gets a fresh store instance but not necessarily an empty log (PostgreSQL shares
/// one database per class), so tests use their own streams and positions relative to the head.
/// </summary>
public abstract class EventStoreConformance : IAsyncLifetime
{
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    protected IEventStore Store { get; private set; } = null!;

    /// <summary>A store for this test (may share its log with earlier tests of the class).</summary>
    protected abstract Task<IEventStore> CreateStoreAsync();

    /// <summary>A store over a log nobody has written to.</summary>
    protected abstract Task<IEventStore> CreateEmptyStoreAsync();

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual async Task DisposeAsync() => await DisposeStoreAsync(Store);

    protected static async Task DisposeStoreAsync(IEventStore store)
    {
        if (store is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
    }

    // ---- appends and expected revisions ----

    [Fact]
    public async Task Append_with_NoStream_to_a_new_stream_starts_at_revision_0()
    {
        var stream = NewStream();
        var events = new[] { Event(1), Event(2) };

        var result = await Store.AppendAsync(stream, ExpectedRevision.NoStream, events);

        Assert.Equal(1, result.NextExpectedRevision);
        var stored = await ReadStream(stream);
        Assert.Equal([0L, 1L], stored.Select(e => e.StreamRevision));
        Assert.Equal(events.Select(e => e.EventId), stored.Select(e => e.EventId));
        Assert.Equal(result.Position, stored[^1].Position);
        Assert.True(stored[0].Position < stored[1].Position);
        Assert.All(stored, e => Assert.Equal(stream, e.StreamId));
        for (var i = 0; i < events.Length; i++)
        {
            Assert.Equal(events[i].Type, stored[i].Type);
            AssertSameJson(events[i].Data, stored[i].Data);
        }
    }

    [Fact]
    public async Task Append_with_NoStream_to_an_existing_stream_fails_with_the_actual_revision()
    {
        var stream = NewStream();
        await Store.AppendAsync(stream, ExpectedRevision.NoStream, [Event(1)]);

        var ex = await Assert.ThrowsAsync<WrongExpectedVersionException>(
            () => Store.AppendAsync(stream, ExpectedRevision.NoStream, [Event(2)]));

        Assert.Equal(stream, ex.StreamId);
        Assert.Equal(0, ex.ActualRevision);
        Assert.Single(await ReadStream(stream));
    }

    [Fact]
    public async Task Append_with_the_exact_current_revision_succeeds()
    {
        var stream = NewStream();
        var first = await Store.AppendAsync(stream, ExpectedRevision.NoStream, [Event(1), Event(2)]);

        var second = await Store.AppendAsync(stream, ExpectedRevision.Exact(first.NextExpectedRevision), [Event(3)]);

        Assert.Equal(2, second.NextExpectedRevision);
        Assert.True(second.Position > first.Position);
        Assert.Equal([0L, 1L, 2L], (await ReadStream(stream)).Select(e => e.StreamRevision));
    }

    [Fact]
    public async Task Append_with_a_stale_exact_revision_fails_with_the_actual_revision_and_writes_nothing()
    {
        var stream = NewStream();
        await Store.AppendAsync(stream, ExpectedRevision.NoStream, [Event(1), Event(2)]);

        var ex = await Assert.ThrowsAsync<WrongExpectedVersionException>(
            () => Store.AppendAsync(stream, ExpectedRevision.Exact(0), [Event(3), Event(4)]));

        Assert.Equal(stream, ex.StreamId);
        Assert.Equal(ExpectedRevision.Exact(0), ex.Expected);
        Assert.Equal(1, ex.ActualRevision);
        Assert.Equal(2, (await ReadStream(stream)).Count);
    }

    [Fact]
    public async Task Append_with_an_exact_revision_to_an_absent_stream_fails_with_actual_minus_one()
    {
        var ex = await Assert.ThrowsAsync<WrongExpectedVersionException>(
            () => Store.AppendAsync(NewStream(), ExpectedRevision.Exact(0), [Event(1)]));

        Assert.Equal(-1, ex.ActualRevision);
    }

    [Fact]
    public async Task Append_with_Any_writes_to_new_and_existing_streams()
    {
        var stream = NewStream();

        var first = await Store.AppendAsync(stream, ExpectedRevision.Any, [Event(1)]);
        var second = await Store.AppendAsync(stream, ExpectedRevision.Any, [Event(2)]);

        Assert.Equal(0, first.NextExpectedRevision);
        Assert.Equal(1, second.NextExpectedRevision);
        Assert.Equal([0L, 1L], (await ReadStream(stream)).Select(e => e.StreamRevision));
    }

    [Fact]
    public async Task Append_with_StreamExists_fails_on_an_absent_stream_and_succeeds_on_an_existing_one()
    {
        var stream = NewStream();

        var ex = await Assert.ThrowsAsync<WrongExpectedVersionException>(
            () => Store.AppendAsync(stream, ExpectedRevision.StreamExists, [Event(1)]));
        Assert.Equal(-1, ex.ActualRevision);
        Assert.Empty(await ReadStream(stream));

        await Store.AppendAsync(stream, ExpectedRevision.NoStream, [Event(1)]);
        var result = await Store.AppendAsync(stream, ExpectedRevision.StreamExists, [Event(2)]);
        Assert.Equal(1, result.NextExpectedRevision);
    }

    // ---- idempotent retries ----

    [Fact]
    public async Task Reappending_the_same_event_ids_returns_the_original_result_and_stores_nothing_twice()
    {
        var stream = NewStream();
        var batch = new[] { Event(1), Event(2) };
        var original = await Store.AppendAsync(stream, ExpectedRevision.NoStream, batch);
        await Store.AppendAsync(stream, ExpectedRevision.Exact(1), [Event(3)]);
        var head = await Store.GetHeadPositionAsync();

        var retried = await Store.AppendAsync(stream, ExpectedRevision.NoStream, batch);
        var retriedWithAny = await Store.AppendAsync(stream, ExpectedRevision.Any, batch);
        var retriedLastOnly = await Store.AppendAsync(stream, ExpectedRevision.Exact(0), [batch[1]]);

        Assert.Equal(original, retried);
        Assert.Equal(original, retriedWithAny);
        Assert.Equal(original, retriedLastOnly);
        Assert.Equal(head, await Store.GetHeadPositionAsync());
        var stored = await ReadStream(stream);
        Assert.Equal(3, stored.Count);
        Assert.Equal(3, stored.Select(e => e.EventId).Distinct().Count());
    }

    [Fact]
    public async Task An_append_reports_the_first_position_it_wrote_and_a_retry_that_it_wrote_nothing()
    {
        var stream = NewStream();
        var batch = new[] { Event(1), Event(2), Event(3) };

        var written = await Store.AppendAsync(stream, ExpectedRevision.NoStream, batch);
        var single = await Store.AppendAsync(stream, ExpectedRevision.Exact(2), [Event(4)]);
        var retried = await Store.AppendAsync(stream, ExpectedRevision.NoStream, batch);

        var stored = await ReadStream(stream);
        Assert.False(written.AlreadyStored);
        Assert.Equal(stored[0].Position, written.FirstPosition);
        Assert.Equal(stored[2].Position, written.Position);
        Assert.False(single.AlreadyStored);
        Assert.Equal(single.Position, single.FirstPosition);
        Assert.True(retried.AlreadyStored);
        Assert.Equal(written.FirstPosition, retried.FirstPosition);
        Assert.Equal(written, retried);
        Assert.Equal(4, stored.Count);
    }

    [Fact]
    public async Task Reappending_a_batch_that_only_partly_overlaps_stored_events_fails_and_writes_nothing()
    {
        var stream = NewStream();
        var a = Event(1);
        var b = Event(2);
        await Store.AppendAsync(stream, ExpectedRevision.NoStream, [a, b]);

        await Assert.ThrowsAsync<WrongExpectedVersionException>(
            () => Store.AppendAsync(stream, ExpectedRevision.Exact(1), [b, Event(3)]));
        await Assert.ThrowsAsync<WrongExpectedVersionException>(
            () => Store.AppendAsync(stream, ExpectedRevision.Any, [Event(4), a]));
        await Assert.ThrowsAsync<WrongExpectedVersionException>(
            () => Store.AppendAsync(stream, ExpectedRevision.Any, [b, a])); // same ids, other order

        Assert.Equal([a.EventId, b.EventId], (await ReadStream(stream)).Select(e => e.EventId));
    }

    [Fact]
    public async Task Appending_an_event_id_stored_in_another_stream_fails()
    {
        var e = Event(1);
        var other = NewStream();
        await Store.AppendAsync(other, ExpectedRevision.NoStream, [e]);
        var stream = NewStream();

        await Assert.ThrowsAsync<WrongExpectedVersionException>(
            () => Store.AppendAsync(stream, ExpectedRevision.NoStream, [e]));

        Assert.Empty(await ReadStream(stream));
    }

    [Fact]
    public async Task Appending_data_that_is_not_json_is_rejected_and_writes_nothing()
    {
        var stream = NewStream();
        var bad = Event(2) with { Data = "not json"u8.ToArray() };

        var ex = await Assert.ThrowsAnyAsync<Exception>(
            () => Store.AppendAsync(stream, ExpectedRevision.Any, [Event(1), bad]));

        Assert.IsNotType<EventStoreUnavailableException>(ex);
        Assert.IsNotType<WrongExpectedVersionException>(ex);
        Assert.Empty(await ReadStream(stream));
        Assert.Equal(0, (await Store.AppendAsync(stream, ExpectedRevision.NoStream, [Event(3)])).NextExpectedRevision);
    }

    // ---- reads ----

    [Fact]
    public async Task ReadStream_reads_forward_from_the_given_revision()
    {
        var stream = NewStream();
        var events = Enumerable.Range(0, 5).Select(Event).ToArray();
        await Store.AppendAsync(stream, ExpectedRevision.NoStream, events);
        await Store.AppendAsync(NewStream(), ExpectedRevision.NoStream, [Event(99)]);

        var fromTwo = await ReadStream(stream, 2);

        Assert.Equal([2L, 3L, 4L], fromTwo.Select(e => e.StreamRevision));
        Assert.Equal(events[2..].Select(e => e.EventId), fromTwo.Select(e => e.EventId));
        Assert.Empty(await ReadStream(stream, 5));
    }

    [Fact]
    public async Task ReadStream_of_an_absent_stream_yields_nothing()
    {
        Assert.Empty(await ReadStream(NewStream()));
    }

    [Fact]
    public async Task ReadAll_reads_after_a_position_in_global_order_at_most_maxCount_events()
    {
        var before = await Store.GetHeadPositionAsync();
        var s1 = NewStream();
        var s2 = NewStream();
        var e = Enumerable.Range(0, 5).Select(Event).ToArray();
        await Store.AppendAsync(s1, ExpectedRevision.NoStream, [e[0], e[1]]);
        await Store.AppendAsync(s2, ExpectedRevision.NoStream, [e[2]]);
        await Store.AppendAsync(s1, ExpectedRevision.Exact(1), [e[3], e[4]]);

        var firstPage = await ReadAll(before, 3);
        var secondPage = await ReadAll(firstPage[^1].Position, 10);

        Assert.Equal([e[0].EventId, e[1].EventId, e[2].EventId], firstPage.Select(x => x.EventId));
        Assert.Equal([e[3].EventId, e[4].EventId], secondPage.Select(x => x.EventId));
        var all = firstPage.Concat(secondPage).ToList();
        Assert.True(all[0].Position > before);
        AssertStrictlyIncreasing(all.Select(x => x.Position));
        Assert.Equal([s1, s1, s2, s1, s1], all.Select(x => x.StreamId));
        Assert.Equal([0L, 1L, 0L, 2L, 3L], all.Select(x => x.StreamRevision));
        Assert.Empty(await ReadAll(all[^1].Position, 10));
        Assert.Empty(await ReadAll(before, 0));
    }

    [Fact]
    public async Task Metadata_round_trips()
    {
        var stream = NewStream();
        var metadata = new EventMetadata(
            "agent:张三",
            Guid.NewGuid(),
            Guid.NewGuid(),
            new DateTimeOffset(2025, 3, 14, 9, 26, 53, TimeSpan.FromHours(8)).AddTicks(5_897_932));
        var withoutOptional = new EventMetadata(null, null, null, DateTimeOffset.UnixEpoch);
        await Store.AppendAsync(stream, ExpectedRevision.NoStream,
            [Event(1) with { Metadata = metadata }, Event(2) with { Metadata = withoutOptional }]);

        var stored = await ReadStream(stream);

        Assert.Equal(metadata, stored[0].Metadata);
        Assert.Equal(metadata.Timestamp.Offset, stored[0].Metadata.Timestamp.Offset);
        Assert.Equal(withoutOptional, stored[1].Metadata);
    }

    [Fact]
    public async Task Head_position_is_0_on_an_empty_log_and_then_the_position_of_the_last_append()
    {
        var empty = await CreateEmptyStoreAsync();
        try
        {
            Assert.Equal(0, await empty.GetHeadPositionAsync());
            Assert.Empty(await empty.ReadAllAsync(0, 10).ToListAsync());

            var first = await empty.AppendAsync(NewStream(), ExpectedRevision.NoStream, [Event(1), Event(2)]);
            Assert.Equal(first.Position, await empty.GetHeadPositionAsync());
            var second = await empty.AppendAsync(NewStream(), ExpectedRevision.NoStream, [Event(3)]);
            Assert.Equal(second.Position, await empty.GetHeadPositionAsync());
            Assert.True(second.Position > first.Position);
        }
        finally
        {
            await DisposeStoreAsync(empty);
        }
    }

    [Fact]
    public async Task Ping_answers_true_when_the_database_answers()
    {
        Assert.True(await Store.PingAsync());
    }

    // ---- subscriptions ----

    [Fact]
    public async Task Catch_up_subscription_from_0_sees_the_history_then_live_events_in_order()
    {
        var stream = NewStream();
        var history = Enumerable.Range(0, 3).Select(Event).ToArray();
        var live = Enumerable.Range(3, 3).Select(Event).ToArray();
        await Store.AppendAsync(stream, ExpectedRevision.NoStream, history);
        await using var subscription = Subscribe(0);

        var seenHistory = await subscription.TakeAsync(3, e => e.StreamId == stream);
        await Store.AppendAsync(stream, ExpectedRevision.Exact(2), [live[0]]);
        await Store.AppendAsync(stream, ExpectedRevision.Exact(3), [live[1], live[2]]);
        var seenLive = await subscription.TakeAsync(3, e => e.StreamId == stream);

        Assert.Equal(history.Select(e => e.EventId), seenHistory.Select(e => e.EventId));
        Assert.Equal(live.Select(e => e.EventId), seenLive.Select(e => e.EventId));
        AssertStrictlyIncreasing(subscription.All.Select(e => e.Position));
        Assert.Equal(subscription.All.Count, subscription.All.Select(e => e.Position).Distinct().Count());
    }

    [Fact]
    public async Task Subscription_from_a_mid_position_starts_right_after_it()
    {
        var stream = NewStream();
        var events = Enumerable.Range(0, 4).Select(Event).ToArray();
        await Store.AppendAsync(stream, ExpectedRevision.NoStream, events[..2]);
        var mid = await Store.AppendAsync(stream, ExpectedRevision.Exact(1), events[2..3]);
        await Store.AppendAsync(stream, ExpectedRevision.Exact(2), events[3..]);
        var afterSecond = (await ReadStream(stream))[1].Position;
        await using var subscription = Subscribe(afterSecond);

        var first = await subscription.TakeAsync(2, _ => true);
        var liveEvent = Event(5);
        var appended = await Store.AppendAsync(stream, ExpectedRevision.Exact(3), [liveEvent]);
        var next = await subscription.TakeAsync(1, _ => true);

        Assert.Equal([events[2].EventId, events[3].EventId], first.Select(e => e.EventId));
        Assert.Equal(mid.Position, first[0].Position);
        Assert.Equal(liveEvent.EventId, next[0].EventId);
        Assert.Equal(appended.Position, next[0].Position);
    }

    [Fact]
    public async Task Cancelling_a_live_subscription_ends_it()
    {
        using var cts = new CancellationTokenSource();
        var subscription = Store.SubscribeToAllAsync(await Store.GetHeadPositionAsync(), cts.Token).GetAsyncEnumerator(cts.Token);
        var next = subscription.MoveNextAsync().AsTask();
        await Task.Delay(300);
        Assert.False(next.IsCompleted, "a live subscription at the head waits for new events");

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => next.WaitAsync(TimeSpan.FromSeconds(5)));
        await subscription.DisposeAsync();
    }

    // ---- concurrency ----

    [Fact]
    public async Task Concurrent_writers_to_one_stream_with_exact_revisions_lose_no_update()
    {
        const int writers = 8;
        const int appendsEach = 50;
        var stream = NewStream();
        var conflicts = 0;
        var written = new Guid[writers][];

        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            written[w] = new Guid[appendsEach];
            var expected = -1L;
            for (var i = 0; i < appendsEach; i++)
            {
                var e = Event(w * 1000 + i);
                written[w][i] = e.EventId;
                while (true)
                {
                    try
                    {
                        var revision = expected < 0 ? ExpectedRevision.NoStream : ExpectedRevision.Exact(expected);
                        expected = (await Store.AppendAsync(stream, revision, [e])).NextExpectedRevision;
                        break;
                    }
                    catch (WrongExpectedVersionException ex)
                    {
                        Interlocked.Increment(ref conflicts);
                        expected = ex.ActualRevision;
                    }
                }
            }
        })));

        var stored = await ReadStream(stream);
        Assert.Equal(writers * appendsEach, stored.Count);
        Assert.Equal(Enumerable.Range(0, writers * appendsEach).Select(i => (long)i), stored.Select(e => e.StreamRevision));
        Assert.Equal(written.SelectMany(ids => ids).Order(), stored.Select(e => e.EventId).Order());
        AssertStrictlyIncreasing(stored.Select(e => e.Position));
        foreach (var ids in written)
        {
            // Each writer's events keep its own order in the stream.
            var order = stored.Select(e => e.EventId).Where(ids.Contains).ToArray();
            Assert.Equal(ids, order);
        }
    }

    [Fact]
    public async Task A_subscriber_sees_every_event_of_concurrent_writers_exactly_once_in_position_order()
    {
        const int writers = 8;
        const int appendsEach = 40;
        var before = await Store.GetHeadPositionAsync();
        await using var subscription = Subscribe(before);
        var streams = Enumerable.Range(0, writers).Select(_ => NewStream()).ToArray();
        var ours = new HashSet<string>(streams);

        var written = await Task.WhenAll(streams.Select(stream => Task.Run(async () =>
        {
            var ids = new List<Guid>();
            for (var i = 0; i < appendsEach; i++)
            {
                // Mix single events and pairs.
                var batch = i % 4 == 0 ? new[] { Event(i), Event(i + 100) } : [Event(i)];
                await Store.AppendAsync(stream, ExpectedRevision.Any, batch);
                ids.AddRange(batch.Select(e => e.EventId));
            }

            return ids;
        })));

        var total = written.Sum(ids => ids.Count);
        var seen = await subscription.TakeAsync(total, e => ours.Contains(e.StreamId));
        await Task.Delay(300); // anything repeated or extra would arrive now

        Assert.Equal(total, subscription.All.Count(e => ours.Contains(e.StreamId)));
        Assert.Equal(written.SelectMany(ids => ids).Order(), seen.Select(e => e.EventId).Order());
        AssertStrictlyIncreasing(subscription.All.Select(e => e.Position));
        Assert.True(subscription.All[0].Position > before);
        foreach (var (stream, ids) in streams.Zip(written))
        {
            var inStream = seen.Where(e => e.StreamId == stream).ToList();
            Assert.Equal(ids, inStream.Select(e => e.EventId));
            Assert.Equal(Enumerable.Range(0, ids.Count).Select(i => (long)i), inStream.Select(e => e.StreamRevision));
        }

        Assert.Equal(await Store.GetHeadPositionAsync(), subscription.All[^1].Position);
    }

    // ---- helpers ----

    protected static string NewStream() => $"ticket-{Guid.NewGuid():N}";

    protected static EventData Event(int n) => new(
        Guid.NewGuid(),
        "V1.TestHappened",
        Encoding.UTF8.GetBytes($$$"""{"n":{{{n}}},"text":"市民来电 \"quoted\"","nested":{"ok":true,"list":[1,2.5,null]}}"""),
        new EventMetadata("agent:1001", Guid.NewGuid(), null, DateTimeOffset.UtcNow));

    protected async Task<List<RecordedEvent>> ReadStream(string stream, long from = 0)
    {
        using var cts = new CancellationTokenSource(Timeout);
        return await Store.ReadStreamAsync(stream, from, cts.Token).ToListAsync(cts.Token);
    }

    protected async Task<List<RecordedEvent>> ReadAll(long after, int max)
    {
        using var cts = new CancellationTokenSource(Timeout);
        return await Store.ReadAllAsync(after, max, cts.Token).ToListAsync(cts.Token);
    }

    protected Subscription Subscribe(long after) => new(Store, after);

    protected static Subscription Subscribe(IEventStore store, long after) => new(store, after);

    protected static void AssertStrictlyIncreasing(IEnumerable<long> positions)
    {
        var list = positions.ToList();
        for (var i = 1; i < list.Count; i++)
        {
            Assert.True(list[i] > list[i - 1], $"Position {list[i]} at index {i} does not follow {list[i - 1]}.");
        }
    }

    protected static void AssertSameJson(ReadOnlyMemory<byte> expected, ReadOnlyMemory<byte> actual) =>
        Assert.True(
            JsonNode.DeepEquals(JsonNode.Parse(expected.Span), JsonNode.Parse(actual.Span)),
            $"{Encoding.UTF8.GetString(expected.Span)} != {Encoding.UTF8.GetString(actual.Span)}");

    /// <summary>A running subscription that records everything it yields.</summary>
    protected sealed class Subscription : IAsyncDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly Channel<RecordedEvent> received = Channel.CreateUnbounded<RecordedEvent>();
        private readonly Task pump;

        public Subscription(IEventStore store, long after)
        {
            pump = Task.Run(async () =>
            {
                try
                {
                    await foreach (var e in store.SubscribeToAllAsync(after, stop.Token))
                    {
                        lock (all)
                        {
                            all.Add(e);
                        }

                        await received.Writer.WriteAsync(e);
                    }
                }
                finally
                {
                    received.Writer.TryComplete();
                }
            });
        }

        private readonly List<RecordedEvent> all = [];

        /// <summary>A snapshot of everything yielded so far, in order.</summary>
        public List<RecordedEvent> All
        {
            get
            {
                lock (all)
                {
                    return [.. all];
                }
            }
        }

        /// <summary>Waits for the next <paramref name="count"/> events that match <paramref name="filter"/> (others are skipped).</summary>
        public async Task<List<RecordedEvent>> TakeAsync(int count, Func<RecordedEvent, bool> filter)
        {
            using var cts = new CancellationTokenSource(Timeout);
            var taken = new List<RecordedEvent>();
            try
            {
                while (taken.Count < count)
                {
                    var e = await received.Reader.ReadAsync(cts.Token);
                    if (filter(e))
                    {
                        taken.Add(e);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"The subscription yielded {taken.Count} of {count} expected events within {Timeout}.");
            }
            catch (ChannelClosedException)
            {
                await pump; // surfaces the subscription's failure
                throw;
            }

            return taken;
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            try
            {
                await pump;
            }
            catch (OperationCanceledException)
            {
            }

            stop.Dispose();
        }
    }
}
