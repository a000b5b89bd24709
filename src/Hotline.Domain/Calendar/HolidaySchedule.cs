using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Hotline.Domain.Calendar;

/// <summary>
/// One year of the State Council holiday notice (国务院办公厅关于节假日安排的通知): the off days and
/// the make-up working days (调休上班). Immutable.
/// </summary>
public sealed class YearSchedule
{
    public YearSchedule(int year, IEnumerable<DateOnly> offDays, IEnumerable<DateOnly> makeUpWorkingDays)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(year, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(year, 9998);
        ArgumentNullException.ThrowIfNull(offDays);
        ArgumentNullException.ThrowIfNull(makeUpWorkingDays);

        Year = year;
        OffDays = [.. offDays];
        MakeUpWorkingDays = [.. makeUpWorkingDays];

        foreach (var day in OffDays.Concat(MakeUpWorkingDays))
        {
            if (day.Year != year)
            {
                throw new ArgumentException($"{day:yyyy-MM-dd} is outside {year}.", nameof(offDays));
            }
        }

        var both = OffDays.Intersect(MakeUpWorkingDays);
        if (!both.IsEmpty)
        {
            throw new ArgumentException(
                $"{both[0]:yyyy-MM-dd} is both an off day and a make-up working day.", nameof(makeUpWorkingDays));
        }
    }

    public int Year { get; }

    /// <summary>Official days off (weekends inside a holiday stretch may be listed too).</summary>
    public ImmutableSortedSet<DateOnly> OffDays { get; }

    /// <summary>Weekend days that are working days (调休上班).</summary>
    public ImmutableSortedSet<DateOnly> MakeUpWorkingDays { get; }

    /// <summary>Mon–Fri minus off days, plus make-up working days.</summary>
    public bool IsWorkingDay(DateOnly date)
    {
        if (date.Year != Year)
        {
            throw new ArgumentOutOfRangeException(nameof(date), date, $"Not in {Year}.");
        }

        return MakeUpWorkingDays.Contains(date)
            || (!OffDays.Contains(date) && WorkingCalendar.IsMondayToFriday(date));
    }
}

/// <summary>
/// The holiday notices of all loaded years. Immutable: <see cref="WithYear"/> returns a new schedule,
/// so a server can build the new one and swap a single reference.
/// </summary>
public sealed class HolidaySchedule
{
    private readonly ImmutableSortedDictionary<int, YearSchedule> _years;

    private HolidaySchedule(ImmutableSortedDictionary<int, YearSchedule> years)
    {
        _years = years;
        Years = years.Keys.ToImmutableArray();
    }

    public static HolidaySchedule Empty { get; } = new(ImmutableSortedDictionary<int, YearSchedule>.Empty);

    /// <summary>The built-in notices for 2025 and 2026.</summary>
    public static HolidaySchedule Official { get; } = Empty
        .WithYear(new YearSchedule(
            2025,
            [
                .. Days("2025-01-01"),
                .. Days("2025-01-28", "2025-02-04"),
                .. Days("2025-04-04", "2025-04-06"),
                .. Days("2025-05-01", "2025-05-05"),
                .. Days("2025-05-31", "2025-06-02"),
                .. Days("2025-10-01", "2025-10-08"),
            ],
            [.. Days("2025-01-26"), .. Days("2025-02-08"), .. Days("2025-04-27"), .. Days("2025-09-28"), .. Days("2025-10-11")]))
        .WithYear(new YearSchedule(
            2026,
            [
                .. Days("2026-01-01", "2026-01-03"),
                .. Days("2026-02-15", "2026-02-23"),
                .. Days("2026-04-04", "2026-04-06"),
                .. Days("2026-05-01", "2026-05-05"),
                .. Days("2026-06-19", "2026-06-21"),
                .. Days("2026-09-25", "2026-09-27"),
                .. Days("2026-10-01", "2026-10-07"),
            ],
            [
                .. Days("2026-01-04"), .. Days("2026-02-14"), .. Days("2026-02-28"),
                .. Days("2026-05-09"), .. Days("2026-09-20"), .. Days("2026-10-10"),
            ]));

    /// <summary>Loaded years, ascending.</summary>
    public IReadOnlyList<int> Years { get; }

    public bool HasYear(int year) => _years.ContainsKey(year);

    public bool TryGetYear(int year, [NotNullWhen(true)] out YearSchedule? schedule) =>
        _years.TryGetValue(year, out schedule);

    /// <summary>A new schedule with <paramref name="year"/> added, or replacing the same year.</summary>
    public HolidaySchedule WithYear(YearSchedule year)
    {
        ArgumentNullException.ThrowIfNull(year);
        return new HolidaySchedule(_years.SetItem(year.Year, year));
    }

    /// <summary>A new schedule without <paramref name="year"/>.</summary>
    public HolidaySchedule WithoutYear(int year) => new(_years.Remove(year));

    private static IEnumerable<DateOnly> Days(string from, string? to = null)
    {
        var first = DateOnly.ParseExact(from, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var last = DateOnly.ParseExact(to ?? from, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        for (var d = first; d <= last; d = d.AddDays(1))
        {
            yield return d;
        }
    }
}
