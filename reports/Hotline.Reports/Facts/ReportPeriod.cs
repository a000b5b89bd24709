namespace Hotline.Reports.Facts;

/// <summary>What kind of period a report covers; only changes titles and how comparison periods are found.</summary>
public enum PeriodKind
{
    Weekly,
    Monthly,
    Quarterly,
    Custom,
}

/// <summary>
/// A reporting period in city-local dates, both ends inclusive. The comparison periods are derived here,
/// once, so every sheet compares against the same windows.
/// </summary>
public sealed record ReportPeriod(DateOnly Start, DateOnly End, PeriodKind Kind = PeriodKind.Weekly)
{
    public static ReportPeriod Week(DateOnly monday) => new(monday, monday.AddDays(6), PeriodKind.Weekly);

    public int Days => End.DayNumber - Start.DayNumber + 1;

    public bool Contains(DateOnly day) => day >= Start && day <= End;

    /// <summary>The period of the same length immediately before this one (环比).</summary>
    public ReportPeriod Previous => Shift(-Days);

    /// <summary>The <paramref name="count"/> periods before this one, nearest first (baseline for rising topics).</summary>
    public IReadOnlyList<ReportPeriod> PreviousPeriods(int count) =>
        Enumerable.Range(1, count).Select(i => Shift(-Days * i)).ToList();

    /// <summary>
    /// Same period last year (同比). Weekly periods go back 52 weeks (364 days) so weekdays line up;
    /// the others go back one calendar year.
    /// </summary>
    public ReportPeriod SameLastYear => Kind == PeriodKind.Weekly
        ? Shift(-364)
        : new ReportPeriod(Start.AddYears(-1), End.AddYears(-1), Kind);

    /// <summary>First day of the facts window the builder needs: 4 prior periods back, or last year's period.</summary>
    public DateOnly WindowStart => SameLastYear.Start;

    public string Label => Kind switch
    {
        PeriodKind.Weekly => "周",
        PeriodKind.Monthly => "月",
        PeriodKind.Quarterly => "季度",
        _ => "期",
    };

    public override string ToString() => $"{Start:yyyy-MM-dd} 至 {End:yyyy-MM-dd}";

    private ReportPeriod Shift(int days) => new(Start.AddDays(days), End.AddDays(days), Kind);
}
