using System.Globalization;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Calendar;
using Hotline.Server.Storage;
using Hotline.Server.Tickets;
using Quartz;

namespace Hotline.Server.Jobs;

/// <summary>
/// 重算临时时限: after a holiday notice is imported (the import endpoint triggers this job) and daily as a catch-up,
/// every open ticket with a provisional deadline gets <see cref="RecomputeDeadlines"/>; the decision writes
/// <see cref="DeadlinesRecomputed"/> only when a deadline moved or stopped being provisional, so re-runs write nothing.
/// Candidates come from the read model; each decision reads the ticket's stream and appends with the version it read
/// (a lost race is retried on a fresh read). The calendar is reloaded from the calendar stream first, so the node
/// that runs the job uses every imported year even if the import went to another node.
/// </summary>
[DisallowConcurrentExecution]
public sealed class RecomputeDeadlinesJob(
    CalendarDeadlines calendar, IEventStore store, EventSerializer serializer, TicketIndex index, TicketWriter writer, TicketContext context, TimeProvider time, ILogger<RecomputeDeadlinesJob> logger) : OfficeJob
{
    public static readonly JobKey Key = new("recompute-deadlines", "calendar");

    /// <summary>Attempts per ticket when other writes keep winning the race.</summary>
    public const int MaxAttempts = 5;

    /// <summary>Open tickets with a provisional deadline that still matters (the waiting dispatch, or an open task).</summary>
    public static bool HasProvisionalDeadline(Ticket t) =>
        t.IsOpen && ((t.State == TicketState.Registered && t.DispatchDueProvisional) || t.Tasks.Any(x => x.IsOpen && x.Provisional));

    public override async Task<string> RunAsync(CancellationToken ct)
    {
        await calendar.LoadAsync(store, serializer, ct);
        var years = string.Join("、", calendar.Schedule.Years.Select(y => y.ToString(CultureInfo.InvariantCulture)));
        var reason = $"工作日历更新后重算临时时限（已导入 {years} 年节假日安排）";
        var candidates = index.All.Where(HasProvisionalDeadline).Select(t => t.Id).ToList();
        int changed = 0, conflicts = 0;
        foreach (var id in candidates)
        {
            for (var attempt = 1; attempt <= MaxAttempts; attempt++)
            {
                ct.ThrowIfCancellationRequested();
                if (await writer.LoadAsync(id, ct) is not { } loaded) break;
                var command = new RecomputeDeadlines(reason, SystemActor.Id);
                if (TicketDecider.Decide(loaded.Ticket, command, time.GetUtcNow(), context).Count == 0) break; // nothing moves (yet)
                if (await writer.TryExecuteAsync(loaded.Ticket, command, $"recompute:{id:N}:{loaded.Ticket.Version}", ct))
                {
                    changed++;
                    break;
                }
                conflicts++;
                if (attempt == MaxAttempts) logger.LogWarning("Ticket {Id}: deadlines not recomputed after {Attempts} version conflicts; the next run tries again", id, MaxAttempts);
            }
        }
        return $"{candidates.Count} ticket(s) with provisional deadlines, {changed} recomputed, {conflicts} version conflict(s) retried";
    }
}
