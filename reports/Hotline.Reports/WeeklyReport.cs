using Hotline.Reports.Analysis;
using Hotline.Reports.Facts;
using Hotline.Reports.Kpi;
using Hotline.Reports.Workbook;

namespace Hotline.Reports;

/// <summary>Every knob of the weekly report in one place; the defaults are sensible for a mid-size city.</summary>
public sealed record WeeklyReportOptions
{
    public static WeeklyReportOptions Default { get; } = new();

    public KpiOptions Kpi { get; init; } = KpiOptions.Default;
    public UnitScoreOptions UnitScores { get; init; } = UnitScoreOptions.Default;
    public HotTermOptions HotTerms { get; init; } = HotTermOptions.Default;
    public RisingOptions Rising { get; init; } = RisingOptions.Default;
    public ClusterOptions Clusters { get; init; } = ClusterOptions.Default;

    /// <summary>Rows of the category table (二级分类 top-N).</summary>
    public int TopCategories { get; init; } = 20;

    /// <summary>Seasonal and special topics for 突发与专项: name → keywords searched in summaries.</summary>
    public IReadOnlyList<(string Name, string[] Keywords)> SpecialTopics { get; init; } =
    [
        ("供暖", ["供暖", "暖气"]),
        ("汛期防汛", ["积水", "进水", "排水", "暴雨", "内涝"]),
        ("开学入学", ["入学", "学位", "开学", "校车"]),
        ("停水停电", ["停水", "停电"]),
        ("欠薪", ["拖欠工资", "欠薪", "工资未结清"]),
    ];

    /// <summary>Maximum rows of the ticket lists on 突发与专项 and 督办与超期 (the detail sheet has all).</summary>
    public int MaxListedTickets { get; init; } = 500;

    /// <summary>How the detail sheet writes text from small sets of values (see reports/README.md, "Shared vs inline strings").</summary>
    public DetailSheetStrings DetailStrings { get; init; } = DetailSheetStrings.SharedForRepeatedValues;
}

/// <summary>String storage of the detail sheet (工单明细).</summary>
public enum DetailSheetStrings
{
    /// <summary>Values from small sets (categories, districts, units, 是/否) through the shared string table; free text inline.</summary>
    SharedForRepeatedValues,

    /// <summary>Every text cell inline (kept for the benchmark's comparison).</summary>
    Inline,
}

/// <summary>A count this period against the previous period, the 4-period mean and last year.</summary>
public sealed record Comparison(string Name, double Current, double? Previous, double? Baseline, double? LastYear)
{
    public double? WeekOnWeek => Change(Current, Previous);
    public double? YearOnYear => Change(Current, LastYear);

    public static double? Change(double current, double? before) => before is > 0 ? (current - before.Value) / before.Value : null;
}

public sealed record KpiRow(KpiDefinition Kpi, KpiValue Current, KpiValue Previous, KpiValue LastYear);

public sealed record DailyRow(DateOnly Day, int CallsOffered, int CallsAnswered, int Tickets, int Dispatched);

public sealed record CategoryRow(string Category1, string Category2, string CodePrefix, Comparison Counts, double Share, RisingItem? Rising);

public sealed record DistrictRow(string District, int? Residents, Comparison Counts, int ComplaintsAndReports, KpiValue Satisfaction, int Overdue)
{
    public double? Per10k => Residents is > 0 ? Counts.Current * 10_000 / Residents.Value : null;
}

public sealed record TermRow(HotTerm Term, RisingItem Rising, IReadOnlyList<string> Examples);

public sealed record SpecialTopicRow(string Name, string Keywords, Comparison Counts);

