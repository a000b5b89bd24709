using Quartz;

namespace Hotline.Server.Jobs;

/// <summary>
/// Once the application has started (so it adds nothing to start-up time), after the scheduler has added the declared
/// triggers that were missing: a stored trigger whose schedule
/// differs from this node's configuration is rescheduled, and a stored job of ours that the configuration no longer
/// declares is deleted. Triggers that already match are left untouched, so a node joining the cluster never
/// disturbs a firing in progress.
/// </summary>
public sealed class JobScheduleReconciler(ISchedulerFactory factory, JobsOptions options, IHostApplicationLifetime lifetime, ILogger<JobScheduleReconciler> logger) : BackgroundService
{
    private static readonly string[] Groups = ["tickets", "reports", "calendar", "system"];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try { await started.Task; }
            catch (OperationCanceledException) { return; }
        }
        try
        {
            await ReconcileAsync(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Could not reconcile the job schedule with the configuration");
        }
    }

    public async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var scheduler = await factory.GetScheduler(cancellationToken);
        var definitions = JobsModule.Definitions(options);
        foreach (var d in definitions)
        {
            var stored = await scheduler.GetTrigger(d.Trigger, cancellationToken);
            var same = stored switch
            {
                ISimpleTrigger s => JobsModule.IntervalSeconds(d) is { } seconds && s.RepeatInterval == TimeSpan.FromSeconds(seconds),
                ICronTrigger c => JobsModule.CronOf(d) is { } cron && c.CronExpressionString == cron && c.TimeZone.Id == Tickets.TimeZones.China.Id,
                _ => false,
            };
            if (same) continue;
            var trigger = TriggerBuilder.Create().ForJob(d.Key).WithIdentity(d.Trigger).StartNow().WithSchedule(JobsModule.ScheduleOf(d)).Build();
            if (stored is null)
            {
                logger.LogWarning("Job {Job} has no stored trigger {Trigger}", d.Key, d.Trigger);
                continue;
            }
            await scheduler.RescheduleJob(d.Trigger, trigger, cancellationToken);
            logger.LogInformation("Job {Job} rescheduled: {Schedule}", d.Key, d.Schedule);
        }

        var declared = definitions.Select(d => d.Key).ToHashSet();
        foreach (var group in Groups)
        {
            foreach (var key in await scheduler.GetJobKeys(GroupMatcher<JobKey>.GroupEquals(group), cancellationToken))
            {
                if (declared.Contains(key)) continue;
                await scheduler.DeleteJob(key, cancellationToken);
                logger.LogInformation("Job {Job} is no longer configured; deleted", key);
            }
        }
    }

}
