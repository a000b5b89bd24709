using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Hotline.EventStore.Sqlite;

/// <summary>
/// The embedded event store: one SQLite file in WAL mode with <c>synchronous=FULL</c>, so an
/// append returns only after its commit is in the fsynced WAL. Writers are serialized by an
/// in-process gate and, across processes, by <c>BEGIN IMMEDIATE</c> with a busy timeout; since
/// SQLite has a single writer, positions are handed out in commit order.
/// </summary>
public sealed class SqliteEventStore : IEventStore, IAsyncDisposable, IDisposable
{
    private const string Columns = "position, stream_id, stream_revision, event_id, type, data, metadata";
    private const int BusyTimeoutMs = 30_000;

    /// <summary>At most this many events go into one group commit (a request is never split).</summary>
    private const int MaxBatchEvents = 2_000;

    private readonly string connectionString;
    private readonly TimeProvider time;
    private readonly TimeSpan pollInterval;
    private readonly Channel<PendingAppend> queue = Channel.CreateUnbounded<PendingAppend>(new UnboundedChannelOptions { SingleReader = true });
    private volatile Thread? writerThread;
    private readonly AppendSignal appended = new();
    private SqliteConnection? writer;

    // Statements of the writer connection, compiled once per connection (the writer thread only).
    private readonly Dictionary<string, SqliteCommand> writerCommands = new(StringComparer.Ordinal);
    private volatile bool disposed;

    /// <param name="connectionString">A Microsoft.Data.Sqlite connection string (<c>Data Source=…</c>) or just a file path. In-memory databases are not supported.</param>
    /// <param name="time">Clock for the <c>created</c> column.</param>
    /// <param name="pollInterval">How often a live subscription looks for events appended by other processes (default 100 ms); appends in this process wake it at once.</param>
    public SqliteEventStore(string connectionString, TimeProvider? time = null, TimeSpan? pollInterval = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var builder = connectionString.Contains('=', StringComparison.Ordinal)
            ? new SqliteConnectionStringBuilder(connectionString)
            : new SqliteConnectionStringBuilder { DataSource = connectionString };
        if (builder.DataSource is "" or ":memory:" || builder.Mode == SqliteOpenMode.Memory)
        {
            throw new ArgumentException("The SQLite event store needs a file; in-memory databases are not supported.", nameof(connectionString));
        }

        builder.Mode = SqliteOpenMode.ReadWriteCreate;
        builder.Pooling = true;
        builder.DefaultTimeout = BusyTimeoutMs / 1000;
        this.connectionString = builder.ToString();
        this.time = time ?? TimeProvider.System;
        this.pollInterval = pollInterval ?? TimeSpan.FromMilliseconds(100);
    }

    public async Task<AppendResult> AppendAsync(string streamId, ExpectedRevision expected, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default)
    {
        AppendRules.ValidateBatch(streamId, events);
        ObjectDisposedException.ThrowIf(disposed, this);
        var request = new PendingAppend(streamId, expected, events, cancellationToken);
        EnsureWriting();
        ObjectDisposedException.ThrowIf(!queue.Writer.TryWrite(request), this);

        var result = await request.Completion.Task;
        EventStoreMetrics.WakeDelay.Record(Stopwatch.GetElapsedTime(request.Acknowledged).TotalMilliseconds, MetricTag);
        return result;
    }

    private void EnsureWriting()
    {
        if (writerThread is not null)
        {
            return;
        }

        lock (schemaLock)
        {
            if (writerThread is null)
            {
                var thread = new Thread(WriteLoop) { IsBackground = true, Name = "sqlite-event-writer" };
                thread.Start();
                writerThread = thread;
            }
        }
    }