/// <summary>
/// The analysis behind the workbook, computed once from <see cref="WeeklyFacts"/>; pure (no I/O) so the
/// server can also show parts of it on dashboards.
/// </summary>
public sealed record WeeklyReport
{
    public required WeeklyFacts Facts { get; init; }
    public required WeeklyReportOptions Options { get; init; }
    public required IReadOnlyList<TicketFact> Tickets { get; init; }
    public required IReadOnlyList<CallFact> Calls { get; init; }
    public required IReadOnlyList<KpiRow> Overview { get; init; }
    public required IReadOnlyList<Comparison> Channels { get; init; }
    public required IReadOnlyList<(TicketType Type, Comparison Counts, KpiValue Satisfaction)> Types { get; init; }
    public required IReadOnlyList<DailyRow> Daily { get; init; }
    public required IReadOnlyList<Comparison> Categories1 { get; init; }
    public required IReadOnlyList<CategoryRow> Categories2 { get; init; }
    public required IReadOnlyList<TermRow> HotTerms { get; init; }
    public required IReadOnlyList<RisingItem> Rising { get; init; }
    public required IReadOnlyList<DistrictRow> Districts { get; init; }
    public required IReadOnlyList<(string District, string Town, int Count)> Towns { get; init; }
    public required UnitRanking Units { get; init; }
    public required IReadOnlyList<(string Name, int Count)> SatisfactionCounts { get; init; }
    public required IReadOnlyList<(string Reason, int Count)> UnsatisfiedReasons { get; init; }
    public required IReadOnlyList<PlaceCluster> Clusters { get; init; }
    public required IReadOnlyList<RepeatCaller> RepeatCallers { get; init; }
    public required IReadOnlyList<SpecialTopicRow> SpecialTopics { get; init; }
    public required IReadOnlyList<TicketFact> SpecialTickets { get; init; }
    public required IReadOnlyList<(SupervisionLevel Level, int Count)> Supervision { get; init; }
    public required IReadOnlyList<TicketFact> OverdueTickets { get; init; }
    public required IReadOnlyList<string> Narrative { get; init; }

    public ReportPeriod Period => Facts.Period;

