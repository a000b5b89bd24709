using System.IO;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Npgsql;
using NpgsqlTypes;

namespace Hotline.EventStore.Postgres;

/// <summary>
/// The production event store on PostgreSQL: one table <c>hotline_events</c>. Every append
/// transaction takes one transaction-scoped advisory lock, so appends commit one at a time and
/// global positions are handed out in commit order: a catch-up reader that has seen position N
/// can never later find a committed event below N. Live subscribers are woken by
/// <c>NOTIFY hotline_events</c>, sent in the append transaction, with polling as the fallback.
/// </summary>
public sealed class PostgresEventStore : IEventStore, IAsyncDisposable
{
    /// <summary>The advisory lock key that serializes appends (arbitrary constant, "HOTLINE\0" as bytes).</summary>
    public const long AppendLockKey = 0x484F544C494E4500;

    /// <summary>The NOTIFY channel an append signals on after commit.</summary>
    public const string Channel = "hotline_events";

    private const long SchemaLockKey = 0x484F544C494E4501;
    private const string Columns = "position, stream_id, stream_revision, event_id, type, data::text, metadata::text";

    private readonly NpgsqlDataSource dataSource;
    private readonly bool ownsDataSource;
    private readonly TimeProvider time;
    private readonly TimeSpan pollInterval;
    private readonly AppendSignal appended = new();
    private readonly SemaphoreSlim schemaGate = new(1, 1);
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock listenerLock = new();
    private Task? listener;
    private volatile bool schemaReady;

    /// <param name="dataSource">The data source to use; the caller owns it.</param>
    /// <param name="time">Clock for the <c>created</c> column.</param>
    /// <param name="pollInterval">Fallback polling interval of live subscriptions (default 200 ms); NOTIFY wakes them earlier.</param>
    public PostgresEventStore(NpgsqlDataSource dataSource, TimeProvider? time = null, TimeSpan? pollInterval = null)
        : this(dataSource, ownsDataSource: false, time, pollInterval)
    {
    }

    /// <summary>Creates its own <see cref="NpgsqlDataSource"/> from <paramref name="connectionString"/> and disposes it with the store.</summary>
    public PostgresEventStore(string connectionString, TimeProvider? time = null, TimeSpan? pollInterval = null)
        : this(NpgsqlDataSource.Create(connectionString), ownsDataSource: true, time, pollInterval)
    {
    }

