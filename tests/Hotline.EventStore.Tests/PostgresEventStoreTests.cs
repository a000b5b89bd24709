using System.Net;
using System.Net.Sockets;
using Hotline.EventStore.Postgres;
using Hotline.Testing;
using Npgsql;
using Xunit;

namespace Hotline.EventStore.Tests;

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;

/// <summary>The conformance suite on a real PostgreSQL (one fresh database for the class), plus outage behaviour.</summary>
[Collection("postgres")]
public sealed class PostgresEventStoreTests(PostgresFixture postgres) : EventStoreConformance
{
    private static readonly SemaphoreSlim DatabaseGate = new(1, 1);
    private static string? database;

    protected override async Task<IEventStore> CreateStoreAsync()
    {
        await DatabaseGate.WaitAsync();
        try
        {
            database ??= await postgres.CreateDatabaseAsync("event_store_tests");
        }
        finally
        {
            DatabaseGate.Release();
        }

        var store = new PostgresEventStore(database, pollInterval: TimeSpan.FromMilliseconds(100));
        await store.EnsureSchemaAsync();
        return store;
    }

    protected override async Task<IEventStore> CreateEmptyStoreAsync() =>
        new PostgresEventStore(await postgres.CreateDatabaseAsync("event_store_empty"));

    [Fact]
    public async Task EnsureSchema_is_idempotent_and_safe_to_run_concurrently()
    {
        var connectionString = await postgres.CreateDatabaseAsync("event_store_schema");
        var stores = Enumerable.Range(0, 4).Select(_ => new PostgresEventStore(connectionString)).ToList();
        try
        {
            await Task.WhenAll(stores.Select(s => s.EnsureSchemaAsync()));
            await stores[0].EnsureSchemaAsync();
            Assert.Equal(0, await stores[0].GetHeadPositionAsync());
        }
        finally
        {
            foreach (var s in stores)
            {
                await s.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_server_that_does_not_answer_makes_ping_false_and_appends_throw_unavailable()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        await using var store = new PostgresEventStore($"Host=127.0.0.1;Port={port};Username=postgres;Timeout=2");

        Assert.False(await store.PingAsync());
        await Assert.ThrowsAsync<EventStoreUnavailableException>(
            () => store.AppendAsync(NewStream(), ExpectedRevision.Any, [Event(1)]));
        await Assert.ThrowsAsync<EventStoreUnavailableException>(
            () => store.GetHeadPositionAsync());
    }

    [Fact]
    public async Task An_outage_is_reported_as_unavailable_and_a_subscription_resumes_after_it()
    {
        if (postgres.Server.IsExternal)
        {
            return; // needs a server the tests can stop (xunit 2 has no dynamic skip)
        }

        var stream = NewStream();
        var before = await Store.AppendAsync(stream, ExpectedRevision.NoStream, [Event(1)]);
        await using var subscription = Subscribe(before.Position - 1);
        Assert.Equal(before.Position, (await subscription.TakeAsync(1, _ => true))[0].Position);

        await postgres.Server.StopAsync();
        try
        {
            Assert.False(await Store.PingAsync());
            await Assert.ThrowsAsync<EventStoreUnavailableException>(
                () => Store.AppendAsync(stream, ExpectedRevision.Exact(0), [Event(2)]));
            await Assert.ThrowsAsync<EventStoreUnavailableException>(
                () => Store.ReadStreamAsync(stream).ToListAsync().AsTask());
        }
        finally
        {
            await postgres.Server.StartAsync();
        }

        var after = await RetryAsync(() => Store.AppendAsync(stream, ExpectedRevision.Exact(0), [Event(3)]));
        Assert.True(await Store.PingAsync());
        var seen = await subscription.TakeAsync(1, _ => true);
        Assert.Equal(after.Position, seen[0].Position);
        Assert.Equal(1, seen[0].StreamRevision);
    }

    [Fact]
    public async Task NOTIFY_wakes_a_subscriber_on_another_store_instance_long_before_its_poll_interval()
    {
        var connectionString = database ?? throw new InvalidOperationException("no database");
        await using var reader = new PostgresEventStore(connectionString, pollInterval: TimeSpan.FromMinutes(5));
        await using var subscription = Subscribe(reader, await reader.GetHeadPositionAsync());
        await Task.Delay(500); // caught up, LISTEN in place, waiting at the head

        var started = System.Diagnostics.Stopwatch.StartNew();
        var appended = await Store.AppendAsync(NewStream(), ExpectedRevision.NoStream, [Event(1)]);
        var seen = await subscription.TakeAsync(1, _ => true);

        Assert.Equal(appended.Position, seen[0].Position);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"woken after {started.Elapsed}");
    }

    [Fact]
    public async Task Invalid_json_data_is_rejected_not_reported_as_unavailable()
    {
        var bad = Event(1) with { Data = "not json"u8.ToArray() };

        var ex = await Assert.ThrowsAsync<PostgresException>(
            () => Store.AppendAsync(NewStream(), ExpectedRevision.NoStream, [bad]));

        Assert.Equal("22P02", ex.SqlState);
    }

    private static async Task<T> RetryAsync<T>(Func<Task<T>> action)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await action();
            }
            catch (EventStoreUnavailableException) when (attempt < 20)
            {
                await Task.Delay(250);
            }
        }
    }
}
