using System.Globalization;

namespace Hotline.Domain.Calendar;

/// <summary>
/// A computed deadline. <paramref name="DueAt"/> is on the Shanghai clock (+08:00); a day-based deadline
/// ends at 24:00 of its last day, written as 00:00 of the following day. The task is on time while
/// <c>now &lt;= DueAt</c>. <paramref name="Provisional"/> is true when some day the computation looked at
/// lies in a year whose holiday notice is not loaded (Mon–Fri was assumed): recompute when it arrives.
/// <paramref name="Basis"/> says in words how the deadline was reached.
/// </summary>
public sealed record Deadline(DateTimeOffset DueAt, bool Provisional, string Basis);

/// <summary>
/// Working days per the holiday notices of <see cref="Schedule"/>; Mon–Fri for a year without one.
/// Immutable: to take a new notice, build a new calendar from the new schedule.
/// </summary>
public sealed class WorkingCalendar
{
    /// <summary>Upper bound for one computation (about four years of working days).</summary>
    public const int MaxWorkingDays = 1000;

    public WorkingCalendar(HolidaySchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        Schedule = schedule;
    }

    public HolidaySchedule Schedule { get; }

    public static bool IsMondayToFriday(DateOnly date) =>
        date.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday);

    /// <summary>Whether the notice for the year of <paramref name="date"/> is loaded.</summary>
    public bool IsScheduled(DateOnly date) => Schedule.HasYear(date.Year);

    /// <summary>Per the notice of that year; Mon–Fri if the year has no notice.</summary>
    public bool IsWorkingDay(DateOnly date) =>
        Schedule.TryGetYear(date.Year, out var year) ? year.IsWorkingDay(date) : IsMondayToFriday(date);

    /// <summary>
    /// The deadline <paramref name="days"/> working days after <paramref name="start"/>: the start day (its
    /// Shanghai date) is not counted, whatever the time of day and whether or not it is a working day;
    /// the next working days are counted one by one, and the deadline is 24:00 of the last one
    /// (00:00 +08:00 of the day after). <paramref name="days"/> = 0 means the same day: 24:00 of the start day.
    /// </summary>
    public Deadline AddWorkingDays(DateTimeOffset start, int days)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(days);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(days, MaxWorkingDays);

        var startDate = ChinaTime.DateOf(start);
        if (days == 0)
        {
            return new Deadline(
                ChinaTime.EndOfDay(startDate),
                false,
                Invariant($"same day: 24:00 of {startDate:yyyy-MM-dd} (Asia/Shanghai)"));
        }

        var missing = new SortedSet<int>();
        var day = startDate;
        for (var counted = 0; counted < days;)
        {
            day = day.AddDays(1);
            if (!IsScheduled(day))
            {
                missing.Add(day.Year);
            }

            if (IsWorkingDay(day))
            {
                counted++;
            }
        }

        var basis = Invariant(
            $"{days} working day(s) after {startDate:yyyy-MM-dd} (start day not counted); last day {day:yyyy-MM-dd}, due 24:00 Asia/Shanghai");
        return new Deadline(ChinaTime.EndOfDay(day), missing.Count > 0, basis + Provisional(missing));
    }

    /// <summary>Hour limits run on the natural clock (7x24): holidays and nights count.</summary>
    public Deadline AddNaturalHours(DateTimeOffset start, int hours)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hours);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hours, MaxWorkingDays * 24);

        var due = ChinaTime.ToLocal(start.AddHours(hours));
        return new Deadline(
            due,
            false,
            Invariant($"{hours} natural hour(s) after {ChinaTime.ToLocal(start):yyyy-MM-dd HH:mm} (7x24 clock)"));
    }

    /// <summary>
    /// Working days in (<paramref name="from"/>, <paramref name="to"/>]: <paramref name="from"/> is not counted,
    /// <paramref name="to"/> is, matching <see cref="AddWorkingDays"/>. Negative when <paramref name="to"/> is
    /// before <paramref name="from"/>. Use <see cref="IsProvisional"/> to know whether a fallback year was involved.
    /// </summary>
    public int WorkingDaysBetween(DateOnly from, DateOnly to)
    {
        if (to < from)
        {
            return -WorkingDaysBetween(to, from);
        }

        var count = 0;
        for (var day = from.AddDays(1); day <= to; day = day.AddDays(1))
        {
            if (IsWorkingDay(day))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Whether any year touched by the range (<paramref name="from"/>, <paramref name="to"/>] lacks a notice.</summary>
    public bool IsProvisional(DateOnly from, DateOnly to)
    {
        var (low, high) = from <= to ? (from.AddDays(1), to) : (to.AddDays(1), from);
        for (var year = low.Year; year <= high.Year && low <= high; year++)
        {
            if (!Schedule.HasYear(year))
            {
                return true;
            }
        }

        return false;
    }

    private static string Provisional(SortedSet<int> missing) =>
        missing.Count == 0
            ? string.Empty
            : $"; PROVISIONAL: no holiday notice loaded for {string.Join(", ", missing)}, Mon–Fri assumed";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
