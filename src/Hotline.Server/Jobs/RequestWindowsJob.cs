using Hotline.Domain.Calendar;
using Hotline.Domain.Tickets;
using Hotline.Server.Calendar;
using Hotline.Server.Tickets;
using Quartz;

namespace Hotline.Server.Jobs;

/// <summary>
/// 退回/延期申请时限: a return or extension request the office did not decide within the configured working days is
/// decided by the configured default ("approve" or "reject"), as the system; the unit is told by the notification relay.
/// </summary>
[DisallowConcurrentExecution]
public sealed class RequestWindowsJob(TicketIndex index, TicketWriter writer, CalendarDeadlines calendar, JobsOptions options, TimeProvider time) : OfficeJob
{
    public static readonly JobKey Key = new("request-windows", "tickets");

    public const string Comment = "审核超时，系统按默认决定处理";

    public static IReadOnlyList<ChaseStep> Plan(Ticket t, DateTimeOffset now, WorkingCalendar calendar, JobsOptions options)
    {
        var steps = new List<ChaseStep>();
        foreach (var task in t.Tasks)
        {
            if (task.PendingReturn is { } r && now > calendar.AddWorkingDays(r.At, options.ReturnDecisionWorkingDays).DueAt)
            {
                var approve = IsApprove(options.ReturnDefaultDecision);
                steps.Add(new ChaseStep($"return-default:{t.Id:N}:{task.TaskId:N}:{r.At.UtcTicks}", new DecideReturn(task.TaskId, approve, Comment, null, SystemActor.Id)));
            }
            if (task.PendingExtension is { } x && now > calendar.AddWorkingDays(x.At, options.ExtensionDecisionWorkingDays).DueAt)
            {
                var approve = IsApprove(options.ExtensionDefaultDecision);
                steps.Add(new ChaseStep($"extension-default:{t.Id:N}:{task.TaskId:N}:{x.At.UtcTicks}", new DecideExtension(task.TaskId, approve, null, Comment, null, SystemActor.Id)));
            }
        }
        return steps;
    }

    private static bool IsApprove(string decision) => decision.Trim().ToLowerInvariant() switch
    {
        "approve" => true,
        "reject" => false,
        _ => throw new InvalidOperationException($"Hotline:Jobs default decisions must be approve or reject, not '{decision}'."),
    };

    public override async Task<string> RunAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var candidates = index.All.Where(t => t.IsOpen && t.Tasks.Any(x => x.PendingReturn is not null || x.PendingExtension is not null));
        var n = await ChaseRunner.RunAsync(candidates, writer, (t, _) => Plan(t, now, calendar.Calendar, options), ct);
        return $"{n} request(s) decided by default";
    }
}