    private PostgresEventStore(NpgsqlDataSource dataSource, bool ownsDataSource, TimeProvider? time, TimeSpan? pollInterval)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        this.dataSource = dataSource;
        this.ownsDataSource = ownsDataSource;
        this.time = time ?? TimeProvider.System;
        this.pollInterval = pollInterval ?? TimeSpan.FromMilliseconds(200);
    }

    /// <summary>Creates the table if it does not exist (idempotent, safe to call concurrently from several hosts).</summary>
    public async Task EnsureSchemaAsync(CancellationToken cancellationToken = default)
    {
        if (schemaReady)
        {
            return;
        }

        await schemaGate.WaitAsync(cancellationToken);
        try
        {
            if (schemaReady)
            {
                return;
            }

            await Unavailable.MapAsync(async () =>
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                await using var tx = await connection.BeginTransactionAsync(cancellationToken);
                await using var cmd = new NpgsqlCommand(
                    $"""
                    SELECT pg_advisory_xact_lock({SchemaLockKey});
                    CREATE TABLE IF NOT EXISTS hotline_events (
                        position        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                        stream_id       text        NOT NULL,
                        stream_revision bigint      NOT NULL CHECK (stream_revision >= 0),
                        event_id        uuid        NOT NULL,
                        type            text        NOT NULL,
                        data            jsonb       NOT NULL,
                        metadata        jsonb       NOT NULL,
                        created         timestamptz NOT NULL,
                        CONSTRAINT hotline_events_event_id_key UNIQUE (event_id),
                        CONSTRAINT hotline_events_stream_revision_key UNIQUE (stream_id, stream_revision)
                    );
                    """, connection, tx);
                await cmd.ExecuteNonQueryAsync(cancellationToken);
                await tx.CommitAsync(cancellationToken);
                return 0;
            });
            schemaReady = true;
        }
        finally
        {
            schemaGate.Release();
        }
    }

    public async Task<AppendResult> AppendAsync(string streamId, ExpectedRevision expected, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default)
    {
        AppendRules.ValidateBatch(streamId, events);
        await EnsureSchemaAsync(cancellationToken);
        var result = await Unavailable.MapAsync(() => AppendCoreAsync(streamId, expected, events, cancellationToken));
        appended.Pulse();
        return result;
    }

    private async Task<AppendResult> AppendCoreAsync(string streamId, ExpectedRevision expected, IReadOnlyList<EventData> events, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);

        // Round trip 1: the global append lock, then (each statement with a fresh snapshot under
        // READ COMMITTED, so it sees every append committed before we got the lock) the stream's
        // revision and which ids of the batch are already stored.
        long current;
        var existing = new List<StoredEventId>();
        long lastPosition = 0;
        await using (var batch = new NpgsqlBatch(connection, tx))
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_advisory_xact_lock({AppendLockKey})"));
            var revision = new NpgsqlBatchCommand(
                "SELECT stream_revision, position FROM hotline_events WHERE stream_id = $1 ORDER BY stream_revision DESC LIMIT 1");
            revision.Parameters.Add(new NpgsqlParameter<string> { TypedValue = streamId });
            batch.BatchCommands.Add(revision);
            var ids = new NpgsqlBatchCommand(
                "SELECT event_id, stream_id, stream_revision, position FROM hotline_events WHERE event_id = ANY($1)");
            ids.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = events.Select(e => e.EventId).ToArray() });
            batch.BatchCommands.Add(ids);

            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                current = reader.GetInt64(0);
                lastPosition = reader.GetInt64(1);
            }
            else
            {
                current = -1;
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                existing.Add(new StoredEventId(reader.GetGuid(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3)));
            }
        }

        if (events.Count == 0)
        {
            AppendRules.CheckExpected(streamId, expected, current);
            return new AppendResult(current, lastPosition);
        }

        if (AppendRules.CheckIdempotent(streamId, expected, current, events, existing) is { } original)
        {
            return original;
        }

        AppendRules.CheckExpected(streamId, expected, current);

        // Round trip 2: one INSERT per event (so positions follow batch order), then NOTIFY,
        // which PostgreSQL delivers only when the transaction commits.
        var created = time.GetUtcNow();
        await using (var batch = new NpgsqlBatch(connection, tx))
        {
            for (var i = 0; i < events.Count; i++)
            {
                var e = events[i];
                var insert = new NpgsqlBatchCommand(
                    "INSERT INTO hotline_events (stream_id, stream_revision, event_id, type, data, metadata, created) " +
                    "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING position");
                insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = streamId });
                insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = current + 1 + i });
                insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = e.EventId });
                insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Type });
                insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = EventStoreJson.DataToText(e.Data), NpgsqlDbType = NpgsqlDbType.Jsonb });
                insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = EventStoreJson.SerializeMetadata(e.Metadata), NpgsqlDbType = NpgsqlDbType.Jsonb });
                insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = created });
                batch.BatchCommands.Add(insert);
            }

            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_notify('{Channel}', '')"));
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            for (var i = 0; i < events.Count; i++)
            {
                await reader.ReadAsync(cancellationToken);
                lastPosition = reader.GetInt64(0);
                await reader.NextResultAsync(cancellationToken);
            }
        }

        await tx.CommitAsync(cancellationToken);
        return new AppendResult(current + events.Count, lastPosition);
    }

    public async IAsyncEnumerable<RecordedEvent> ReadStreamAsync(string streamId, long fromRevision = 0, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(streamId);
        ArgumentOutOfRangeException.ThrowIfNegative(fromRevision);
        var next = fromRevision;
        while (true)
        {
            var from = next;
            var page = await ReadPageAsync(
                $"SELECT {Columns} FROM hotline_events WHERE stream_id = $1 AND stream_revision >= $2 ORDER BY stream_revision LIMIT $3",
                p =>
                {
                    p.Add(new NpgsqlParameter<string> { TypedValue = streamId });
                    p.Add(new NpgsqlParameter<long> { TypedValue = from });
                },
                CatchUpSubscription.PageSize, cancellationToken);
            foreach (var e in page)
            {
                yield return e;
            }

            if (page.Count < CatchUpSubscription.PageSize)
            {
                yield break;
            }

            next = page[^1].StreamRevision + 1;
        }
    }

    public async IAsyncEnumerable<RecordedEvent> ReadAllAsync(long afterPosition, int maxCount, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(afterPosition);
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        foreach (var e in await ReadAllPageAsync(afterPosition, maxCount, cancellationToken))
        {
            yield return e;
        }
    }

    private Task<List<RecordedEvent>> ReadAllPageAsync(long afterPosition, int maxCount, CancellationToken cancellationToken) =>
        ReadPageAsync(
            $"SELECT {Columns} FROM hotline_events WHERE position > $1 ORDER BY position LIMIT $2",
            p => p.Add(new NpgsqlParameter<long> { TypedValue = afterPosition }),
            maxCount, cancellationToken);

    public async Task<long> GetHeadPositionAsync(CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken);
        return await Unavailable.MapAsync(async () =>
        {
            await using var cmd = dataSource.CreateCommand("SELECT COALESCE(MAX(position), 0) FROM hotline_events");
            return (long)(await cmd.ExecuteScalarAsync(cancellationToken))!;
        });
    }

    public IAsyncEnumerable<RecordedEvent> SubscribeToAllAsync(long afterPosition, CancellationToken cancellationToken = default)
    {
        EnsureListening();
        return CatchUpSubscription.RunAsync(afterPosition, ReadAllPageAsync, appended, pollInterval, cancellationToken);
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await using var cmd = dataSource.CreateCommand("SELECT 1");
            await cmd.ExecuteScalarAsync(cancellationToken);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException or SocketException)
        {
            return false;
        }
    }

    private async Task<List<RecordedEvent>> ReadPageAsync(string sql, Action<NpgsqlParameterCollection> bind, int maxCount, CancellationToken cancellationToken)
    {
        if (maxCount == 0)
        {
            return [];
        }

        await EnsureSchemaAsync(cancellationToken);
        return await Unavailable.MapAsync(async () =>
        {
            var page = new List<RecordedEvent>();
            await using var cmd = dataSource.CreateCommand(sql);
            bind(cmd.Parameters);
            cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxCount });
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                page.Add(new RecordedEvent(
                    StreamId: reader.GetString(1),
                    StreamRevision: reader.GetInt64(2),
                    Position: reader.GetInt64(0),
                    EventId: reader.GetGuid(3),
                    Type: reader.GetString(4),
                    Data: EventStoreJson.TextToData(reader.GetString(5)),
                    Metadata: EventStoreJson.DeserializeMetadata(reader.GetString(6))));
            }

            return page;
        });
    }

    /// <summary>Starts (once) the background LISTEN that wakes this store's live subscriptions early.</summary>
    private void EnsureListening()
    {
        lock (listenerLock)
        {
            if (listener is null && !stopping.IsCancellationRequested)
            {
                listener = Task.Run(() => ListenAsync(stopping.Token));
            }
        }
    }

    private async Task ListenAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                connection.Notification += (_, _) => appended.Pulse();
                await using (var cmd = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await cmd.ExecuteNonQueryAsync(cancellationToken);
                }

                // Anything committed while we were not listening is found by the subscriptions' polling;
                // a pulse now shortens that wait.
                appended.Pulse();
                while (true)
                {
                    await connection.WaitAsync(cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or SocketException or TimeoutException or InvalidOperationException)
            {
                // Database down: polling keeps subscriptions going; try to listen again shortly.
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        Task? running;
        lock (listenerLock)
        {
            running = listener;
        }

        if (running is not null)
        {
            await running;
        }

        if (ownsDataSource)
        {
            await dataSource.DisposeAsync();
        }

        stopping.Dispose();
        schemaGate.Dispose();
    }
}
