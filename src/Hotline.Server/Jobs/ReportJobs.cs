using System.Globalization;
using Hotline.Domain.Calendar;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Calendar;
using Hotline.Server.Outbox;
using Hotline.Server.Reports;
using Hotline.Server.Storage;
using Hotline.Server.Tickets;
using Quartz;

namespace Hotline.Server.Jobs;

/// <summary>
/// 节假日提醒: every day from November 1 until next year's State Council notice is imported (and any day the current
/// year's is missing), admins get one alert per day. Once the year is there it reports how many open deadlines are
/// still provisional (computed on the Monday–Friday fallback) and so need recomputing. The calendar is reloaded from
/// the calendar stream first, so an import on another node (a <see cref="HolidayYearImported"/>) stops the alert here too.
/// </summary>
[DisallowConcurrentExecution]
public sealed class CalendarAlertJob(CalendarDeadlines calendar, IEventStore store, EventSerializer serializer, TicketIndex index, NoticeStore notices, TimeProvider time) : OfficeJob
{
    public static readonly JobKey Key = new("calendar-alert", "calendar");

    public override async Task<string> RunAsync(CancellationToken ct)
    {
        await calendar.LoadAsync(store, serializer, ct);
        var today = ChinaTime.DateOf(time.GetUtcNow());
        var missing = HolidayAlert.MissingYears(today, calendar.Schedule);
        var provisional = ProvisionalOpenDeadlines(index.All, calendar.Schedule);
        if (missing.Count > 0)
        {
            var years = string.Join("、", missing);
            await notices.AnnounceAsync("calendar-alert", today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "请导入节假日安排",
                $"{years} 年的国务院节假日安排尚未导入，相关时限按周一至周五临时计算（目前 {provisional} 个未结时限为临时时限）。请在“系统管理 → 工作日历”导入。",
                [Auth.Roles.Admin], ct);
            return $"alert: {years} missing; {provisional} provisional deadline(s)";
        }
        return provisional == 0 ? "calendar complete" : $"calendar complete; {provisional} provisional deadline(s) to recompute";
    }

    /// <summary>Open tasks (and waiting dispatches) whose deadline was computed provisionally although every year it touches is now known.</summary>
    public static int ProvisionalOpenDeadlines(IEnumerable<Ticket> tickets, HolidaySchedule schedule) =>
        tickets.Where(t => t.IsOpen).Sum(t =>
            (t.State == TicketState.Registered && t.DispatchDueProvisional ? 1 : 0) +
            t.Tasks.Count(x => x.IsOpen && x.Provisional));
}

/// <summary>每日简报 08:00: yesterday's intake, dispatches, closures, and today's overdue and supervised work, announced to leaders.</summary>
[DisallowConcurrentExecution]
public sealed class DailyBriefJob(TicketIndex index, NoticeStore notices, TimeProvider time) : OfficeJob
{
    public static readonly JobKey Key = new("daily-brief", "reports");

    public sealed record Brief(DateOnly Day, int Registered, int AnsweredDirectly, int Dispatched, int Closed, int OpenOverdue, int Supervised, int Urged);

    public static Brief Compute(IEnumerable<Ticket> tickets, DateOnly day, DateTimeOffset now)
    {
        var from = ChinaTime.StartOfDay(day);
        var to = ChinaTime.EndOfDay(day);
        bool In(DateTimeOffset? at) => at is { } a && a >= from && a < to;
        var all = tickets.ToList();
        return new Brief(day,
            all.Count(t => In(t.RegisteredAt)),
            all.Count(t => t.DirectAnswer is not null && In(t.ClosedAt)),
            all.Count(t => t.Tasks.Any(x => x.Level == 0 && In(x.DispatchedAt))),
            all.Count(t => t.State == TicketState.Closed && In(t.ClosedAt)),
            all.Count(t => t.IsOpen && t.Tasks.Any(x => x.IsOpen && x.ReplyDueAt < now)),
            all.Count(t => t.IsOpen && t.Supervision is not null),
            all.Count(t => In(t.LastUrgedAt)));
    }

    public override async Task<string> RunAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var day = ChinaTime.DateOf(now).AddDays(-1);
        var b = Compute(index.All, day, now);
        var text = $"{day:yyyy-MM-dd}：受理 {b.Registered} 件，直接办结 {b.AnsweredDirectly} 件，派单 {b.Dispatched} 件，办结 {b.Closed} 件；当前超期未办结 {b.OpenOverdue} 件，督办中 {b.Supervised} 件；当日催办 {b.Urged} 件。";
        await notices.AnnounceAsync("daily-brief", day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "每日简报", text, [Auth.Roles.Leader, Auth.Roles.Admin], ct);
        return text;
    }
}

/// <summary>Monday 08:00 Asia/Shanghai: the weekly public-opinion workbook for the ISO week before. Re-running for the same week reuses the stored file.</summary>
[DisallowConcurrentExecution]
public sealed class WeeklyWorkbookJob(ReportService reports, NoticeStore notices, TimeProvider time) : OfficeJob
{
    public static readonly JobKey Key = new("weekly-workbook", "reports");

    public override async Task<string> RunAsync(CancellationToken ct)
    {
        var today = ChinaTime.DateOf(time.GetUtcNow());
        var monday = today.AddDays(-(((int)today.DayOfWeek + 6) % 7));
        var report = await reports.EnsureWeeklyAsync(monday.AddDays(-7), SystemActor.Id, ct);
        await notices.AnnounceAsync("weekly-workbook", monday.AddDays(-7).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "民意分析周报",
            $"{report.FileName} 已{(report.Status == "done" ? "生成" : "开始生成")}，可在“报表”下载。", [Auth.Roles.Leader, Auth.Roles.Admin], ct);
        return $"{report.FileName} ({report.Status})";
    }
}