    /// <param name="progress">Optional: the analysis step being computed (分析：…) and the fraction of the analysis done.</param>
    public static WeeklyReport Build(WeeklyFacts facts, WeeklyReportOptions? options = null, IProgress<WorkbookProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(facts);
        options ??= WeeklyReportOptions.Default;
        void Step(string stage, double fraction) => progress?.Report(new WorkbookProgress("分析：" + stage, fraction));
        Step("数据切片", 0);
        var period = facts.Period;
        var byDay = facts.Tickets.ToLookup(t => facts.LocalDate(t.RegisteredAt));
        var callsByDay = facts.Calls.ToLookup(c => facts.LocalDate(c.OfferedAt));
        List<TicketFact> T(ReportPeriod p) => Days(p).SelectMany(d => byDay[d]).ToList();
        List<CallFact> C(ReportPeriod p) => Days(p).SelectMany(d => callsByDay[d]).ToList();

        var cur = T(period);
        var calls = C(period);
        var prevPeriods = period.PreviousPeriods(4);
        var prev = prevPeriods.Select(T).ToList();
        var prevCalls = C(period.Previous);
        var lastYear = T(period.SameLastYear);
        var lastYearCalls = C(period.SameLastYear);
        var hasLastYear = lastYear.Count > 0;
        var cutoff = facts.Cutoff;

        KpiInput In(IReadOnlyList<TicketFact> t, IReadOnlyList<CallFact> c) => new(t, c, cutoff, period.Days, options.Kpi);
        Step("指标", 0.10);
        var kb = facts.KnowledgeIn(period);
        var overview = KpiBook.CallKpis.Concat(KpiBook.TicketKpis)
            .Select(k => new KpiRow(k, k.Of(In(cur, calls) with { Knowledge = kb }), k.Of(In(prev[0], prevCalls) with { Knowledge = facts.KnowledgeIn(period.Previous) }),
                k.Of(In(lastYear, lastYearCalls) with { Knowledge = facts.KnowledgeIn(period.SameLastYear) })))
            .ToList();

        // Counts per key for the period, each previous period and last year, computed once per key.
        Func<string, Comparison> CompareBy(Func<TicketFact, string> key)
        {
            Dictionary<string, int> Count(List<TicketFact> list) =>
                list.GroupBy(key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var c = Count(cur);
            var ps = prev.Select(Count).ToList();
            var ly = Count(lastYear);
            return name => new Comparison(name, c.GetValueOrDefault(name), ps[0].GetValueOrDefault(name),
                ps.Average(p => p.GetValueOrDefault(name)), hasLastYear ? ly.GetValueOrDefault(name) : null);
        }

        Step("渠道、类型与分类", 0.20);
        var byChannel = CompareBy(t => t.Channel);
        var channels = cur.Select(t => t.Channel).Distinct(StringComparer.Ordinal)
            .Select(byChannel).OrderByDescending(c => c.Current).ToList();
        var byType = CompareBy(t => t.Type.Name());
        var types = Zh.AllTypes.Select(ty => (ty, byType(ty.Name()),
            KpiBook.SatisfactionRate.Of(In(cur.Where(t => t.Type == ty).ToList(), [])))).ToList();
        var daily = Days(period).Select(d => new DailyRow(d, KpiBook.CallsOffered.Of(In([], callsByDay[d].ToList())).Value is { } o ? (int)o : 0,
            callsByDay[d].Count(c => c.Answered), byDay[d].Count(), byDay[d].Count(t => !t.AnsweredOnTheSpot))).ToList();

        var byCat1 = CompareBy(t => t.Category1);
        var cat1 = cur.Select(t => t.Category1).Distinct(StringComparer.Ordinal)
            .Select(byCat1).OrderByDescending(c => c.Current).ToList();

        // Rising: level-2 categories and hot terms against the four previous periods.
        static string Cat2(TicketFact t) => $"{t.Category1}/{t.Category2}";
        var byCat2 = CompareBy(Cat2);
        var cat2Names = cur.Select(Cat2).Distinct(StringComparer.Ordinal).ToList();
        var cat2Counts = cat2Names.ToDictionary(n => n, byCat2, StringComparer.Ordinal);
        var prevCat2 = prev.Select(p => p.GroupBy(Cat2, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal)).ToList();
        Step("热点词", 0.30);
        var terms = Analysis.HotTerms.Find(cur, options.HotTerms);
        Step("上升话题", 0.55);
        var series = cat2Names.Select(n => new RisingTopics.Series(RisingKind.Category, n, (int)cat2Counts[n].Current,
                prevCat2.Select(p => p.GetValueOrDefault(n)).ToList(), (int?)cat2Counts[n].LastYear))
            .Concat(terms.Select(h => new RisingTopics.Series(RisingKind.Term, h.Term, h.Documents,
                prev.Select(p => Analysis.HotTerms.CountDocuments(p, h.Term)).ToList(), hasLastYear ? Analysis.HotTerms.CountDocuments(lastYear, h.Term) : null)))
            .ToList();
        var rising = RisingTopics.Evaluate(series, options.Rising);
        var risingByName = rising.ToDictionary(r => (r.Kind, r.Name));

        var cat2 = cur.GroupBy(Cat2, StringComparer.Ordinal)
            .Select(g => new CategoryRow(g.First().Category1, g.First().Category2, g.First().CategoryCode.Length >= 4 ? g.First().CategoryCode[..4] : g.First().CategoryCode,
                cat2Counts[g.Key], cur.Count == 0 ? 0 : (double)g.Count() / cur.Count, risingByName.GetValueOrDefault((RisingKind.Category, g.Key))))
            .OrderByDescending(r => r.Counts.Current).Take(options.TopCategories).ToList();

        var byNumber = cur.ToDictionary(t => t.Number, StringComparer.Ordinal);
        var termRows = terms.Select(h => new TermRow(h, risingByName[(RisingKind.Term, h.Term)],
            h.ExampleIds.Select(id => Masking.Text(byNumber.GetValueOrDefault(id)?.Summary)).ToList())).ToList();

        Step("区域分布", 0.65);
        var residents = facts.Units.Where(u => u.PeerGroup == PeerGroup.District && u.District is not null)
            .GroupBy(u => u.District!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Residents, StringComparer.Ordinal);
        var byDistrict = CompareBy(t => t.District);
        var curByDistrict = cur.ToLookup(t => t.District, StringComparer.Ordinal);
        var districts = cur.Select(t => t.District).Concat(residents.Keys).Distinct(StringComparer.Ordinal)
            .Select(d =>
            {
                var mine = curByDistrict[d].ToList();
                return new DistrictRow(d, residents.GetValueOrDefault(d), byDistrict(d),
                    mine.Count(t => t.Type is TicketType.Complaint or TicketType.Report),
                    KpiBook.SatisfactionRate.Of(In(mine, [])), mine.Count(t => t.IsOverdue));
            })
            .OrderByDescending(r => r.Counts.Current).ToList();
        var towns = cur.Where(t => t.Town.Length > 0).GroupBy(t => (t.District, t.Town))
            .Select(g => (g.Key.District, g.Key.Town, g.Count())).OrderByDescending(x => x.Item3).Take(20).ToList();

        Step("部门评分", 0.72);
        var ranking = UnitScores.Rank(cur, facts.Units, cutoff, period.Days, options.UnitScores with { Kpi = options.Kpi }, kb);

        Step("满意度", 0.80);
        var satisfaction = Enum.GetValues<Satisfaction>().Select(s => (s.Name(), cur.Count(t => t.Satisfaction == s))).ToList();
        var reasons = cur.Where(t => t.Satisfaction == Satisfaction.Unsatisfied)
            .GroupBy(t => string.IsNullOrWhiteSpace(t.UnsatisfiedReason) ? "未注明" : t.UnsatisfiedReason!, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Count())).OrderByDescending(x => x.Item2).ToList();

        Step("聚集与重复来电", 0.84);
        var clusters = Analysis.Clusters.FindPlaces(cur, options.Clusters);
        var repeat = Analysis.Clusters.FindRepeatCallers(cur, options.Clusters);

        Step("专项与督办", 0.92);
        // Every topic counted in one pass per list (the 1M-ticket profile had five Contains/SearchValues scans per summary at 3.2 s CPU).
        var topics = new KeywordTopics(options.SpecialTopics.Select(t => t.Keywords).ToList());
        var curTopics = topics.Count(cur);
        var prevTopics = prev.Select(topics.Count).ToList();
        var lastYearTopics = hasLastYear ? topics.Count(lastYear) : null;
        var special = options.SpecialTopics.Select((s, k) => new SpecialTopicRow(s.Name, string.Join("、", s.Keywords),
            new Comparison(s.Name, curTopics[k], prevTopics[0][k], prevTopics.Average(p => p[k]), lastYearTopics?[k]))).ToList();
        var specialTickets = cur.Where(t => t.Category1 == "突发与专项" || t.Urgency == Urgency.VeryUrgent)
            .OrderBy(t => t.RegisteredAt).Take(options.MaxListedTickets).ToList();

        var supervision = Enum.GetValues<SupervisionLevel>().Where(l => l != SupervisionLevel.None)
            .Select(l => (l, cur.Count(t => t.Supervision == l))).ToList();
        var overdue = cur.Where(t => t.IsOverdue || t.Supervision != SupervisionLevel.None)
            .OrderByDescending(t => t.Supervision).ThenBy(t => t.ReplyDeadline).Take(options.MaxListedTickets).ToList();

        var report = new WeeklyReport
        {
            Facts = facts,
            Options = options,
            Tickets = cur,
            Calls = calls,
            Overview = overview,
            Channels = channels,
            Types = types,
            Daily = daily,
            Categories1 = cat1,
            Categories2 = cat2,
            HotTerms = termRows,
            Rising = rising,
            Districts = districts,
            Towns = towns,
            Units = ranking,
            SatisfactionCounts = satisfaction,
            UnsatisfiedReasons = reasons,
            Clusters = clusters,
            RepeatCallers = repeat,
            SpecialTopics = special,
            SpecialTickets = specialTickets,
            Supervision = supervision,
            OverdueTickets = overdue,
            Narrative = [],
        };
        Step("分析与建议", 0.98);
        report = report with { Narrative = Analysis.Narrative.Write(report) };
        Step("完成", 1);
        return report;
    }

