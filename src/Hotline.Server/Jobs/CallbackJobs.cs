using Hotline.Domain.Calendar;
using Hotline.Domain.Tickets;
using Hotline.Server.Hosting;
using Hotline.Server.Outbox;
using Hotline.Server.Tickets;
using Microsoft.Extensions.Options;
using Quartz;

namespace Hotline.Server.Jobs;

/// <summary>
/// 转回访: once a reply is accepted and the configured delay has passed, the callback task is created. Idempotent:
/// the decision looks at the ticket's own state, and a second run finds nothing left to do.
/// </summary>
[DisallowConcurrentExecution]
public sealed class CallbackSchedulingJob(TicketIndex index, TicketWriter writer, IOptions<HotlineOptions> options, TimeProvider time, ILogger<CallbackSchedulingJob> logger) : OfficeJob
{
    public static readonly JobKey Key = new("callback-scheduling", "tickets");

    public override async Task<string> RunAsync(CancellationToken ct)
    {
        var due = time.GetUtcNow().AddMinutes(-options.Value.CallbackDelayMinutes);
        var done = 0;
        foreach (var t in index.InState(TicketState.ReplyAccepted).Where(t => t.ReplyAcceptedAt <= due).ToList())
            if (await writer.TryExecuteAsync(t, new ScheduleCallback(SystemActor.Id), $"schedule-callback:{t.Id:N}:{t.Version}", ct)) done++;
        if (done > 0) logger.LogInformation("Created {Count} callback task(s)", done);
        return $"{done} callback task(s) created";
    }
}

/// <summary>
/// 回访重拨: a citizen the callback agent could not reach is tried again at a different time of day (the configured
/// slots), at least the configured gap later; the job announces each retry to the callback agents once, when it is
/// due. The ticket closes as 无法联系 when the agent records the last failed attempt (the ticket rules' maximum).
/// </summary>
[DisallowConcurrentExecution]
public sealed class CallbackRetryJob(TicketIndex index, TicketWriter writer, NoticeStore notices, TicketContext context, JobsOptions options, TimeProvider time) : OfficeJob
{
    public static readonly JobKey Key = new("callback-retry", "tickets");

    /// <summary>
    /// The next attempt: the first slot at least <paramref name="minGap"/> after the last failure whose time of day
    /// no earlier attempt used (the slot nearest to each attempt's local time); when every slot was used, the first
    /// slot after the gap.
    /// </summary>
    public static DateTimeOffset NextAttemptAt(IReadOnlyList<DateTimeOffset> failedAt, IReadOnlyList<TimeOnly> slots, TimeSpan minGap)
    {
        var last = failedAt.Max();
        var earliest = last + minGap;
        var used = failedAt.Select(a => Nearest(slots, TimeOnly.FromDateTime(ChinaTime.ToLocal(a).DateTime))).ToHashSet();
        DateTimeOffset? fallback = null;
        for (var day = ChinaTime.DateOf(earliest); day <= ChinaTime.DateOf(earliest).AddDays(2); day = day.AddDays(1))
        {
            foreach (var slot in slots)
            {
                var at = new DateTimeOffset(day.ToDateTime(slot), ChinaTime.Offset);
                if (at < earliest) continue;
                fallback ??= at;
                if (!used.Contains(slot)) return at;
            }
        }
        return fallback ?? earliest;
    }

    private static TimeOnly Nearest(IReadOnlyList<TimeOnly> slots, TimeOnly time) =>
        slots.MinBy(s => Math.Abs((s.ToTimeSpan() - time.ToTimeSpan()).TotalMinutes));

    public override async Task<string> RunAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var slots = options.RetrySlots();
        var announced = 0;
        foreach (var candidate in index.InState(TicketState.AwaitingCallback).Where(t => t.CallbackAttempts > 0 && t.CallbackAttempts < context.Rules.CallbackMaxAttempts).ToList())
        {
            if (await writer.LoadAsync(candidate.Id, ct) is not { } loaded || loaded.Ticket.State != TicketState.AwaitingCallback) continue;
            var since = loaded.History.OfType<CallbackScheduled>().LastOrDefault()?.At ?? DateTimeOffset.MinValue;
            var failures = loaded.History.OfType<CallbackAttemptFailed>().Where(f => f.At >= since).Select(f => f.At).ToList();
            if (failures.Count == 0) continue;
            var next = NextAttemptAt(failures, slots, TimeSpan.FromHours(options.CallbackRetryMinGapHours));
            if (now < next) continue;
            var t = loaded.Ticket;
            await notices.AnnounceAsync("callback-retry", $"{t.Id:N}:{failures.Count + 1}:{since.UtcTicks}", "回访重拨",
                $"工单 {t.Number} 第 {failures.Count + 1} 次回访已到时间（共 {context.Rules.CallbackMaxAttempts} 次）", [Auth.Roles.Callback], ct);
            announced++;
        }
        return $"{announced} callback retry notice(s)";
    }
}
