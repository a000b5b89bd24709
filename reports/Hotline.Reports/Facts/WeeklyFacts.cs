namespace Hotline.Reports.Facts;

/// <summary>
/// Everything the workbook is built from. The facts window is longer than the period: the caller passes
/// the tickets and calls registered from <see cref="ReportPeriod.WindowStart"/> (same period last year)
/// through <see cref="ReportPeriod.End"/>; the builder slices out the period, the four prior periods and
/// last year's period by date and ignores everything else. Facts missing for a comparison window simply
/// show as zero / "—" in the comparison columns.
/// </summary>
public sealed record WeeklyFacts
{
    public required ReportPeriod Period { get; init; }
    public string CityName { get; init; } = "";

    /// <summary>City time zone offset used to turn instants into report days (default UTC+8).</summary>
    public TimeSpan UtcOffset { get; init; } = TimeSpan.FromHours(8);

    /// <summary>Cut-off of the snapshot; deadlines after it are "not yet due". Default: end of the period.</summary>
    public DateTimeOffset? AsOf { get; init; }

    public required IReadOnlyList<TicketFact> Tickets { get; init; }
    public IReadOnlyList<CallFact> Calls { get; init; } = [];
    public IReadOnlyList<UnitFact> Units { get; init; } = [];

    /// <summary>Knowledge-base publications in the facts window (知识库更新), attributed to the owner unit.</summary>
    public IReadOnlyList<KnowledgeUpdateFact> KnowledgeUpdates { get; init; } = [];

    public DateTimeOffset Cutoff => AsOf ?? EndOf(Period.End);

    public DateOnly LocalDate(DateTimeOffset instant) => DateOnly.FromDateTime(instant.ToOffset(UtcOffset).DateTime);

    public DateTimeOffset StartOf(DateOnly day) => new(day.ToDateTime(TimeOnly.MinValue), UtcOffset);

    public DateTimeOffset EndOf(DateOnly day) => StartOf(day.AddDays(1));

    public IReadOnlyList<TicketFact> TicketsIn(ReportPeriod period) =>
        Tickets.Where(t => period.Contains(LocalDate(t.RegisteredAt))).ToList();

    public IReadOnlyList<KnowledgeUpdateFact> KnowledgeIn(ReportPeriod period) =>
        KnowledgeUpdates.Where(k => period.Contains(LocalDate(k.PublishedAt))).ToList();

    public IReadOnlyList<CallFact> CallsIn(ReportPeriod period) =>
        Calls.Where(c => period.Contains(LocalDate(c.OfferedAt))).ToList();
}
