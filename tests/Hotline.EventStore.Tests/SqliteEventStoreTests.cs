using Hotline.EventStore.Sqlite;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Hotline.EventStore.Tests;

/// <summary>The conformance suite on a fresh SQLite file per test, plus what only SQLite has to show.</summary>
public sealed class SqliteEventStoreTests : EventStoreConformance
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "hotline-es-" + Guid.NewGuid().ToString("N")[..12]);

    private string NewFile() => Path.Combine(directory, $"events-{Guid.NewGuid():N}.db");

    protected override Task<IEventStore> CreateStoreAsync()
    {
        Directory.CreateDirectory(directory);
        return Task.FromResult<IEventStore>(new SqliteEventStore(Path.Combine(directory, "events.db"), pollInterval: TimeSpan.FromMilliseconds(50)));
    }

    protected override Task<IEventStore> CreateEmptyStoreAsync() =>
        Task.FromResult<IEventStore>(new SqliteEventStore($"Data Source={NewFile()}"));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Events_survive_disposing_and_reopening_the_store()
    {
        var file = NewFile();
        var stream = NewStream();
        var events = Enumerable.Range(0, 3).Select(Event).ToArray();
        AppendResult result;
        await using (var store = new SqliteEventStore(file))
        {
            result = await store.AppendAsync(stream, ExpectedRevision.NoStream, events);
        }

        await using (var reopened = new SqliteEventStore(file))
        {
            var stored = await reopened.ReadStreamAsync(stream).ToListAsync();
            Assert.Equal(events.Select(e => e.EventId), stored.Select(e => e.EventId));
            Assert.Equal(result.Position, await reopened.GetHeadPositionAsync());
            var next = await reopened.AppendAsync(stream, ExpectedRevision.Exact(2), [Event(4)]);
            Assert.Equal(result.Position + 1, next.Position);
        }
    }

    [Fact]
    public async Task The_file_is_in_WAL_mode()
    {
        var file = NewFile();
        await using (var store = new SqliteEventStore(file))
        {
            await store.AppendAsync(NewStream(), ExpectedRevision.NoStream, [Event(1)]);
        }

        await using var connection = new SqliteConnection($"Data Source={file};Pooling=False");
        await connection.OpenAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Two_store_instances_on_one_file_serialize_their_writers_and_see_each_other()
    {
        // Two instances have separate in-process gates and connections, like two processes:
        // only BEGIN IMMEDIATE and the busy timeout keep them apart.
        var file = NewFile();
        await using var a = new SqliteEventStore(file, pollInterval: TimeSpan.FromMilliseconds(50));
        await using var b = new SqliteEventStore(file, pollInterval: TimeSpan.FromMilliseconds(50));
        var stream = NewStream();
        await using var subscriptionOnB = Subscribe(b, 0);

        async Task Write(IEventStore store, int count)
        {
            var expected = -1L;
            for (var i = 0; i < count; i++)
            {
                var e = Event(i);
                while (true)
                {
                    try
                    {
                        expected = (await store.AppendAsync(stream, expected < 0 ? ExpectedRevision.NoStream : ExpectedRevision.Exact(expected), [e])).NextExpectedRevision;
                        break;
                    }
                    catch (WrongExpectedVersionException ex)
                    {
                        expected = ex.ActualRevision;
                    }
                }
            }
        }

        await Task.WhenAll(Task.Run(() => Write(a, 100)), Task.Run(() => Write(a, 100)), Task.Run(() => Write(b, 100)), Task.Run(() => Write(b, 100)));

        var stored = await a.ReadStreamAsync(stream).ToListAsync();
        Assert.Equal(Enumerable.Range(0, 400).Select(i => (long)i), stored.Select(e => e.StreamRevision));
        var seen = await subscriptionOnB.TakeAsync(400, _ => true);
        Assert.Equal(stored.Select(e => e.EventId), seen.Select(e => e.EventId));
        AssertStrictlyIncreasing(seen.Select(e => e.Position));
    }

    [Fact]
    public async Task A_subscriber_on_another_instance_is_woken_by_polling()
    {
        var file = NewFile();
        await using var writer = new SqliteEventStore(file);
        await using var reader = new SqliteEventStore(file, pollInterval: TimeSpan.FromMilliseconds(50));
        await using var subscription = Subscribe(reader, 0);
        await Task.Delay(200); // the subscription is now live and waiting

        var appended = await writer.AppendAsync(NewStream(), ExpectedRevision.NoStream, [Event(1)]);
        var seen = await subscription.TakeAsync(1, _ => true);

        Assert.Equal(appended.Position, seen[0].Position);
    }

    [Fact]
    public async Task An_append_wakes_a_subscriber_on_the_same_instance_long_before_its_poll_interval()
    {
        await using var store = new SqliteEventStore(NewFile(), pollInterval: TimeSpan.FromMinutes(5));
        await using var subscription = Subscribe(store, 0);
        await Task.Delay(300); // caught up and waiting at the head

        var started = System.Diagnostics.Stopwatch.StartNew();
        var appended = await store.AppendAsync(NewStream(), ExpectedRevision.NoStream, [Event(1)]);
        var seen = await subscription.TakeAsync(1, _ => true);

        Assert.Equal(appended.Position, seen[0].Position);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"woken after {started.Elapsed}");
    }

    [Fact]
    public void An_in_memory_database_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new SqliteEventStore("Data Source=:memory:"));
    }
}
