namespace Hotline.Domain.Calendar;

/// <summary>Tells operators to import a holiday notice before deadlines go provisional.</summary>
public static class HolidayAlert
{
    /// <summary>
    /// True from November 1 when next year's notice is missing (the State Council usually publishes it in
    /// late October or November), and on any day when the current year's notice is missing.
    /// </summary>
    public static bool NeedsAlert(DateOnly today, HolidaySchedule schedule) => MissingYears(today, schedule).Count > 0;

    /// <summary>The years whose notice the operators should import now.</summary>
    public static IReadOnlyList<int> MissingYears(DateOnly today, HolidaySchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        var missing = new List<int>();
        if (!schedule.HasYear(today.Year))
        {
            missing.Add(today.Year);
        }

        if (today.Month >= 11 && today.Year < 9998 && !schedule.HasYear(today.Year + 1))
        {
            missing.Add(today.Year + 1);
        }

        return missing;
    }
}
