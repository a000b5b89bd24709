using Hotline.Reports;
using Hotline.Reports.Kpi;

namespace Hotline.Server.Reports;

/// <summary>
/// Configuration section <c>Hotline:Reports</c> (appsettings.json or <c>Hotline__Reports__…</c> environment variables).
/// <code>
/// "Hotline": { "Reports": {
///   "UnitScoreWeights": { "tickets.onTimeCompletion": 0.3, "tickets.satisfaction": 0.4, "tickets.resolution": 0.3 },
///   "MinTicketsToRank": 5, "RedBlackListSize": 3, "ShortAbandonSeconds": 5, "DemoTicketsPerWeek": 3000 } }
/// </code>
/// Weights are keyed by KPI id (the 标识 column of the workbook's 指标说明 sheet); only percentage KPIs can be weighted.
/// An empty <see cref="UnitScoreWeights"/> keeps the library defaults. Invalid weights stop the server at start.
/// </summary>
public sealed class ReportsOptions
{
    public const string Section = "Hotline:Reports";

    public Dictionary<string, double> UnitScoreWeights { get; set; } = [];

    public int MinTicketsToRank { get; set; } = UnitScoreOptions.Default.MinTicketsToRank;

    public int RedBlackListSize { get; set; } = UnitScoreOptions.Default.ListSize;

    /// <summary>Abandons after less than this wait are not counted as offered calls (接通率 exclusion).</summary>
    public double ShortAbandonSeconds { get; set; } = KpiOptions.Default.ShortAbandonSeconds;

    /// <summary>Size of the demo week written in demo mode.</summary>
    public int DemoTicketsPerWeek { get; set; } = 3000;

    public WeeklyReportOptions ToReportOptions()
    {
        var kpi = new KpiOptions { ShortAbandonSeconds = ShortAbandonSeconds };
        var scores = new UnitScoreOptions
        {
            Weights = UnitScoreWeights.Count > 0 ? UnitScoreWeights : UnitScoreOptions.Default.Weights,
            MinTicketsToRank = MinTicketsToRank,
            ListSize = RedBlackListSize,
            Kpi = kpi,
        }.Validate();
        return WeeklyReportOptions.Default with { Kpi = kpi, UnitScores = scores };
    }
}
