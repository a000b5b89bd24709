using System.Globalization;
using Hotline.Domain.Calendar;
using Hotline.Domain.Tickets;

namespace Hotline.Server.Jobs;

/// <summary>One thing a chase job should write now: the command and the key that names the decision (its idempotency key).</summary>
public sealed record ChaseStep(string Key, TicketCommand Command);

/// <summary>
/// The chase rules, pure: given a ticket, its events and the time, what is due now and not yet in the stream. Every
/// step is recognised in the history by its exact reason (which names the deadline it is about), so a step is written
/// once per deadline, however often or late the job runs, and again only if the deadline itself moved (extension,
/// rework) and is missed again.
/// </summary>
public static class Chasing
{
    public const string SignForNear = "签收临期";
    public const string SignForOverdue = "签收超时";
    public const string ReplyNear = "答复临期";
    public const string ReplyOverdue = "答复超期";
    public const string ReplyLong = "超期未办结";
    public const string DispatchOverdue = "派单超时";

    public static string Reason(string kind, string unitName, DateTimeOffset due) =>
        $"{kind}：{unitName}，时限 {ChinaTime.ToLocal(due).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)}";

    /// <summary>Sign-for: 催办 from <paramref name="urgeBefore"/> before the limit, yellow card once it has passed.</summary>
    public static IReadOnlyList<ChaseStep> SignFor(Ticket t, IReadOnlyList<ITicketEvent> history, DateTimeOffset now, TimeSpan urgeBefore, Func<string, string> unitName)
    {
        var steps = new List<ChaseStep>();
        if (!t.IsOpen) return steps;
        foreach (var task in t.Tasks.Where(x => x.State == TaskState.ToSign))
        {
            if (now > task.SignDueAt)
            {
                var reason = Reason(SignForOverdue, unitName(task.UnitId), task.SignDueAt);
                if (!Supervised(history, reason) && Rank(t) < SupervisionLevels.Rank(SupervisionLevels.Yellow))
                    steps.Add(new ChaseStep($"supervise:{t.Id:N}:{task.TaskId:N}:{reason}", new SuperviseTicket(task.TaskId, SupervisionLevels.Yellow, reason, true, SystemActor.Id)));
            }
            else if (now >= task.SignDueAt - urgeBefore)
            {
                var reason = Reason(SignForNear, unitName(task.UnitId), task.SignDueAt);
                if (!Urged(history, task.TaskId, reason))
                    steps.Add(new ChaseStep($"urge:{t.Id:N}:{task.TaskId:N}:{reason}", new UrgeTicket(task.TaskId, reason, true, SystemActor.Id)));
            }
        }
        return steps;
    }

    /// <summary>
    /// Reply deadline: 催办 when the warning turns yellow, 督办 yellow card once overdue, red card
    /// <paramref name="redAfterWorkingDays"/> working days after the deadline day.
    /// </summary>
    public static IReadOnlyList<ChaseStep> Overdue(Ticket t, IReadOnlyList<ITicketEvent> history, DateTimeOffset now, DeadlineWarnings warnings, WarningRule rule, int redAfterWorkingDays, Func<string, string> unitName)
    {
        var steps = new List<ChaseStep>();
        if (!t.IsOpen) return steps;
        foreach (var task in t.Tasks.Where(x => x.IsOpen && x.PendingExtension is null))
        {
            var status = warnings.Evaluate(new Deadline(task.ReplyDueAt, task.Provisional, ""), task.DispatchedAt, now, rule);
            var name = unitName(task.UnitId);
            if (status.Colour == WarningColour.Yellow)
            {
                var reason = Reason(ReplyNear, name, task.ReplyDueAt);
                if (!Urged(history, task.TaskId, reason))
                    steps.Add(new ChaseStep($"urge:{t.Id:N}:{task.TaskId:N}:{reason}", new UrgeTicket(task.TaskId, reason, true, SystemActor.Id)));
            }
            else if (status.Colour == WarningColour.Red)
            {
                var redAt = RedCardAt(warnings.Calendar, task.ReplyDueAt, redAfterWorkingDays);
                if (now > redAt)
                {
                    var reason = Reason(ReplyLong, name, task.ReplyDueAt);
                    if (!Supervised(history, reason) && Rank(t) < SupervisionLevels.Rank(SupervisionLevels.Red))
                        steps.Add(new ChaseStep($"supervise:{t.Id:N}:{task.TaskId:N}:{reason}", new SuperviseTicket(task.TaskId, SupervisionLevels.Red, reason, true, SystemActor.Id)));
                }
                else
                {
                    var reason = Reason(ReplyOverdue, name, task.ReplyDueAt);
                    if (!Supervised(history, reason) && Rank(t) < SupervisionLevels.Rank(SupervisionLevels.Yellow))
                        steps.Add(new ChaseStep($"supervise:{t.Id:N}:{task.TaskId:N}:{reason}", new SuperviseTicket(task.TaskId, SupervisionLevels.Yellow, reason, true, SystemActor.Id)));
                }
            }
        }
        return steps;
    }

    /// <summary>Dispatch deadline: once it has passed with the ticket still waiting, the dispatchers are urged (once per deadline).</summary>
    public static IReadOnlyList<ChaseStep> Dispatch(Ticket t, IReadOnlyList<ITicketEvent> history, DateTimeOffset now)
    {
        if (t.State != TicketState.Registered || now <= t.DispatchDueAt) return [];
        var reason = Reason(DispatchOverdue, "派单员", t.DispatchDueAt);
        return Urged(history, null, reason) ? [] : [new ChaseStep($"urge:{t.Id:N}:dispatch:{reason}", new UrgeTicket(null, reason, true, SystemActor.Id))];
    }

    /// <summary>24:00 of the n-th working day after the deadline's day (the deadline is 24:00 of its day, stored as 00:00 of the next).</summary>
    public static DateTimeOffset RedCardAt(WorkingCalendar calendar, DateTimeOffset replyDueAt, int workingDays) =>
        workingDays <= 0 ? replyDueAt : calendar.AddWorkingDays(replyDueAt.AddTicks(-1), workingDays).DueAt;

    private static int Rank(Ticket t) => t.Supervision is null ? -1 : SupervisionLevels.Rank(t.Supervision.Level);

    private static bool Urged(IReadOnlyList<ITicketEvent> history, Guid? taskId, string reason) =>
        history.OfType<TicketUrged>().Any(u => u.Automatic && u.TaskId == taskId && u.Reason == reason);

    private static bool Supervised(IReadOnlyList<ITicketEvent> history, string reason) =>
        history.Any(e => e is SupervisionStarted { Automatic: true } s && s.Reason == reason || e is SupervisionRaised { Automatic: true } r && r.Reason == reason);
}