    /// <summary>
    /// Group commit: one task takes every append waiting in the queue (up to <see cref="MaxBatchEvents"/> events)
    /// and runs them in one <c>BEGIN IMMEDIATE</c> transaction, each inside its own savepoint so a failing request
    /// (wrong expected revision, invalid JSON) is rolled back alone; one commit (one WAL fsync) acknowledges them all.
    /// Each request reads the stream inside the transaction, so it sees the requests before it.
    /// The loop runs on a thread of its own, not the thread pool: a group blocks in SQLite (statements, the fsync of
    /// its commit) for milliseconds, and on a small machine a pool thread blocked that long delays the requests.
    /// A group never waits to fill: it takes what queued while the previous group was committing.
    /// </summary>
    private void WriteLoop()
    {
        var batch = new List<PendingAppend>();
        while (WaitToRead())
        {
            batch.Clear();
            var eventCount = 0;
            while (eventCount < MaxBatchEvents && queue.Reader.TryRead(out var request))
            {
                if (request.CancellationToken.IsCancellationRequested)
                {
                    request.Completion.TrySetCanceled(request.CancellationToken);
                    continue;
                }

                batch.Add(request);
                eventCount += request.Events.Count;
            }

            if (batch.Count > 0)
            {
                try
                {
                    WriteBatch(batch);
                }
                catch (Exception e)
                {
                    // Not expected (WriteBatch handles database errors); fail the group rather than end the thread.
                    CloseWriter();
                    foreach (var request in batch)
                    {
                        request.Completion.TrySetException(e);
                    }
                }

                appended.Pulse();
            }
        }
    }

    /// <summary>Blocks the writer thread until an append is queued; false once the queue is completed and drained.</summary>
    private bool WaitToRead()
    {
        var waiting = queue.Reader.WaitToReadAsync(CancellationToken.None);
        return waiting.IsCompleted ? waiting.Result : waiting.AsTask().GetAwaiter().GetResult();
    }

    private static readonly KeyValuePair<string, object?> MetricTag = EventStoreMetrics.Store("sqlite");

