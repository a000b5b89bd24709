using System.Globalization;
using Hotline.Domain.Calendar;
using Hotline.EventStore;
using Hotline.Server.Calendar;
using Hotline.Server.Jobs;
using Hotline.Server.Outbox;
using Hotline.Server.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Hotline.Server.Tests.Jobs;

/// <summary>
/// 节假日提醒 on the job harness (manual clock, SQLite store; the built-in calendar knows 2025 and 2026): from November 1
/// the admins are told once a day which year to import, with the count of provisional deadlines; once the year's
/// <see cref="HolidayYearImported"/> is in the calendar stream — even written by another node — the alert stops.
/// </summary>
public sealed class CalendarAlertJobTests
{
    private static DateTimeOffset Local(string text) => DateTimeOffset.ParseExact(text + " +08:00", "yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture);

    private static async Task<List<AnnouncementPosted>> AlertsAsync(JobHarness h) =>
        (await h.Services.GetRequiredService<NoticeStore>().AnnouncementsAsync(CancellationToken.None)).Where(a => a.Kind == "calendar-alert").ToList();

    private static async Task<string> RunTwiceAt(JobHarness h, string at)
    {
        h.Clock.Set(Local(at));
        var job = h.Job<CalendarAlertJob>();
        await job.RunAsync(CancellationToken.None);
        return await job.RunAsync(CancellationToken.None);
    }

    [Fact]
    public async Task From_November_1_the_alert_names_the_missing_year_once_a_day_and_stops_after_that_year_is_imported()
    {
        await using var h = new JobHarness(Local("2026-10-31 08:30"));

        Assert.Equal("calendar complete", await RunTwiceAt(h, "2026-10-31 08:30"));
        Assert.Empty(await AlertsAsync(h));

        await RunTwiceAt(h, "2026-11-01 08:30");
        var first = Assert.Single(await AlertsAsync(h));
        Assert.Equal("请导入节假日安排", first.Title);
        Assert.StartsWith("2027 年的国务院节假日安排尚未导入", first.Text, StringComparison.Ordinal);
        Assert.Contains("目前 0 个未结时限为临时时限", first.Text, StringComparison.Ordinal);
        Assert.Equal(Hotline.Server.Auth.Roles.Admin, Assert.Single(first.Roles));

        // A ticket waiting for dispatch over New Year: its deadline falls in 2027, computed Monday–Friday (provisional).
        h.Clock.Set(Local("2026-12-31 15:00"));
        await h.RegisterAsync(category: "180101");
        Assert.Equal("alert: 2027 missing; 1 provisional deadline(s)", await RunTwiceAt(h, "2026-12-31 16:00"));
        var alerts = await AlertsAsync(h);
        Assert.Equal(2, alerts.Count); // one per day: Nov 1 and Dec 31
        Assert.Contains("目前 1 个未结时限为临时时限", alerts[^1].Text, StringComparison.Ordinal);

        // Another node imports 2027: only the calendar stream says so; this node's calculator has not seen it.
        var imported = new HolidayYearImported(2027, [new DateOnly(2027, 1, 1)], [], "admin", Local("2026-12-31 17:00"));
        await h.Services.GetRequiredService<IEventStore>().AppendAsync(CalendarDeadlines.Stream, ExpectedRevision.Any,
            [h.Services.GetRequiredService<EventSerializer>().ToEventData(imported, Guid.NewGuid(), new EventMetadata("admin", null, null, imported.At))], CancellationToken.None);
        Assert.False(h.Services.GetRequiredService<CalendarDeadlines>().Schedule.HasYear(2027));

        var result = await RunTwiceAt(h, "2027-01-01 08:30");
        Assert.StartsWith("calendar complete", result, StringComparison.Ordinal);
        Assert.Equal(2, (await AlertsAsync(h)).Count);
        await RunTwiceAt(h, "2027-01-02 08:30");
        Assert.Equal(2, (await AlertsAsync(h)).Count);
        Assert.True(h.Services.GetRequiredService<CalendarDeadlines>().Schedule.HasYear(2027));
    }
}
