using System.Globalization;
using System.Text;
using Hotline.EventStore;
using Hotline.EventStore.Postgres;
using Hotline.EventStore.Sqlite;
using Hotline.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Hotline.Benchmarks;

/// <summary>
/// Event append with expected version: <see cref="Writers"/> concurrent writers, each appends one event at a time
/// to its own ticket-sized stream (10 events, then a new stream), with the exact expected revision, as the server's
/// commands do. The figure is committed events per second; the stores acknowledge only after a durable commit.
/// </summary>
internal static class AppendLoad
{
    public const int Writers = 32;
    public const int EventsPerStream = 10;

    public static TimeSpan Duration(BenchmarkContext context) => TimeSpan.FromSeconds(context.Quick ? 3 : 10);

    public static async Task<Measure.Figures> RunAsync(IEventStore store, BenchmarkContext context, int writers = Writers)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        return await Measure.ClosedLoopAsync(writers, Duration(context), async (writer, n) =>
        {
            var stream = $"ticket-{run}-{writer}-{n / EventsPerStream}";
            var revision = n % EventsPerStream;
            var expected = revision == 0 ? ExpectedRevision.NoStream : ExpectedRevision.Exact(revision - 1);
            await store.AppendAsync(stream, expected, [Event(n)]);
            return 1;
        }, warmUp: TimeSpan.FromSeconds(1));
    }

    private static readonly byte[] Payload = Encoding.UTF8.GetBytes(
        """{"number":"20261122-000001","channel":"电话","type":"投诉","urgency":"一般","categoryCode":"010201","areaCode":"010101","address":"湖滨路 88 号 3 栋","content":"小区物业长期不清理楼道垃圾，多次反映无果。"}""");

    private static EventData Event(long n) => new(
        Guid.NewGuid(), "V1.TicketRegistered", Payload,
        new EventMetadata("agent1", Guid.NewGuid(), null, DateTimeOffset.UtcNow.AddTicks(n)));
}

/// <summary>PostgreSQL append vs <c>pgbench</c> single-row INSERT (same server, same client count, same run).</summary>
public sealed class AppendPostgresBenchmark : IBenchmarkSuite
{
    public string Name => "append-postgres";

    public async Task<IReadOnlyList<BenchmarkResult>> RunAsync(BenchmarkContext context)
    {
        await using var server = await PostgresServer.StartNewAsync();
        var reference = await PgbenchAsync(server, context);
        context.Log.WriteLine($"  pgbench single-row INSERT, {AppendLoad.Writers} clients: {reference:N0} tps");

        var connectionString = await server.CreateDatabaseAsync("bench");
        await using var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 100 }.ConnectionString);
        await using var store = new PostgresEventStore(dataSource);
        await store.EnsureSchemaAsync();
        using var stats = new MeterStats(EventStoreMetrics.MeterName);
        var single = await AppendLoad.RunAsync(store, context, writers: 1);
        context.Log.WriteLine($"  1 writer: {single.PerSecond:N0} events/s, p99 {single.P99Ms:0.0} ms; {stats.GroupCommitSummary()}");
        stats.Reset();
        var figures = await AppendLoad.RunAsync(store, context);
        var profile = stats.GroupCommitSummary();
        context.Log.WriteLine($"  {AppendLoad.Writers} writers: {figures.PerSecond:N0} events/s, p50 {figures.P50Ms:0.0} ms, p99 {figures.P99Ms:0.0} ms, errors {figures.Errors}; {profile}");

        var ratio = figures.PerSecond / reference;
        return
        [
            new BenchmarkResult(
                $"event append with expected version, PostgreSQL ({AppendLoad.Writers} writers; 1 writer: {Measure.Rate(single.PerSecond, "/s")})",
                $"{Measure.Rate(figures.PerSecond, "events/s")}, p99 {Measure.Ms(figures.P99Ms)}{Errors(figures)} ({profile})",
                "≥ 5,000 events/s, ratio ≥ 0.5",
                $"pgbench INSERT {AppendLoad.Writers} clients: {Measure.Rate(reference, "tps")}",
                Measure.Ratio(figures.PerSecond, reference),
                figures.PerSecond >= 5_000 && ratio >= 0.5 && figures.Errors == 0),
        ];
    }

    internal static string Errors(Measure.Figures f) => f.Errors == 0 ? "" : $", {f.Errors} errors";

    /// <summary>Runs pgbench with a custom script of one single-row INSERT (autocommit) into a table shaped like the events table.</summary>
    private static async Task<double> PgbenchAsync(PostgresServer server, BenchmarkContext context)
    {
        var connectionString = await server.CreateDatabaseAsync("pgbench");
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var cmd = new NpgsqlCommand(
                "CREATE TABLE ref_events (position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, stream_id text NOT NULL, data jsonb NOT NULL)", connection);
            await cmd.ExecuteNonQueryAsync();
        }

        var script = Path.Combine(Path.GetTempPath(), $"pgbench-insert-{Guid.NewGuid():N}.sql");
        await File.WriteAllTextAsync(script,
            """
            \set s random(1, 1000000000)
            INSERT INTO ref_events (stream_id, data) VALUES ('ticket-' || :s, '{"content":"小区物业长期不清理楼道垃圾，多次反映无果。"}');
            """);
        try
        {
            var pgbench = Path.Combine(Path.GetDirectoryName(FindInitdb())!, "pgbench");
            var seconds = ((int)AppendLoad.Duration(context).TotalSeconds).ToString(CultureInfo.InvariantCulture);
            var result = await ProcessRunner.RunAsync(pgbench,
                ["-n", "-h", builder.Host!, "-p", builder.Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres",
                 "-c", AppendLoad.Writers.ToString(CultureInfo.InvariantCulture), "-j", "2", "-T", seconds, "-f", script, builder.Database!],
                null, TimeSpan.FromMinutes(2));
            var line = result.Output.Split('\n').FirstOrDefault(l => l.StartsWith("tps = ", StringComparison.Ordinal))
                ?? throw new InvalidOperationException("pgbench printed no tps:\n" + result.Output);
            return double.Parse(line["tps = ".Length..].Split(' ')[0], CultureInfo.InvariantCulture);
        }
        finally
        {
            File.Delete(script);
        }
    }

    private static string FindInitdb() =>
        Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin", "initdb")).Where(File.Exists).OrderDescending().First();
}

