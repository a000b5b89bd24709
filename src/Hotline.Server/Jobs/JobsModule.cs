using Hotline.Domain.Calendar;
using Hotline.Server.Hosting;
using Hotline.Server.Outbox;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Quartz;

namespace Hotline.Server.Jobs;

/// <summary>One scheduled job: its key, class, trigger and what the admin page says about it.</summary>
public sealed record JobDefinition(JobKey Key, Type JobType, TriggerKey Trigger, string Schedule, string Description);

/// <summary>
/// Registers the office's Quartz jobs through DI with the hosted service. Embedded: in-memory store. Production
/// (Hotline:EventStore=Postgres): Quartz's ADO store on the same PostgreSQL, clustered, schema created by Quartz.
/// Misfire policy for every trigger: fire once now, then resume (catch up once, not N times).
/// </summary>
public static class JobsModule
{
    public static IHostApplicationBuilder AddHotlineJobs(this IHostApplicationBuilder builder)
    {
        var jobs = JobsOptions.From(builder.Configuration);
        var hotline = builder.Configuration.GetSection(HotlineOptions.Section).Get<HotlineOptions>() ?? new HotlineOptions();
        var store = string.IsNullOrEmpty(jobs.Store) ? (hotline.EventStore.Equals("postgres", StringComparison.OrdinalIgnoreCase) ? "Postgres" : "InMemory") : jobs.Store;
        var clustered = store.Equals("postgres", StringComparison.OrdinalIgnoreCase);
        if (!clustered && !store.Equals("inmemory", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"Hotline:Jobs:Store must be InMemory or Postgres, not '{store}'.");
        var postgres = clustered
            ? builder.Configuration.GetConnectionString("Postgres") ?? throw new InvalidOperationException("Hotline:Jobs:Store=Postgres needs ConnectionStrings:Postgres.")
            : null;

        builder.Services.AddSingleton(jobs);
        builder.Services.AddSingleton<IJobRunLog>(postgres is null ? new InMemoryJobRunLog() : new PostgresJobRunLog(postgres));
        builder.Services.AddSingleton<JobRunRecorder>();
        builder.Services.AddSingleton<TicketWriter>();
        builder.Services.TryAddSingleton(builder.Configuration.GetSection(WarningRule.SectionName).Get<WarningRule>() ?? WarningRule.Default);
        builder.Services.AddSingleton<DispatchAttention>();
        builder.Services.AddSingleton<ReadModelLag>();
        builder.Services.AddHotlineOutbox();
        // Declared triggers are added when missing and otherwise left alone: a node starting must not replace the trigger
        // another node is firing (that fires the same instant twice). A changed setting reaches the stored trigger
        // through JobScheduleReconciler, which reschedules only what differs.
        builder.Services.Configure<QuartzOptions>(o => o.Scheduling.IgnoreDuplicates = true);

        var definitions = Definitions(jobs);
        builder.AddQuartz(q =>
        {
            q.ConfigureScheduler(s => s.InstanceName = "hotline");
            q.UseDefaultThreadPool(jobs.MaxConcurrency);
            if (postgres is null)
            {
                q.UseInMemoryStore(s => s.MisfireThreshold = TimeSpan.FromSeconds(jobs.MisfireThresholdSeconds));
            }
            else
            {
                q.UsePersistentStore(s =>
                {
                    s.UsePostgres(postgres);
                    s.ProvisionSchema();
                    s.ConfigureStore(o => o.MisfireThreshold = TimeSpan.FromSeconds(jobs.MisfireThresholdSeconds));
                    s.UseClustering(c =>
                    {
                        c.CheckinInterval = TimeSpan.FromSeconds(jobs.ClusterCheckinSeconds);
                        c.CheckinMisfireThreshold = TimeSpan.FromSeconds(jobs.ClusterCheckinMisfireSeconds);
                    });
                });
            }

            q.AddJobListener(sp => sp.GetRequiredService<JobRunRecorder>(), [GroupMatcher<JobKey>.AnyGroup()]);
            foreach (var d in definitions) Register(q, d, jobs);
        });
        builder.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        builder.Services.AddHostedService<JobScheduleReconciler>();
        return builder;
    }

    /// <summary>Every job of the office, with its trigger. The single list the admin page, the README and the registration share.</summary>
    public static IReadOnlyList<JobDefinition> Definitions(JobsOptions o)
    {
        var list = new List<JobDefinition>
        {
            Every<CallbackSchedulingJob>(CallbackSchedulingJob.Key, o.CallbackSchedulingSeconds, "转回访：答复审核通过并过了等待时间后生成回访任务"),
            Every<AutoDispatchJob>(AutoDispatchJob.Key, o.AutoDispatchSeconds, "自动派单：等待超过设定时间且派单目录唯一、无人工暂缓的工单按目录派发；其余提醒派单员，并盯派单时限"),
            Every<SignForChaseJob>(SignForChaseJob.Key, o.SignForChaseSeconds, "签收催办：签收临期催办（推送+短信），超期黄牌督办"),
            Every<OverdueChaseJob>(OverdueChaseJob.Key, o.OverdueChaseSeconds, "超期督办：黄色预警自动催办，超期黄牌督办，再延误升红牌"),
            Every<RequestWindowsJob>(RequestWindowsJob.Key, o.RequestWindowsSeconds, "退回/延期申请：审核超时按默认决定处理并通知单位"),
            Every<CallbackRetryJob>(CallbackRetryJob.Key, o.CallbackRetrySeconds, "回访重拨：联系不上的在不同时段重拨，达到次数后按无法联系办结"),
            Every<Channels.ChannelResponseJob>(Channels.ChannelResponseJob.Key, Channels.ChannelResponseJob.IntervalSeconds, "渠道响应时限：短信未在时限内回执、来信未在时限内受理的草稿记超时事件并提醒"),
            Every<ReadModelLagJob>(ReadModelLagJob.Key, o.ReadModelLagSeconds, "读模型追赶：记录读模型落后全局日志的事件数与时间"),
            Cron<CalendarAlertJob>(CalendarAlertJob.Key, o.CalendarAlertCron, "节假日提醒：11月1日起每天提醒导入下一年节假日安排"),
            Cron<RecomputeDeadlinesJob>(RecomputeDeadlinesJob.Key, o.RecomputeDeadlinesCron, "重算临时时限：导入节假日安排后立即执行，每日补跑；临时时限按新日历重算并记入工单"),
            Cron<DailyBriefJob>(DailyBriefJob.Key, o.DailyBriefCron, "每日简报：前一日受理、派单、超期、督办概况，推送给领导"),
            Cron<WeeklyWorkbookJob>(WeeklyWorkbookJob.Key, o.WeeklyWorkbookCron, "周报：生成上一ISO周的民意分析工作簿并通知领导"),
        };
        if (o.ClusterProbeSeconds > 0)
            list.Add(Every<ClusterProbeJob>(ClusterProbeJob.Key, o.ClusterProbeSeconds, "集群探针：诊断用，证明每次触发只在一个节点执行、宕机节点的任务被接管"));
        return list;
    }

    private static JobDefinition Every<T>(JobKey key, int seconds, string description) where T : IJob =>
        new(key, typeof(T), new TriggerKey(key.Name + "-every", key.Group), $"every {seconds} s", description);

    private static JobDefinition Cron<T>(JobKey key, string cron, string description) where T : IJob =>
        new(key, typeof(T), new TriggerKey(key.Name + "-cron", key.Group), $"cron {cron} (Asia/Shanghai)", description);

    private static void Register(IQuartzBuilder q, JobDefinition d, JobsOptions o)
    {
        // RequestRecovery: a firing that was running on a node that died is run again by a surviving node.
        q.AddJob(d.JobType, j => j.WithIdentity(d.Key).StoreDurably().RequestRecovery().WithDescription(d.Description));
        q.AddTrigger(t => t.ForJob(d.Key).WithIdentity(d.Trigger).StartNow().WithSchedule(ScheduleOf(d)));
    }

    /// <summary>Interval seconds of an "every N s" definition, else null.</summary>
    public static int? IntervalSeconds(JobDefinition d) =>
        d.Schedule.StartsWith("every", StringComparison.Ordinal) ? int.Parse(d.Schedule.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>The cron expression of a "cron …" definition, else null.</summary>
    public static string? CronOf(JobDefinition d) =>
        d.Schedule.StartsWith("cron ", StringComparison.Ordinal) ? d.Schedule["cron ".Length..d.Schedule.IndexOf(" (", StringComparison.Ordinal)] : null;

    /// <summary>The schedule with the stated misfire policy: after downtime, fire once now and resume (catch up once, not N times).</summary>
    public static IScheduleBuilder ScheduleOf(JobDefinition d) => IntervalSeconds(d) is { } seconds
        ? SimpleScheduleBuilder.Create().WithInterval(TimeSpan.FromSeconds(seconds)).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NowWithExistingCount)
        : CronScheduleBuilder.Create(CronOf(d)!).InTimeZone(Tickets.TimeZones.China).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed);

