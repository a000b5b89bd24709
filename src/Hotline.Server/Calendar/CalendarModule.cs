using Hotline.Domain.Calendar;
using Hotline.Domain.Common;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Storage;
using Microsoft.AspNetCore.Mvc;

namespace Hotline.Server.Calendar;

[EventType("V1.HolidayYearImported")]
public sealed record HolidayYearImported(int Year, IReadOnlyList<DateOnly> OffDays, IReadOnlyList<DateOnly> MakeUpWorkingDays, string By, DateTimeOffset At);

/// <summary>
/// The deadline policy on the official working-day calendar. Imported years are events in the "calendar" stream,
/// so they survive restarts and reach every node; the calculator is swapped atomically after each import.
/// </summary>
public sealed class CalendarDeadlines : IDeadlinePolicy
{
    private volatile DeadlineCalculator _calculator;
    private readonly TimeLimitRules _rules;

    public CalendarDeadlines(TimeLimitRules rules, HolidaySchedule schedule)
    {
        _rules = rules;
        _calculator = new DeadlineCalculator(rules, new WorkingCalendar(schedule));
    }

    public HolidaySchedule Schedule => _calculator.Calendar.Schedule;

    public WorkingCalendar Calendar => _calculator.Calendar;

    public Deadline Due(TimeLimitKind kind, string type, string urgency, DateTimeOffset start) => _calculator.Due(kind, type, urgency, start);

    /// <summary>
    /// An extension of <paramref name="workingDays"/> working days. The current deadline is 24:00 of its last day (stored as
    /// 00:00 of the next); counting starts after that last day, so the instant just before it is the start.
    /// </summary>
    public Deadline Extend(DateTimeOffset currentDue, int workingDays) => _calculator.Calendar.AddWorkingDays(currentDue.AddTicks(-1), workingDays);

    public void Use(HolidaySchedule schedule) => _calculator = new DeadlineCalculator(_rules, new WorkingCalendar(schedule));

    public const string Stream = "calendar";

    /// <summary>Stores one imported year in the calendar stream (the same year and days twice is one event) and uses it from now on.</summary>
    public async Task ImportAsync(YearSchedule year, string by, DateTimeOffset at, IEventStore store, EventSerializer serializer, CancellationToken ct)
    {
        var imported = new HolidayYearImported(year.Year, year.OffDays.Order().ToList(), year.MakeUpWorkingDays.Order().ToList(), by, at);
        var id = DeterministicId.From("calendar", year.Year.ToString(System.Globalization.CultureInfo.InvariantCulture), string.Join(',', imported.OffDays), string.Join(',', imported.MakeUpWorkingDays));
        await store.AppendAsync(Stream, ExpectedRevision.Any, [serializer.ToEventData(imported, id, new EventMetadata(imported.By, null, null, imported.At))], ct);
        Use(Schedule.WithYear(year));
    }

    /// <summary>Loads every imported year from the calendar stream on top of the built-in official years.</summary>
    public async Task LoadAsync(IEventStore store, EventSerializer serializer, CancellationToken ct)
    {
        var schedule = HolidaySchedule.Official;
        await foreach (var e in store.ReadStreamAsync(Stream, 0, ct))
            if (serializer.Deserialize(e) is HolidayYearImported y)
                schedule = schedule.WithYear(new YearSchedule(y.Year, y.OffDays, y.MakeUpWorkingDays));
        Use(schedule);
    }
}

public static class CalendarModule
{
    public static IEndpointRouteBuilder MapCalendar(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/admin/calendar").WithTags("calendar").RequireAuthorization(p => p.RequireRole(Auth.Roles.Admin));
        group.MapGet("/", (CalendarDeadlines deadlines, TimeProvider time) => new
        {
            years = deadlines.Schedule.Years,
            alert = HolidayAlert.NeedsAlert(DateOnly.FromDateTime(Tickets.TimeZones.ToLocal(time.GetUtcNow()).DateTime), deadlines.Schedule),
        });

        // Body: the holiday-cn JSON of one year: {"year":2027,"days":[{"name":"元旦","date":"2027-01-01","isOffDay":true}, …]}
        group.MapPost("/import", async (HttpRequest request, CalendarDeadlines deadlines, IEventStore store, EventSerializer serializer, TimeProvider time, System.Security.Claims.ClaimsPrincipal user, Quartz.ISchedulerFactory schedulers, ILoggerFactory logs, CancellationToken ct) =>
        {
            using var reader = new StreamReader(request.Body);
            var json = await reader.ReadToEndAsync(ct);
            YearSchedule year;
            try { year = HolidayCnImporter.Parse(json); }
            catch (CalendarImportException e)
            {
                return Results.ValidationProblem(e.Errors.GroupBy(x => x.Field).ToDictionary(g => g.Key, g => g.Select(x => x.Reason).ToArray()), title: "节假日安排导入失败");
            }
            await deadlines.ImportAsync(year, Auth.ClaimsPrincipalExtensions.UserId(user), time.GetUtcNow(), store, serializer, ct);
            // Recompute the open provisional deadlines right away (the job also runs daily as a catch-up, so a failed
            // trigger here loses nothing; the import itself is already stored).
            var recompute = "scheduled";
            try { await (await schedulers.GetScheduler(ct)).TriggerJob(Jobs.RecomputeDeadlinesJob.Key, new Quartz.JobDataMap(), ct); }
            catch (Quartz.SchedulerException e)
            {
                recompute = "daily";
                logs.CreateLogger("Hotline.Calendar").LogWarning(e, "Could not trigger the deadline recomputation after importing {Year}; the daily run will do it", year.Year);
            }
            return Results.Ok(new { year = year.Year, offDays = year.OffDays.Count, makeUpWorkingDays = year.MakeUpWorkingDays.Count, years = deadlines.Schedule.Years, recompute });
        }).Accepts<object>("application/json").ProducesValidationProblem();
        return app;
    }
}
