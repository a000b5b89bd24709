using Hotline.Domain.Calendar;
using Hotline.Domain.Tickets;
using Hotline.Server.Calendar;
using Hotline.Server.Reference;
using Hotline.Server.Tickets;
using Quartz;

namespace Hotline.Server.Jobs;

/// <summary>Runs a chase rule over candidate tickets: load each from its stream, write the first due step, re-read, repeat.</summary>
public static class ChaseRunner
{
    public static async Task<int> RunAsync(IEnumerable<Ticket> candidates, TicketWriter writer, Func<Ticket, IReadOnlyList<ITicketEvent>, IReadOnlyList<ChaseStep>> plan, CancellationToken ct)
    {
        var written = 0;
        foreach (var candidate in candidates.ToList())
        {
            for (var round = 0; round < 8; round++)
            {
                ct.ThrowIfCancellationRequested();
                if (await writer.LoadAsync(candidate.Id, ct) is not { } loaded) break;
                var steps = plan(loaded.Ticket, loaded.History);
                if (steps.Count == 0 || !await writer.TryExecuteAsync(loaded.Ticket, steps[0].Command, steps[0].Key, ct)) break;
                written++;
            }
        }
        return written;
    }
}

/// <summary>签收催办: tasks not signed for near their limit get a 催办 (pushed and queued for SMS by the notification relay); past it, a yellow card.</summary>
[DisallowConcurrentExecution]
public sealed class SignForChaseJob(TicketIndex index, TicketWriter writer, CityReference city, JobsOptions options, TimeProvider time) : OfficeJob
{
    public static readonly JobKey Key = new("sign-for-chase", "tickets");

    public override async Task<string> RunAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var before = TimeSpan.FromMinutes(options.SignForUrgeMinutesBefore);
        var candidates = index.All.Where(t => t.IsOpen && t.Tasks.Any(x => x.State == TaskState.ToSign && now >= x.SignDueAt - before));
        var n = await ChaseRunner.RunAsync(candidates, writer, (t, h) => Chasing.SignFor(t, h, now, before, u => city.UnitOf(u)?.Name ?? u), ct);
        return $"{n} sign-for chase event(s)";
    }
}

/// <summary>超期督办: yellow warning → automatic 催办; overdue → 督办 yellow card; a configured number of working days later → red card.</summary>
[DisallowConcurrentExecution]
public sealed class OverdueChaseJob(TicketIndex index, TicketWriter writer, CityReference city, CalendarDeadlines calendar, WarningRule rule, JobsOptions options, TimeProvider time) : OfficeJob
{
    public static readonly JobKey Key = new("overdue-chase", "tickets");

    public override async Task<string> RunAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var warnings = new DeadlineWarnings(calendar.Calendar);
        bool Candidate(Ticket t) => t.IsOpen && t.Tasks.Any(x => x.IsOpen && warnings.Evaluate(new Deadline(x.ReplyDueAt, x.Provisional, ""), x.DispatchedAt, now, rule).Colour != WarningColour.Normal);
        var n = await ChaseRunner.RunAsync(index.All.Where(Candidate), writer,
            (t, h) => Chasing.Overdue(t, h, now, warnings, rule, options.RedCardAfterWorkingDays, u => city.UnitOf(u)?.Name ?? u), ct);
        return $"{n} overdue chase event(s)";
    }
}