    private void WriteBatch(List<PendingAppend> batch)
    {
        var outcomes = new (AppendResult? Result, Exception? Error)[batch.Count];
        var started = Stopwatch.GetTimestamp();
        var events = 0;
        foreach (var request in batch)
        {
            EventStoreMetrics.QueueWait.Record(Stopwatch.GetElapsedTime(request.Enqueued, started).TotalMilliseconds, MetricTag);
            events += request.Events.Count;
        }

        try
        {
            var connection = writer ??= OpenWriter();
            using (var tx = connection.BeginTransaction(deferred: false)) // BEGIN IMMEDIATE: takes the write lock now
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    var request = batch[i];
                    Cached(connection, tx, "SAVEPOINT append").ExecuteNonQuery();
                    try
                    {
                        outcomes[i] = (Append(connection, tx, request.StreamId, request.Expected, request.Events), null);
                        Cached(connection, tx, "RELEASE append").ExecuteNonQuery();
                    }
                    catch (Exception e) when (e is WrongExpectedVersionException or SqliteException or ArgumentException or FormatException)
                    {
                        Cached(connection, tx, "ROLLBACK TO append").ExecuteNonQuery();
                        Cached(connection, tx, "RELEASE append").ExecuteNonQuery();
                        outcomes[i] = (null, e);
                        if (e is WrongExpectedVersionException)
                        {
                            EventStoreMetrics.Conflicts.Add(1, MetricTag);
                        }
                    }
                }

                var committing = Stopwatch.GetTimestamp();
                tx.Commit();
                EventStoreMetrics.CommitDuration.Record(Stopwatch.GetElapsedTime(committing).TotalMilliseconds, MetricTag);
            }
        }
        catch (Exception e) when (e is SqliteException or InvalidOperationException or IOException)
        {
            // A failed commit (or a broken connection) fails the whole group; start afresh next time.
            CloseWriter();
            foreach (var request in batch)
            {
                request.Completion.TrySetException(e);
            }

            return;
        }

        EventStoreMetrics.GroupAppends.Record(batch.Count, MetricTag);
        EventStoreMetrics.GroupEvents.Record(events, MetricTag);
        EventStoreMetrics.GroupDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, MetricTag);
        var acknowledged = Stopwatch.GetTimestamp();
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Acknowledged = acknowledged;
            if (outcomes[i].Error is { } error)
            {
                batch[i].Completion.TrySetException(error);
            }
            else
            {
                batch[i].Completion.TrySetResult(outcomes[i].Result!);
            }
        }
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

    private AppendResult Append(SqliteConnection connection, SqliteTransaction tx, string streamId, ExpectedRevision expected, IReadOnlyList<EventData> events)
    {
        long current;
        var max = Cached(connection, tx, "SELECT MAX(stream_revision) FROM events WHERE stream_id = $s");
        max.Parameters["$s"].Value = streamId;
        current = max.ExecuteScalar() is long l ? l : -1;

        if (events.Count == 0)
        {
            AppendRules.CheckExpected(streamId, expected, current);
            return new AppendResult(current, current < 0 ? 0 : PositionOf(connection, tx, streamId, current));
        }

        var existing = new List<StoredEventId>();
        if (events.Count == 1)
        {
            var byId = Cached(connection, tx, "SELECT event_id, stream_id, stream_revision, position FROM events WHERE event_id = $e0");
            byId.Parameters["$e0"].Value = events[0].EventId.ToString("D");
            ReadStoredIds(byId, existing);
        }
        else
        {
            using var cmd = Command(connection, tx, "");
            var names = new string[events.Count];
            for (var i = 0; i < events.Count; i++)
            {
                names[i] = "$e" + i.ToString(CultureInfo.InvariantCulture);
                cmd.Parameters.AddWithValue(names[i], events[i].EventId.ToString("D"));
            }

            cmd.CommandText = $"SELECT event_id, stream_id, stream_revision, position FROM events WHERE event_id IN ({string.Join(", ", names)})";
            ReadStoredIds(cmd, existing);
        }

        if (AppendRules.CheckIdempotent(streamId, expected, current, events, existing) is { } original)
        {
            return original;
        }

        AppendRules.CheckExpected(streamId, expected, current);

        var created = time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
        var insert = Cached(connection, tx,
            "INSERT INTO events (stream_id, stream_revision, event_id, type, data, metadata, created) VALUES ($s, $r, $id, $type, $data, $meta, $created) RETURNING position");
        insert.Parameters["$s"].Value = streamId;
        insert.Parameters["$created"].Value = created;
        long revision = current, first = 0, position = 0;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            revision = current + 1 + i;
            insert.Parameters["$r"].Value = revision;
            insert.Parameters["$id"].Value = e.EventId.ToString("D");
            insert.Parameters["$type"].Value = e.Type;
            insert.Parameters["$data"].Value = EventStoreJson.DataToText(e.Data);
            insert.Parameters["$meta"].Value = EventStoreJson.SerializeMetadata(e.Metadata);
            position = (long)insert.ExecuteScalar()!;
            if (i == 0)
            {
                first = position;
            }
        }

        return new AppendResult(revision, position) { FirstPosition = first };
    }

    private static void ReadStoredIds(SqliteCommand cmd, List<StoredEventId> existing)
    {
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            existing.Add(new StoredEventId(Guid.Parse(reader.GetString(0)), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3)));
        }
    }

    /// <summary>
    /// A statement of the writer connection, compiled on first use and kept for the connection's life (parameters
    /// declared from the <c>$name</c>s in the text); only the writer thread calls this.
    /// </summary>
    private SqliteCommand Cached(SqliteConnection connection, SqliteTransaction tx, string sql)
    {
        if (!writerCommands.TryGetValue(sql, out var cmd))
        {
            cmd = Command(connection, tx, sql);
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(sql, @"\$[a-z0-9]+"))
            {
                if (!cmd.Parameters.Contains(m.Value))
                {
                    cmd.Parameters.AddWithValue(m.Value, DBNull.Value);
                }
            }

            writerCommands[sql] = cmd;
        }

        cmd.Transaction = tx;
        return cmd;
    }

    private void CloseWriter()
    {
        foreach (var cmd in writerCommands.Values)
        {
            cmd.Dispose();
        }

        writerCommands.Clear();
        writer?.Dispose();
        writer = null;
    }

    private static long PositionOf(SqliteConnection connection, SqliteTransaction tx, string streamId, long revision)
    {
        using var cmd = Command(connection, tx, "SELECT position FROM events WHERE stream_id = $s AND stream_revision = $r");
        cmd.Parameters.AddWithValue("$s", streamId);
        cmd.Parameters.AddWithValue("$r", revision);
        return (long)cmd.ExecuteScalar()!;
    }

    public IAsyncEnumerable<RecordedEvent> ReadStreamAsync(string streamId, long fromRevision = 0, CancellationToken cancellationToken = default) =>
        CatchUpSubscription.ReadStreamPaged(streamId, fromRevision, (from, ct) => ReadPageAsync(
            $"SELECT {Columns} FROM events WHERE stream_id = $s AND stream_revision >= $from ORDER BY stream_revision LIMIT $max",
            p => { p.AddWithValue("$s", streamId); p.AddWithValue("$from", from); },
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
            $"SELECT {Columns} FROM events WHERE position > $after ORDER BY position LIMIT $max",
            p => p.AddWithValue("$after", afterPosition),
            maxCount, cancellationToken);

    public async Task<long> GetHeadPositionAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, "SELECT COALESCE(MAX(position), 0) FROM events");
        return (long)(await cmd.ExecuteScalarAsync(cancellationToken))!;
    }

    public IAsyncEnumerable<RecordedEvent> SubscribeToAllAsync(long afterPosition, CancellationToken cancellationToken = default) =>
        CatchUpSubscription.RunAsync(afterPosition, ReadAllPageAsync, appended, pollInterval, cancellationToken);

    public async Task<bool> PingAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var cmd = Command(connection, null, "SELECT 1 FROM events LIMIT 1");
            await cmd.ExecuteScalarAsync(cancellationToken);
            return true;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    private async Task<List<RecordedEvent>> ReadPageAsync(string sql, Action<SqliteParameterCollection> bind, int maxCount, CancellationToken cancellationToken)
    {
        var page = new List<RecordedEvent>();
        if (maxCount == 0)
        {
            return page;
        }

        await using var connection = await OpenAsync(cancellationToken);
        await using var cmd = Command(connection, null, sql);
        bind(cmd.Parameters);
        cmd.Parameters.AddWithValue("$max", maxCount);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            page.Add(new RecordedEvent(
                StreamId: reader.GetString(1),
                StreamRevision: reader.GetInt64(2),
                Position: reader.GetInt64(0),
                EventId: Guid.Parse(reader.GetString(3)),
                Type: reader.GetString(4),
                Data: EventStoreJson.TextToData(reader.GetString(5)),
                Metadata: EventStoreJson.DeserializeMetadata(reader.GetString(6))));
        }

        return page;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        EnsureSchema();
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            Configure(connection);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private volatile bool schemaReady;
    private readonly Lock schemaLock = new();

    private void EnsureSchema()
    {
        if (schemaReady)
        {
            return;
        }

        lock (schemaLock)
        {
            if (schemaReady)
            {
                return;
            }

            using var connection = new SqliteConnection(connectionString);
            connection.Open();
            Configure(connection);
            using (var wal = Command(connection, null, "PRAGMA journal_mode=WAL"))
            {
                var mode = wal.ExecuteScalar() as string;
                if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException($"Could not switch the SQLite event store to WAL mode (got '{mode}').");
                }
            }

            using (var tx = connection.BeginTransaction(deferred: false))
            {
                using var cmd = Command(connection, tx, """
                    CREATE TABLE IF NOT EXISTS events (
                        position        INTEGER PRIMARY KEY AUTOINCREMENT,
                        stream_id       TEXT    NOT NULL,
                        stream_revision INTEGER NOT NULL,
                        event_id        TEXT    NOT NULL UNIQUE,
                        type            TEXT    NOT NULL,
                        data            TEXT    NOT NULL CHECK (json_valid(data)),
                        metadata        TEXT    NOT NULL CHECK (json_valid(metadata)),
                        created         TEXT    NOT NULL,
                        UNIQUE (stream_id, stream_revision)
                    );
                    """);
                cmd.ExecuteNonQuery();
                tx.Commit();
            }

            schemaReady = true;
        }
    }

    private SqliteConnection OpenWriter()
    {
        EnsureSchema();
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        Configure(connection);
        return connection;
    }

    private static void Configure(SqliteConnection connection)
    {
        using var cmd = Command(connection, null,
            $"PRAGMA busy_timeout = {BusyTimeoutMs.ToString(CultureInfo.InvariantCulture)}; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
        cmd.ExecuteNonQuery();
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? tx, string sql)
    {
        var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.CommandTimeout = BusyTimeoutMs / 1000;
        return cmd;
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        // Appends already queued are still written; new ones are refused.
        disposed = true;
        queue.Writer.TryComplete();
        writerThread?.Join();
        if (writer is not null)
        {
            SqliteConnection.ClearPool(writer);
            CloseWriter();
        }
        else
        {
            using var connection = new SqliteConnection(connectionString);
            SqliteConnection.ClearPool(connection);
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
