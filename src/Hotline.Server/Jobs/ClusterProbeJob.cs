using Quartz;

namespace Hotline.Server.Jobs;

/// <summary>
/// 集群探针 (off unless Hotline:Jobs:ClusterProbeSeconds &gt; 0): every N seconds it runs for the configured time and
/// logs the node it ran on. It shows an operator (and the two-node test) that each firing runs once in the cluster
/// and that a firing cut off by a dying node is run again, recovering, by a surviving one.
/// </summary>
[DisallowConcurrentExecution]
public sealed class ClusterProbeJob(JobsOptions options, ILogger<ClusterProbeJob> logger) : IJob
{
    public static readonly JobKey Key = new("cluster-probe", "system");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var node = context.Scheduler.SchedulerInstanceId;
        logger.LogInformation("Cluster probe started on {Node} (fire {FireId}, recovering: {Recovering})", node, context.FireInstanceId, context.Recovering);
        await Task.Delay(options.ClusterProbeDurationMs, cancellationToken);
        context.Result = $"ran on {node}" + (context.Recovering ? " (recovered)" : "");
    }
}