/// <summary>SQLite append vs raw single-row INSERT in WAL mode with synchronous=FULL (same disk, same run).</summary>
public sealed class AppendSqliteBenchmark : IBenchmarkSuite
{
    public string Name => "append-sqlite";

    public async Task<IReadOnlyList<BenchmarkResult>> RunAsync(BenchmarkContext context)
    {
        var dir = Directory.CreateTempSubdirectory("hotline-bench-sqlite-").FullName;
        try
        {
            double single;
            Measure.Figures figures;
            string profile;
            await using (var store = new SqliteEventStore(Path.Combine(dir, "events.db")))
            {
                using var stats = new MeterStats(EventStoreMetrics.MeterName);
                single = (await AppendLoad.RunAsync(store, context, writers: 1)).PerSecond;
                context.Log.WriteLine($"  1 writer: {single:N0} events/s; {stats.GroupCommitSummary()}");
                stats.Reset();
                figures = await AppendLoad.RunAsync(store, context);
                profile = stats.GroupCommitSummary();
                context.Log.WriteLine($"  {AppendLoad.Writers} writers: {figures.PerSecond:N0} events/s, p50 {figures.P50Ms:0.0} ms, p99 {figures.P99Ms:0.0} ms, errors {figures.Errors}; {profile}");
            }

            // After the store, on a file of its own, with the same 1 s warm-up (a fresh file's first commits are slower).
            var reference = RawInserts(Path.Combine(dir, "raw.db"), AppendLoad.Duration(context));
            context.Log.WriteLine($"  raw INSERT, WAL, synchronous=FULL, 1 connection: {reference:N0} rows/s");

            return
            [
                new BenchmarkResult(
                    $"event append with expected version, SQLite embedded ({AppendLoad.Writers} writers; 1 writer: {Measure.Rate(single, "/s")})",
                    $"{Measure.Rate(figures.PerSecond, "events/s")}, p99 {Measure.Ms(figures.P99Ms)}{AppendPostgresBenchmark.Errors(figures)} ({profile})",
                    "≥ 2,000 events/s",
                    $"raw INSERT (WAL, synchronous=FULL, one commit per row): {Measure.Rate(reference, "rows/s")}",
                    Measure.Ratio(figures.PerSecond, reference),
                    figures.PerSecond >= 2_000 && figures.Errors == 0),
            ];
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>One connection, one autocommitted single-row INSERT after another, prepared once: the disk's commit rate.</summary>
    private static double RawInserts(string path, TimeSpan duration)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=false");
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE ref_events (position INTEGER PRIMARY KEY AUTOINCREMENT, stream_id TEXT NOT NULL, data TEXT NOT NULL);";
            pragma.ExecuteNonQuery();
        }

        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO ref_events (stream_id, data) VALUES ($s, $d)";
        var s = insert.Parameters.Add("$s", SqliteType.Text);
        insert.Parameters.AddWithValue("$d", """{"content":"小区物业长期不清理楼道垃圾，多次反映无果。"}""");
        insert.Prepare();
        long n = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(1))
        {
            s.Value = "warm-up-" + n++.ToString(CultureInfo.InvariantCulture);
            insert.ExecuteNonQuery();
        }

        n = 0;
        clock.Restart();
        while (clock.Elapsed < duration)
        {
            s.Value = "ticket-" + n.ToString(CultureInfo.InvariantCulture);
            insert.ExecuteNonQuery();
            n++;
        }

        return n / clock.Elapsed.TotalSeconds;
    }
}
