namespace Hotline.Domain.Calendar;

public enum WarningMode
{
    /// <summary>Yellow once only the last N working days before a day-based deadline remain.</summary>
    WorkingDaysBefore,

    /// <summary>Yellow once this share of the limit (natural time from start to deadline) has elapsed.</summary>
    ElapsedShare,
}

/// <summary>Configuration section <c>Hotline:Warnings</c>. Bind-friendly.</summary>
public sealed class WarningRule
{
    public const string SectionName = "Hotline:Warnings";

    public WarningMode Mode { get; set; } = WarningMode.WorkingDaysBefore;

    /// <summary>N for <see cref="WarningMode.WorkingDaysBefore"/>.</summary>
    public int WorkingDaysBefore { get; set; } = 1;

    /// <summary>
    /// Share for <see cref="WarningMode.ElapsedShare"/>; also the fallback of the working-days mode for
    /// deadlines it cannot express (hour limits, or limits no longer than N working days).
    /// </summary>
    public double ElapsedShare { get; set; } = 0.8;

    public static WarningRule Default => new();

    public static WarningRule DaysBefore(int days) => new() { Mode = WarningMode.WorkingDaysBefore, WorkingDaysBefore = days };

    public static WarningRule Share(double share) => new() { Mode = WarningMode.ElapsedShare, ElapsedShare = share };
}

public enum WarningColour
{
    Normal,
    Yellow,

    /// <summary>Overdue: now is after the deadline.</summary>
    Red,
}

/// <summary>The colour, the time left (negative when overdue) and the instant the colour turns yellow.</summary>
public sealed record DeadlineStatus(WarningColour Colour, TimeSpan Remaining, DateTimeOffset YellowFrom);

/// <summary>Traffic-light state of a running deadline.</summary>
public sealed class DeadlineWarnings
{
    public DeadlineWarnings(WorkingCalendar calendar)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        Calendar = calendar;
    }

    public WorkingCalendar Calendar { get; }

    /// <summary>
    /// Red when <paramref name="now"/> is after <c>DueAt</c>; yellow from <see cref="DeadlineStatus.YellowFrom"/>;
    /// normal before. Working-days mode: a deadline at 24:00 of day L turns yellow at 24:00 of the working day
    /// N+1 places back from L (counting L as 1), i.e. when only the last N working days remain; weekends in
    /// between are already yellow. If that moment is not after <paramref name="start"/>, or the deadline is not at
    /// a day end (an hour limit), the share rule applies instead.
    /// </summary>
    public DeadlineStatus Evaluate(Deadline deadline, DateTimeOffset start, DateTimeOffset now, WarningRule rule)
    {
        ArgumentNullException.ThrowIfNull(deadline);
        ArgumentNullException.ThrowIfNull(rule);
        if (rule.ElapsedShare is <= 0 or > 1 || double.IsNaN(rule.ElapsedShare))
        {
            throw new ArgumentOutOfRangeException(nameof(rule), rule.ElapsedShare, "ElapsedShare must be in (0, 1].");
        }

        if (rule.Mode == WarningMode.WorkingDaysBefore && rule.WorkingDaysBefore is < 1 or > 60)
        {
            throw new ArgumentOutOfRangeException(nameof(rule), rule.WorkingDaysBefore, "WorkingDaysBefore must be 1..60.");
        }

        var yellowFrom = (rule.Mode == WarningMode.WorkingDaysBefore
                ? WorkingDaysThreshold(deadline.DueAt, start, rule.WorkingDaysBefore)
                : null)
            ?? ShareThreshold(deadline.DueAt, start, rule.ElapsedShare);

        var colour = now > deadline.DueAt ? WarningColour.Red
            : now >= yellowFrom ? WarningColour.Yellow
            : WarningColour.Normal;
        return new DeadlineStatus(colour, deadline.DueAt - now, yellowFrom);
    }

    private DateTimeOffset? WorkingDaysThreshold(DateTimeOffset dueAt, DateTimeOffset start, int n)
    {
        if (ChinaTime.ToLocal(dueAt).TimeOfDay != TimeSpan.Zero)
        {
            return null;
        }

        var last = ChinaTime.DateOf(dueAt).AddDays(-1);
        var startDate = ChinaTime.DateOf(start);
        var found = 0;
        for (var day = last; day >= startDate; day = day.AddDays(-1))
        {
            if (Calendar.IsWorkingDay(day) && ++found == n + 1)
            {
                return ChinaTime.EndOfDay(day);
            }
        }

        return null;
    }

    private static DateTimeOffset ShareThreshold(DateTimeOffset dueAt, DateTimeOffset start, double share) =>
        dueAt <= start ? start : start + ((dueAt - start) * share);
}