    public sealed record JobRow(string Job, string Description, string Trigger, string Schedule, DateTimeOffset? Next, DateTimeOffset? Previous, string? TriggerState, JobRun? LastRun);

    public static IEndpointRouteBuilder MapJobs(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/admin/jobs").WithTags("jobs").RequireAuthorization(p => p.RequireRole(Auth.Roles.Admin));
        group.MapGet("/", async (ISchedulerFactory factory, JobsOptions options, IJobRunLog runs, CancellationToken ct) =>
        {
            var scheduler = await factory.GetScheduler(ct);
            var latest = await runs.LatestAsync(ct);
            var rows = new List<JobRow>();
            foreach (var d in Definitions(options))
            {
                var trigger = await scheduler.GetTrigger(d.Trigger, ct);
                var state = trigger is null ? null : (await scheduler.GetTriggerState(d.Trigger, ct)).ToString();
                rows.Add(new JobRow(d.Key.ToString(), d.Description, d.Trigger.ToString(), d.Schedule, trigger?.NextFireTimeUtc, trigger?.PreviousFireTimeUtc, state, latest.GetValueOrDefault(d.Key.ToString())));
            }
            return TypedResults.Ok(new { node = scheduler.SchedulerInstanceId, clustered = (await scheduler.GetMetadata(ct)).JobStoreClustered, jobs = rows });
        });
        group.MapGet("/{group}/{name}/runs", async (string group, string name, IJobRunLog runs, int? count, CancellationToken ct) =>
            TypedResults.Ok(await runs.RecentAsync(new JobKey(name, group).ToString(), Math.Clamp(count ?? 20, 1, 200), ct)));
        group.MapPost("/{group}/{name}/trigger", async (string group, string name, ISchedulerFactory factory, CancellationToken ct) =>
        {
            var scheduler = await factory.GetScheduler(ct);
            var key = new JobKey(name, group);
            if (!await scheduler.Exists(key, ct)) return Results.Problem(statusCode: 404, title: "任务不存在");
            await scheduler.TriggerJob(key, new JobDataMap(), ct);
            return Results.Accepted();
        });
        app.MapGet("/api/jobs/dispatch-attention", (DispatchAttention attention) => TypedResults.Ok(attention.Current))
            .WithTags("jobs").RequireAuthorization(p => p.RequireRole(Auth.Roles.Dispatcher, Auth.Roles.Admin));
        app.MapGet("/api/jobs/read-model-lag", (ReadModelLag lag) => TypedResults.Ok(lag.Current))
            .WithTags("jobs").RequireAuthorization(p => p.RequireRole(Auth.Roles.Admin));
        app.MapHotlineOutbox();
        return app;
    }
}
