using Hotline.Domain.Tickets;
using Hotline.Server.Hosting;
using Hotline.Server.Reports;
using Hotline.Server.Tickets;
using Microsoft.Extensions.Options;
using Quartz;

namespace Hotline.Server.Jobs;

/// <summary>
/// 转回访: once a reply is accepted and the configured delay has passed, the callback task is created. Idempotent:
/// the decision looks at the ticket's own state, and a second run finds nothing left to do.
/// </summary>
[DisallowConcurrentExecution]
public sealed class CallbackSchedulingJob(TicketIndex index, TicketService tickets, IOptions<HotlineOptions> options, TimeProvider time, ILogger<CallbackSchedulingJob> logger) : IJob
{
    public static readonly JobKey Key = new("callback-scheduling", "tickets");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var due = time.GetUtcNow().AddMinutes(-options.Value.CallbackDelayMinutes);
        var ready = index.InState(TicketState.ReplyAccepted).Where(t => t.ReplyAcceptedAt <= due).ToList();
        var done = 0;
        foreach (var t in ready)
        {
            try
            {
                await tickets.ExecuteAsync(t.Id, t.Version, new ScheduleCallback("system"), $"schedule-callback:{t.Id:N}:{t.Version}", Guid.CreateVersion7(), cancellationToken);
                done++;
            }
            catch (Exception e) when (e is TicketService.VersionMismatchException or Domain.Common.InvalidTransitionException)
            {
                logger.LogDebug("Ticket {Number} changed meanwhile; the next run decides again", t.Number);
            }
        }
        context.Result = $"{done} callback task(s) created";
        if (done > 0) logger.LogInformation("Created {Count} callback task(s)", done);
    }
}

/// <summary>Monday 08:00 Asia/Shanghai: the weekly public-opinion workbook for the ISO week before. Re-running for the same week reuses the stored file.</summary>
[DisallowConcurrentExecution]
public sealed class WeeklyWorkbookJob(ReportService reports, TimeProvider time) : IJob
{
    public static readonly JobKey Key = new("weekly-workbook", "reports");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(Tickets.TimeZones.ToLocal(time.GetUtcNow()).DateTime);
        var monday = today.AddDays(-(((int)today.DayOfWeek + 6) % 7));
        var report = await reports.EnsureWeeklyAsync(monday.AddDays(-7), "system", cancellationToken);
        context.Result = $"{report.FileName} ({report.Status})";
    }
}

public static class JobsModule
{
    private static readonly (JobKey Job, TriggerKey Trigger)[] Schedule =
    [
        (CallbackSchedulingJob.Key, new TriggerKey("callback-scheduling-every", "tickets")),
        (WeeklyWorkbookJob.Key, new TriggerKey("weekly-workbook-monday-0800", "reports")),
    ];

    public static IHostApplicationBuilder AddHotlineJobs(this IHostApplicationBuilder builder)
    {
        var callbackSeconds = builder.Configuration.GetValue("Hotline:Jobs:CallbackSchedulingSeconds", 30);
        builder.AddQuartz(q =>
        {
            q.AddJob<CallbackSchedulingJob>(j => j.WithIdentity(CallbackSchedulingJob.Key));
            q.AddTrigger(t => t.ForJob(CallbackSchedulingJob.Key).WithIdentity(Schedule[0].Trigger)
                .StartNow()
                .WithSimpleSchedule(TimeSpan.FromSeconds(callbackSeconds)));
            q.AddJob<WeeklyWorkbookJob>(j => j.WithIdentity(WeeklyWorkbookJob.Key));
            q.AddTrigger(t => t.ForJob(WeeklyWorkbookJob.Key).WithIdentity(Schedule[1].Trigger)
                .WithCronSchedule("0 0 8 ? * MON", x => x.InTimeZone(Tickets.TimeZones.China)));
        });
        builder.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        return builder;
    }

    public static IEndpointRouteBuilder MapJobs(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/admin/jobs").WithTags("jobs").RequireAuthorization(p => p.RequireRole(Auth.Roles.Admin));
        group.MapGet("/", async (ISchedulerFactory factory, CancellationToken ct) =>
        {
            var scheduler = await factory.GetScheduler(ct);
            var rows = new List<object>();
            foreach (var (job, triggerKey) in Schedule)
            {
                var trigger = await scheduler.GetTrigger(triggerKey, ct);
                rows.Add(new { job = job.ToString(), trigger = triggerKey.ToString(), next = trigger?.NextFireTimeUtc, previous = trigger?.PreviousFireTimeUtc });
            }
            return rows;
        });
        group.MapPost("/{group}/{name}/trigger", async (string group, string name, ISchedulerFactory factory, CancellationToken ct) =>
        {
            var scheduler = await factory.GetScheduler(ct);
            var key = new JobKey(name, group);
            if (!await scheduler.Exists(key, ct)) return Results.Problem(statusCode: 404, title: "任务不存在");
            await scheduler.TriggerJob(key, new JobDataMap(), ct);
            return Results.Accepted();
        });
        return app;
    }
}
