using System.Diagnostics;
using System.IO;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
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

    /// <summary>At most this many events go into one group commit (a request is never split).</summary>
    private const int MaxBatchEvents = 2_000;

    /// <summary>
    /// Writer tasks, each with its own connection. Groups still commit one at a time (the append lock), but while one
    /// group's COMMIT waits for its fsync the next group is already collected and waiting for the lock on the server,
    /// so it starts the moment the lock is free instead of after a client round trip.
    /// </summary>
    private const int WriterCount = 2;

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
    private readonly Channel<PendingAppend> queue = System.Threading.Channels.Channel.CreateUnbounded<PendingAppend>(new UnboundedChannelOptions { SingleReader = false });
    private Task? listener;
    private volatile Task? writerTask; // all writer tasks
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
        var request = new PendingAppend(streamId, expected, events, cancellationToken);
        EnsureWriting();
        ObjectDisposedException.ThrowIf(!queue.Writer.TryWrite(request), this);

        var result = await request.Completion.Task;
        EventStoreMetrics.WakeDelay.Record(Stopwatch.GetElapsedTime(request.Acknowledged).TotalMilliseconds, MetricTag);
        return result;
    }

    /// <summary>Starts (once) the writer tasks that drain the append queue.</summary>
    private void EnsureWriting()
    {
        if (writerTask is not null)
        {
            return;
        }

        lock (listenerLock)
        {
            writerTask ??= Task.WhenAll(Enumerable.Range(0, WriterCount).Select(_ => Task.Run(WriteLoopAsync)));
        }
    }

    /// <summary>
    /// Group commit: a writer task takes every append waiting in the queue (up to <see cref="MaxBatchEvents"/> events),
    /// decides and writes them in one transaction under the append lock, and acknowledges them after its commit.
    /// </summary>
    private async Task WriteLoopAsync()
    {
        var carried = new List<PendingAppend>();
        var batch = new List<PendingAppend>();
        var eventCount = 0;
        while (carried.Count > 0 || await queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            batch.Clear();
            eventCount = 0;
            foreach (var request in carried)
            {
                Take(request);
            }

            carried.Clear();
            while (eventCount < MaxBatchEvents && queue.Reader.TryRead(out var request))
            {
                Take(request);
            }

            if (batch.Count == 0)
            {
                continue;
            }

            var deferred = await WriteBatchAsync(batch);
            if (deferred.Count > 0)
            {
                carried.AddRange(deferred);
            }

            appended.Pulse();
        }

        void Take(PendingAppend request)
        {
            if (request.CancellationToken.IsCancellationRequested)
            {
                request.Completion.TrySetCanceled(request.CancellationToken);
                return;
            }

            batch.Add(request);
            eventCount += request.Events.Count;
        }
    }

    /// <summary>
    /// Writes one group; completes every request in it except those returned (to go into the next group).
    /// When the group fails for a reason other than an outage (e.g. invalid JSON in one request), each request is
    /// retried in a transaction of its own so one bad request fails alone.
    /// </summary>
    private static readonly KeyValuePair<string, object?> MetricTag = EventStoreMetrics.Store("postgres");

    private async Task<List<PendingAppend>> WriteBatchAsync(List<PendingAppend> batch)
    {
        try
        {
            var started = Stopwatch.GetTimestamp();
            foreach (var request in batch)
            {
                EventStoreMetrics.QueueWait.Record(Stopwatch.GetElapsedTime(request.Enqueued, started).TotalMilliseconds, MetricTag);
            }

            var (outcomes, deferred) = await TryAppendInOneRoundTripAsync(batch, CancellationToken.None) is { } fast
                ? (fast, [])
                : await AppendGroupAsync(batch, CancellationToken.None);
            EventStoreMetrics.GroupAppends.Record(batch.Count - deferred.Count, MetricTag);
            EventStoreMetrics.GroupEvents.Record(outcomes.Sum(o => o.Request.Events.Count), MetricTag);
            EventStoreMetrics.GroupDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, MetricTag);
            foreach (var (request, outcome) in outcomes)
            {
                if (outcome.Error is WrongExpectedVersionException)
                {
                    EventStoreMetrics.Conflicts.Add(1, MetricTag);
                }

                request.Acknowledged = Stopwatch.GetTimestamp();
                outcome.Complete(request.Completion);
            }

            return deferred;
        }
        catch (Exception e) when (Unavailable.IsUnavailable(e))
        {
            var unavailable = new EventStoreUnavailableException($"The PostgreSQL event store is unavailable: {e.Message}", e);
            foreach (var request in batch)
            {
                request.Completion.TrySetException(unavailable);
            }
        }
        catch (Exception e) when (batch.Count == 1)
        {
            batch[0].Completion.TrySetException(e);
        }
        catch (Exception)
        {
            foreach (var request in batch)
            {
                await WriteBatchAsync([request]);
            }
        }

        return [];
    }

    /// <summary>What one request of a group ends with: a result or an exception.</summary>
    private readonly record struct Outcome(AppendResult? Result, Exception? Error)
    {
        public void Complete(TaskCompletionSource<AppendResult> completion)
        {
            if (Error is not null)
            {
                completion.TrySetException(Error);
            }
            else
            {
                completion.TrySetResult(Result!);
            }
        }
    }

    /// <summary>
    /// The common case in one round trip, commit included: every request of the group appends events and states
    /// its expectation consistently (each stream's later requests expect what the earlier ones leave). One pipelined
    /// batch without an explicit transaction, so PostgreSQL runs it as one implicit transaction committed at its end:
    /// the append lock, then one <c>INSERT … SELECT</c> that checks, under the lock and with a fresh snapshot, that
    /// every stream is where the group assumed and that no event id of the group is stored yet, and inserts all
    /// rows or none (revisions = the stream's head + 1 + offset), then NOTIFY. Returns null when the group is not of
    /// that shape or the check failed (nothing was written); the caller then decides request by request under the
    /// lock (<see cref="AppendGroupAsync"/>), which gives the exact outcome of each one.
    /// </summary>
    private async Task<List<(PendingAppend Request, Outcome Outcome)>?> TryAppendInOneRoundTripAsync(List<PendingAppend> group, CancellationToken cancellationToken)
    {
        // Per stream: the head the group assumes (null = not known: Any / StreamExists first), must it exist, and
        // the running offset of the next event within the group.
        var streams = new Dictionary<string, (long? Head, bool MustExist, long Offset)>(StringComparer.Ordinal);
        var ids = new HashSet<Guid>();
        var count = 0;
        foreach (var request in group)
        {
            if (request.Events.Count == 0)
            {
                return null;
            }

            foreach (var e in request.Events)
            {
                if (!ids.Add(e.EventId))
                {
                    return null;
                }
            }

            var expected = request.Expected.Value;
            if (!streams.TryGetValue(request.StreamId, out var stream))
            {
                stream = expected switch
                {
                    -1 => (null, false, 0),
                    -2 => (-1, false, 0),
                    -3 => (null, true, 0),
                    var exact => (exact, false, 0),
                };
            }
            else if (expected >= 0 || expected == -2)
            {
                // A later request on the same stream with an exact expectation: it must be what the earlier ones leave.
                var after = stream.Head is { } head ? head + stream.Offset : (long?)null;
                if (after is null || after != (expected == -2 ? -1 : expected))
                {
                    return null;
                }
            }

            streams[request.StreamId] = stream with { Offset = stream.Offset + request.Events.Count };
            count += request.Events.Count;
        }

        var streamIds = new string[count];
        var offsets = new long[count];
        var eventIds = new Guid[count];
        var types = new string[count];
        var data = new string[count];
        var metadata = new string[count];
        var running = new Dictionary<string, long>(StringComparer.Ordinal);
        var i = 0;
        foreach (var request in group)
        {
            var offset = running.GetValueOrDefault(request.StreamId);
            foreach (var e in request.Events)
            {
                streamIds[i] = request.StreamId;
                offsets[i] = offset++;
                eventIds[i] = e.EventId;
                types[i] = e.Type;
                data[i] = EventStoreJson.DataToText(e.Data);
                metadata[i] = EventStoreJson.SerializeMetadata(e.Metadata);
                i++;
            }

            running[request.StreamId] = offset;
        }

        var headStreams = streams.Keys.ToArray();
        var heads = headStreams.Select(s => streams[s].Head).ToArray();
        var mustExist = headStreams.Select(s => streams[s].MustExist).ToArray();

        var revisions = new long[count];
        var positions = new long[count];
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var batch = new NpgsqlBatch(connection))
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_advisory_xact_lock({AppendLockKey})"));
            var insert = new NpgsqlBatchCommand(
                """
                WITH heads AS (
                    SELECT h.s, h.expected, h.must_exist,
                           (SELECT max(e.stream_revision) FROM hotline_events e WHERE e.stream_id = h.s) AS actual
                    FROM unnest($8::text[], $9::bigint[], $10::boolean[]) AS h(s, expected, must_exist)
                ), ok AS (
                    SELECT NOT EXISTS (SELECT 1 FROM heads
                                       WHERE (expected IS NOT NULL AND COALESCE(actual, -1) <> expected)
                                          OR (must_exist AND actual IS NULL))
                       AND NOT EXISTS (SELECT 1 FROM hotline_events WHERE event_id = ANY($3)) AS ok
                )
                INSERT INTO hotline_events (stream_id, stream_revision, event_id, type, data, metadata, created)
                SELECT u.s, COALESCE(h.actual, -1) + 1 + u.k, u.id, u.t, u.d, u.m, $7
                FROM unnest($1::text[], $2::bigint[], $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[]) WITH ORDINALITY AS u(s, k, id, t, d, m, n)
                JOIN heads h ON h.s = u.s
                WHERE (SELECT ok FROM ok)
                ORDER BY u.n
                RETURNING event_id, stream_revision, position
                """);
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = streamIds });
            insert.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = offsets });
            insert.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = eventIds });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = types });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = data, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = metadata, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = time.GetUtcNow() });
            insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = headStreams });
            insert.Parameters.Add(new NpgsqlParameter<long?[]> { TypedValue = heads });
            insert.Parameters.Add(new NpgsqlParameter<bool[]> { TypedValue = mustExist });
            batch.BatchCommands.Add(insert);
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_notify('{Channel}', '')"));

            var index = new Dictionary<Guid, int>(count);
            for (var k = 0; k < count; k++)
            {
                index[eventIds[k]] = k;
            }

            var returned = 0;
            var committing = Stopwatch.GetTimestamp();
            await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
            {
                await reader.NextResultAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var k = index[reader.GetGuid(0)];
                    revisions[k] = reader.GetInt64(1);
                    positions[k] = reader.GetInt64(2);
                    returned++;
                }

                while (await reader.NextResultAsync(cancellationToken))
                {
                }
            }

            // The implicit transaction commits when the batch completes: the round trip is the commit.
            EventStoreMetrics.CommitDuration.Record(Stopwatch.GetElapsedTime(committing).TotalMilliseconds, MetricTag);
            if (returned == 0)
            {
                return null; // a stream moved or an id is stored: nothing written, decide each request under the lock
            }

            if (returned != count)
            {
                throw new InvalidOperationException($"The group append wrote {returned} of {count} events.");
            }
        }

        for (var k = 1; k < count; k++)
        {
            if (positions[k] <= positions[k - 1])
            {
                throw new InvalidOperationException("PostgreSQL handed out event positions out of order.");
            }
        }

        var outcomes = new List<(PendingAppend Request, Outcome Outcome)>(group.Count);
        i = 0;
        foreach (var request in group)
        {
            i += request.Events.Count;
            outcomes.Add((request, new Outcome(new AppendResult(revisions[i - 1], positions[i - 1]) { FirstPosition = positions[i - request.Events.Count] }, null)));
        }

        return outcomes;
    }

    private async Task<(List<(PendingAppend Request, Outcome Outcome)> Outcomes, List<PendingAppend> Deferred)> AppendGroupAsync(
        List<PendingAppend> group, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);

        // Round trip 1: the global append lock, then (each statement with a fresh snapshot under
        // READ COMMITTED, so it sees every append committed before we got the lock) the last revision
        // of every stream of the group and which of the group's event ids are already stored.
        var heads = new Dictionary<string, (long Revision, long Position)>(StringComparer.Ordinal);
        var stored = new Dictionary<Guid, StoredEventId>();
        await using (var batch = new NpgsqlBatch(connection, tx))
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_advisory_xact_lock({AppendLockKey})"));
            var revisions = new NpgsqlBatchCommand(
                "SELECT DISTINCT ON (stream_id) stream_id, stream_revision, position FROM hotline_events " +
                "WHERE stream_id = ANY($1) ORDER BY stream_id, stream_revision DESC");
            revisions.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = group.Select(r => r.StreamId).Distinct(StringComparer.Ordinal).ToArray() });
            batch.BatchCommands.Add(revisions);
            var ids = new NpgsqlBatchCommand(
                "SELECT event_id, stream_id, stream_revision, position FROM hotline_events WHERE event_id = ANY($1)");
            ids.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = group.SelectMany(r => r.Events).Select(e => e.EventId).ToArray() });
            batch.BatchCommands.Add(ids);

            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                heads[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = new StoredEventId(reader.GetGuid(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3));
                stored[id.EventId] = id;
            }
        }

        // Decide each request in queue order, as if each ran alone after the ones before it. A request whose
        // outcome depends on a position not known yet (an id or an empty append on a stream written earlier in
        // this group) waits for the next group.
        var outcomes = new List<(PendingAppend Request, Outcome Outcome)>(group.Count);
        var deferred = new List<PendingAppend>();
        var accepted = new List<(PendingAppend Request, long FirstRevision)>();
        var writtenIds = new HashSet<Guid>();
        var writtenStreams = new HashSet<string>(StringComparer.Ordinal);
        foreach (var request in group)
        {
            if (request.Events.Any(e => writtenIds.Contains(e.EventId)) || (request.Events.Count == 0 && writtenStreams.Contains(request.StreamId)))
            {
                deferred.Add(request);
                continue;
            }

            var (current, lastPosition) = heads.TryGetValue(request.StreamId, out var head) ? head : (-1L, 0L);
            try
            {
                if (request.Events.Count == 0)
                {
                    AppendRules.CheckExpected(request.StreamId, request.Expected, current);
                    outcomes.Add((request, new Outcome(new AppendResult(current, lastPosition), null)));
                    continue;
                }

                var existing = request.Events.Where(e => stored.ContainsKey(e.EventId)).Select(e => stored[e.EventId]).ToList();
                if (AppendRules.CheckIdempotent(request.StreamId, request.Expected, current, request.Events, existing) is { } original)
                {
                    outcomes.Add((request, new Outcome(original, null)));
                    continue;
                }

                AppendRules.CheckExpected(request.StreamId, request.Expected, current);
            }
            catch (WrongExpectedVersionException e)
            {
                outcomes.Add((request, new Outcome(null, e)));
                continue;
            }

            accepted.Add((request, current + 1));
            heads[request.StreamId] = (current + request.Events.Count, 0);
            writtenStreams.Add(request.StreamId);
            foreach (var e in request.Events)
            {
                writtenIds.Add(e.EventId);
            }
        }

        if (accepted.Count > 0)
        {
            // Round trip 2: one multi-row INSERT for the whole group (positions follow queue order, then batch
            // order), then NOTIFY, which PostgreSQL delivers only when the transaction commits.
            var count = accepted.Sum(a => a.Request.Events.Count);
            var streams = new string[count];
            var revisions = new long[count];
            var eventIds = new Guid[count];
            var types = new string[count];
            var data = new string[count];
            var metadata = new string[count];
            var i = 0;
            foreach (var (request, firstRevision) in accepted)
            {
                for (var j = 0; j < request.Events.Count; j++, i++)
                {
                    var e = request.Events[j];
                    streams[i] = request.StreamId;
                    revisions[i] = firstRevision + j;
                    eventIds[i] = e.EventId;
                    types[i] = e.Type;
                    data[i] = EventStoreJson.DataToText(e.Data);
                    metadata[i] = EventStoreJson.SerializeMetadata(e.Metadata);
                }
            }

            var positions = new long[count];
            await using (var batch = new NpgsqlBatch(connection, tx))
            {
                var insert = new NpgsqlBatchCommand(
                    "INSERT INTO hotline_events (stream_id, stream_revision, event_id, type, data, metadata, created) " +
                    "SELECT s, r, id, t, d, m, $7 FROM unnest($1::text[], $2::bigint[], $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[]) " +
                    "WITH ORDINALITY AS u(s, r, id, t, d, m, n) ORDER BY n RETURNING event_id, position");
                insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = streams });
                insert.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = revisions });
                insert.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = eventIds });
                insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = types });
                insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = data, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
                insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = metadata, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
                insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = time.GetUtcNow() });
                batch.BatchCommands.Add(insert);
                batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_notify('{Channel}', '')"));

                var index = new Dictionary<Guid, int>(count);
                for (var k = 0; k < count; k++)
                {
                    index[eventIds[k]] = k;
                }

                await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    positions[index[reader.GetGuid(0)]] = reader.GetInt64(1);
                }
            }

            // Positions must follow the order of the arrays (the ORDER BY above); a reader relies on it.
            for (var k = 1; k < count; k++)
            {
                if (positions[k] <= positions[k - 1])
                {
                    throw new InvalidOperationException("PostgreSQL handed out event positions out of order.");
                }
            }

            i = 0;
            foreach (var (request, firstRevision) in accepted)
            {
                i += request.Events.Count;
                outcomes.Add((request, new Outcome(new AppendResult(firstRevision + request.Events.Count - 1, positions[i - 1]) { FirstPosition = positions[i - request.Events.Count] }, null)));
            }
        }

        var committing = Stopwatch.GetTimestamp();
        await tx.CommitAsync(cancellationToken);
        EventStoreMetrics.CommitDuration.Record(Stopwatch.GetElapsedTime(committing).TotalMilliseconds, MetricTag);
        return (outcomes, deferred);
    }

    /// <summary>An append waiting for the writer task.</summary>
    private sealed class PendingAppend(string streamId, ExpectedRevision expected, IReadOnlyList<EventData> events, CancellationToken cancellationToken)
    {
        public string StreamId { get; } = streamId;
        public ExpectedRevision Expected { get; } = expected;
        public IReadOnlyList<EventData> Events { get; } = events;
        public CancellationToken CancellationToken { get; } = cancellationToken;
        public TaskCompletionSource<AppendResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public long Enqueued { get; } = Stopwatch.GetTimestamp();

        /// <summary>When the writer completed <see cref="Completion"/> (set just before it does).</summary>
        public long Acknowledged { get; set; }
    }

    public IAsyncEnumerable<RecordedEvent> ReadStreamAsync(string streamId, long fromRevision = 0, CancellationToken cancellationToken = default) =>
        CatchUpSubscription.ReadStreamPaged(streamId, fromRevision, (from, ct) => ReadPageAsync(
            $"SELECT {Columns} FROM hotline_events WHERE stream_id = $1 AND stream_revision >= $2 ORDER BY stream_revision LIMIT $3",
            p =>
            {
                p.Add(new NpgsqlParameter<string> { TypedValue = streamId });
                p.Add(new NpgsqlParameter<long> { TypedValue = from });
            },
            CatchUpSubscription.PageSize, ct), cancellationToken);

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
        // Appends already queued are still written; new ones are refused.
        queue.Writer.TryComplete();
        if (writerTask is { } writing)
        {
            await writing;
        }

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