    public KpiRow Kpi(KpiDefinition kpi) => Overview.First(r => r.Kpi.Id == kpi.Id);

    private static IEnumerable<DateOnly> Days(ReportPeriod p) => Enumerable.Range(0, p.Days).Select(i => p.Start.AddDays(i));
}

/// <summary>
/// Counts, per topic, the tickets whose summary contains any of the topic's keywords — all topics in one scan of each
/// summary: a 64K-bit table of keyword first characters skips almost every position, the few candidates are checked
/// with <c>StartsWith</c>.
/// </summary>
internal sealed class KeywordTopics
{
    private readonly System.Collections.BitArray first = new(char.MaxValue + 1);
    private readonly Dictionary<char, (string Keyword, int Topic)[]> byFirst;
    private readonly int topics;

    public KeywordTopics(IReadOnlyList<string[]> keywordsPerTopic)
    {
        topics = keywordsPerTopic.Count;
        byFirst = keywordsPerTopic.SelectMany((ks, topic) => ks.Where(k => k.Length > 0).Select(k => (Keyword: k, Topic: topic)))
            .GroupBy(x => x.Keyword[0]).ToDictionary(g => g.Key, g => g.ToArray());
        foreach (var c in byFirst.Keys)
        {
            first[c] = true;
        }
    }

    public int[] Count(IReadOnlyList<TicketFact> tickets)
    {
        var counts = new int[topics];
        var hit = new bool[topics];
        foreach (var t in tickets)
        {
            var text = t.Summary.AsSpan();
            Array.Clear(hit);
            for (var i = 0; i < text.Length; i++)
            {
                if (!first[text[i]])
                {
                    continue;
                }

                foreach (var (keyword, topic) in byFirst[text[i]])
                {
                    if (!hit[topic] && text[i..].StartsWith(keyword, StringComparison.Ordinal))
                    {
                        hit[topic] = true;
                        counts[topic]++;
                    }
                }
            }
        }

        return counts;
    }
}
