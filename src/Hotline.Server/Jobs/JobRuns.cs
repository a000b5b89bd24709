using System.Collections.Concurrent;
using Npgsql;
using Quartz;

namespace Hotline.Server.Jobs;

/// <summary>One execution of a job: which firing, on which node, how long, and what it said.</summary>
public sealed record JobRun(
    string Job, string FireInstanceId, string Node, DateTimeOffset? ScheduledAt, DateTimeOffset StartedAt,
    double DurationMs, bool Succeeded, string? Result, bool Recovering);

/// <summary>Where job runs are recorded: in memory on the embedded profile, in a PostgreSQL table shared by the cluster in production.</summary>
public interface IJobRunLog
{
    Task RecordAsync(JobRun run, CancellationToken ct);

    /// <summary>The latest run of each job.</summary>
    Task<IReadOnlyDictionary<string, JobRun>> LatestAsync(CancellationToken ct);

    /// <summary>The latest runs of one job, newest first.</summary>
    Task<IReadOnlyList<JobRun>> RecentAsync(string job, int count, CancellationToken ct);
}

public sealed class InMemoryJobRunLog : IJobRunLog
{
    private const int Keep = 1000;
    private readonly ConcurrentQueue<JobRun> _runs = new();

    public Task RecordAsync(JobRun run, CancellationToken ct)
    {
        _runs.Enqueue(run);
        while (_runs.Count > Keep && _runs.TryDequeue(out _)) { }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyDictionary<string, JobRun>> LatestAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyDictionary<string, JobRun>>(_runs.GroupBy(r => r.Job).ToDictionary(g => g.Key, g => g.MaxBy(r => r.StartedAt)!));

    public Task<IReadOnlyList<JobRun>> RecentAsync(string job, int count, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<JobRun>>(_runs.Where(r => r.Job == job).OrderByDescending(r => r.StartedAt).Take(count).ToList());
}

/// <summary>The table <c>hotline_job_runs</c> next to Quartz's own tables: every node writes, any node reads.</summary>
public sealed class PostgresJobRunLog(string connectionString) : IJobRunLog, IDisposable
{
    public void Dispose() => _created.Dispose();

    public const string Table = "hotline_job_runs";

    public const string Schema = $"""
        CREATE TABLE IF NOT EXISTS {Table} (
            id bigserial PRIMARY KEY,
            job text NOT NULL,
            fire_instance_id text NOT NULL,
            node text NOT NULL,
            scheduled_at timestamptz NULL,
            started_at timestamptz NOT NULL,
            duration_ms double precision NOT NULL,
            succeeded boolean NOT NULL,
            result text NULL,
            recovering boolean NOT NULL);
        CREATE INDEX IF NOT EXISTS {Table}_job_started ON {Table} (job, started_at DESC);
        """;

    private readonly SemaphoreSlim _created = new(1, 1);
    private volatile bool _ready;

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        if (_ready) return connection;
        await _created.WaitAsync(ct);
        try
        {
            if (!_ready)
            {
                // Two nodes may race here at first start; a lock keeps CREATE … IF NOT EXISTS from colliding.
                await using var cmd = new NpgsqlCommand($"SELECT pg_advisory_xact_lock(734512); {Schema}", connection);
                await using var tx = await connection.BeginTransactionAsync(ct);
                cmd.Transaction = tx;
                await cmd.ExecuteNonQueryAsync(ct);
                await tx.CommitAsync(ct);
                _ready = true;
            }
        }
        finally { _created.Release(); }
        return connection;
    }

    public async Task RecordAsync(JobRun run, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(
            $"INSERT INTO {Table} (job, fire_instance_id, node, scheduled_at, started_at, duration_ms, succeeded, result, recovering) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", connection);
        cmd.Parameters.AddWithValue(run.Job);
        cmd.Parameters.AddWithValue(run.FireInstanceId);
        cmd.Parameters.AddWithValue(run.Node);
        cmd.Parameters.AddWithValue(run.ScheduledAt is { } s ? s.UtcDateTime : DBNull.Value);
        cmd.Parameters.AddWithValue(run.StartedAt.UtcDateTime);
        cmd.Parameters.AddWithValue(run.DurationMs);
        cmd.Parameters.AddWithValue(run.Succeeded);
        cmd.Parameters.AddWithValue(run.Result is null ? DBNull.Value : run.Result);
        cmd.Parameters.AddWithValue(run.Recovering);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<IReadOnlyDictionary<string, JobRun>> LatestAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var cmd = new NpgsqlCommand($"SELECT DISTINCT ON (job) {Columns} FROM {Table} ORDER BY job, started_at DESC", connection);
        return (await ReadAsync(cmd, ct)).ToDictionary(r => r.Job);
    }

    public async Task<IReadOnlyList<JobRun>> RecentAsync(string job, int count, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var cmd = new NpgsqlCommand($"SELECT {Columns} FROM {Table} WHERE job = $1 ORDER BY started_at DESC LIMIT $2", connection);
        cmd.Parameters.AddWithValue(job);
        cmd.Parameters.AddWithValue(count);
        return await ReadAsync(cmd, ct);
    }

    private const string Columns = "job, fire_instance_id, node, scheduled_at, started_at, duration_ms, succeeded, result, recovering";

    private static async Task<List<JobRun>> ReadAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var rows = new List<JobRun>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new JobRun(reader.GetString(0), reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero),
                new DateTimeOffset(reader.GetDateTime(4), TimeSpan.Zero), reader.GetDouble(5), reader.GetBoolean(6),
                reader.IsDBNull(7) ? null : reader.GetString(7), reader.GetBoolean(8)));
        }
        return rows;
    }
}

/// <summary>The job listener that records every run (result, duration, node) in the <see cref="IJobRunLog"/>.</summary>
public sealed class JobRunRecorder(IJobRunLog log, ILogger<JobRunRecorder> logger) : IJobListener
{
    public string Name => "hotline-job-runs";

    public async ValueTask JobWasExecuted(IJobExecutionContext context, JobExecutionException? jobException, CancellationToken cancellationToken = default)
    {
        var run = new JobRun(context.JobDetail.Key.ToString(), context.FireInstanceId, context.Scheduler.SchedulerInstanceId,
            context.ScheduledFireTimeUtc, context.FireTimeUtc, context.JobRunTime.TotalMilliseconds, jobException is null,
            jobException is null ? context.Result?.ToString() : jobException.Message, context.Recovering);
        try
        {
            await log.RecordAsync(run, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The run happened; losing its record must not fail the firing.
            logger.LogWarning(e, "Could not record the run of {Job}", run.Job);
        }
    }
}
