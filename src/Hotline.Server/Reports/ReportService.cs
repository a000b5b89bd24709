using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Hotline.Domain.Tickets;
using Hotline.Reports.Facts;
using Hotline.Reports.Kpi;
using Hotline.Server.Calls;
using Hotline.Server.Hosting;
using Hotline.Server.Reference;
using Hotline.Server.Tickets;
using Microsoft.Extensions.Options;

namespace Hotline.Server.Reports;

/// <param name="Stage">What the generator is doing (排队中, 收集数据, 分析, a sheet name, 完成).</param>
/// <param name="Progress">Fraction done, 0–1.</param>
/// <param name="AsciiFileName">The fallback file name for clients that do not read <c>filename*</c>.</param>
public sealed record ReportInfo(Guid Id, string Kind, DateOnly PeriodStart, DateOnly PeriodEnd, string Status, DateTimeOffset RequestedAt, DateTimeOffset? GeneratedAt, string FileName, long SizeBytes, string RequestedBy, string? Error, bool Demo,
    string? Stage = null, double Progress = 0, string? AsciiFileName = null);

public static class ReportKinds
{
    public const string Weekly = "weekly";
    public const string Monthly = "monthly";
    public const string Quarterly = "quarterly";
    public const string Custom = "custom";

    public static IReadOnlyList<string> All { get; } = [Weekly, Monthly, Quarterly, Custom];

    /// <summary>The period of a kind containing <paramref name="day"/>: the ISO week, the calendar month or quarter.</summary>
    public static (DateOnly Start, DateOnly End) PeriodContaining(string kind, DateOnly day) => kind switch
    {
        Weekly => (day.AddDays(-(((int)day.DayOfWeek + 6) % 7)), day.AddDays(-(((int)day.DayOfWeek + 6) % 7) + 6)),
        Monthly => (new DateOnly(day.Year, day.Month, 1), new DateOnly(day.Year, day.Month, 1).AddMonths(1).AddDays(-1)),
        Quarterly => (new DateOnly(day.Year, ((day.Month - 1) / 3 * 3) + 1, 1), new DateOnly(day.Year, ((day.Month - 1) / 3 * 3) + 1, 1).AddMonths(3).AddDays(-1)),
        _ => throw new ArgumentException($"No fixed period for kind '{kind}'."),
    };

    /// <summary>The kind a date range is: a whole ISO week, calendar month or quarter, otherwise custom.</summary>
    public static string Of(DateOnly start, DateOnly end) =>
        new[] { Weekly, Monthly, Quarterly }.FirstOrDefault(k => PeriodContaining(k, start) == (start, end)) ?? Custom;

    public static PeriodKind ToPeriodKind(string kind) => kind switch
    {
        Weekly => PeriodKind.Weekly,
        Monthly => PeriodKind.Monthly,
        Quarterly => PeriodKind.Quarterly,
        _ => PeriodKind.Custom,
    };

    /// <summary>The Chinese label used in the file name: 2025年第03周, 2025年11月, 2025年第4季度, 20250101-20250115.</summary>
    public static (string Zh, string Ascii) Label(string kind, DateOnly start, DateOnly end) => kind switch
    {
        Weekly => ($"周报_{start:yyyy}年第{System.Globalization.ISOWeek.GetWeekOfYear(start.ToDateTime(TimeOnly.MinValue)):D2}周",
            $"weekly-{System.Globalization.ISOWeek.GetYear(start.ToDateTime(TimeOnly.MinValue))}-W{System.Globalization.ISOWeek.GetWeekOfYear(start.ToDateTime(TimeOnly.MinValue)):D2}"),
        Monthly => ($"月报_{start:yyyy}年{start.Month:D2}月", $"monthly-{start:yyyy-MM}"),
        Quarterly => ($"季报_{start:yyyy}年第{((start.Month - 1) / 3) + 1}季度", $"quarterly-{start:yyyy}-Q{((start.Month - 1) / 3) + 1}"),
        _ => ($"专报_{start:yyyyMMdd}-{end:yyyyMMdd}", $"custom-{start:yyyyMMdd}-{end:yyyyMMdd}"),
    };
}

/// <summary>
/// Generated workbooks: requested on demand or by the weekly job, generated in the background (never on a request
/// thread), stored as files with a JSON index in the data folder, listed and downloaded by leaders.
/// </summary>
public sealed class ReportService : BackgroundService
{
    private readonly ConcurrentDictionary<Guid, ReportInfo> _reports = new();
    private readonly Channel<Guid> _work = Channel.CreateUnbounded<Guid>();
    private readonly string _dir;
    private readonly Lock _indexGate = new();
    private readonly TicketIndex _tickets;
    private readonly CallStats _calls;
    private readonly CityReference _city;
    private readonly TimeProvider _time;
    private readonly ILogger<ReportService> _logger;
    private readonly Hotline.Server.Knowledge.KnowledgeBase _knowledge;
    private readonly ReportsOptions _options;

    public ReportService(IOptions<HotlineOptions> options, IOptions<ReportsOptions> reportOptions, TicketIndex tickets, CallStats calls, CityReference city,
        Hotline.Server.Knowledge.KnowledgeBase knowledge, TimeProvider time, ILogger<ReportService> logger)
    {
        _knowledge = knowledge;
        _options = reportOptions.Value;
        ReportOptions = _options.ToReportOptions(); // validates the weights: a bad configuration stops the start
        _dir = Path.Combine(Path.GetFullPath(options.Value.DataDirectory), "reports");
        Directory.CreateDirectory(_dir);
        _tickets = tickets;
        _calls = calls;
        _city = city;
        _time = time;
        _logger = logger;
        var index = Path.Combine(_dir, "index.json");
        if (File.Exists(index))
        {
            foreach (var r in JsonSerializer.Deserialize<List<ReportInfo>>(File.ReadAllText(index), EventSerializerJson) ?? [])
                _reports[r.Id] = r.Status == "running" ? r with { Status = "queued" } : r;
        }
        foreach (var r in _reports.Values.Where(r => r.Status == "queued")) _work.Writer.TryWrite(r.Id);
    }

    /// <summary>The analysis options from configuration (weights, thresholds).</summary>
    public Hotline.Reports.WeeklyReportOptions ReportOptions { get; }

    private static JsonSerializerOptions EventSerializerJson => Storage.EventSerializer.Json;

    public IReadOnlyList<ReportInfo> List() => _reports.Values.OrderByDescending(r => r.PeriodStart).ThenByDescending(r => r.RequestedAt).ToList();

    public ReportInfo? Get(Guid id) => _reports.GetValueOrDefault(id);

    public string PathOf(ReportInfo r) => Path.Combine(_dir, r.Id.ToString("N") + ".xlsx");

    public ReportInfo Request(DateOnly start, DateOnly end, string by, bool demo = false)
    {
        var kind = ReportKinds.Of(start, end);
        var (zh, ascii) = ReportKinds.Label(kind, start, end);
        var info = new ReportInfo(Guid.CreateVersion7(), kind, start, end, "queued", _time.GetUtcNow(), null,
            $"{_city.CityName}12345热线民意分析{zh}{(demo ? "_演示数据" : "")}.xlsx", 0, by, null, demo, "排队中", 0,
            $"hotline-{ascii}{(demo ? "-demo" : "")}.xlsx");
        _reports[info.Id] = info;
        SaveIndex();
        _work.Writer.TryWrite(info.Id);
        return info;
    }

    /// <summary>The weekly job: one workbook per week; a re-run finds it and does nothing.</summary>
    public Task<ReportInfo> EnsureWeeklyAsync(DateOnly monday, string by, CancellationToken ct)
    {
        var existing = _reports.Values.FirstOrDefault(r => r.Kind == "weekly" && r.PeriodStart == monday && !r.Demo && r.Status != "failed");
        return Task.FromResult(existing ?? Request(monday, monday.AddDays(6), by));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var id in _work.Reader.ReadAllAsync(stoppingToken))
        {
            if (!_reports.TryGetValue(id, out var info)) continue;
            _reports[id] = info = info with { Status = "running", Stage = "收集数据", Progress = 0.02 };
            try
            {
                var path = PathOf(info);
                var temp = path + ".tmp";
                // Everything below runs on a pool thread at below-normal priority: a request thread never waits for it.
                await Task.Run(() =>
                {
                    var facts = info.Demo
                        ? Hotline.Reports.Demo.DemoWeekGenerator.Generate(info.PeriodStart, _options.DemoTicketsPerWeek, seed: info.PeriodStart.DayNumber)
                        : BuildFacts(info.PeriodStart, info.PeriodEnd);
                    Report(id, "分析", 0.10);
                    // The analysis takes 10 %–30 %, step by step (分析：热点词, 分析：部门评分, …).
                    var report = Hotline.Reports.WeeklyReport.Build(facts, ReportOptions, new Progress(p => Report(id, p.Stage, 0.10 + (0.20 * p.Fraction))));
                    // Sheets take the remaining 30 %–100 %.
                    var progress = new Progress(p => Report(id, p.Stage, 0.30 + (0.70 * p.Fraction)));
                    using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                        Hotline.Reports.Workbook.WeeklyWorkbookWriter.Write(report, file, progress);
                    File.Move(temp, path, overwrite: true);
                }, stoppingToken);
                _reports[id] = _reports[id] with { Status = "done", Stage = "完成", Progress = 1, GeneratedAt = _time.GetUtcNow(), SizeBytes = new FileInfo(path).Length };
                _logger.LogInformation("Workbook {File} generated", info.FileName);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogError(e, "Workbook {File} failed", info.FileName);
                _reports[id] = info with { Status = "failed", Stage = "失败", Error = e.Message };
            }
            SaveIndex();
        }
    }

    private void Report(Guid id, string stage, double progress)
    {
        if (_reports.TryGetValue(id, out var r)) _reports[id] = r with { Stage = stage, Progress = Math.Round(progress, 3) };
    }

    /// <summary>Synchronous IProgress: the writer's callbacks update the status directly (no SynchronizationContext hop).</summary>
    private sealed class Progress(Action<Hotline.Reports.Workbook.WorkbookProgress> report) : IProgress<Hotline.Reports.Workbook.WorkbookProgress>
    {
        public void Report(Hotline.Reports.Workbook.WorkbookProgress value) => report(value);
    }

    /// <summary>WeeklyFacts from the read models: the period plus the four periods before and the same period last year.</summary>
    public WeeklyFacts BuildFacts(DateOnly start, DateOnly end)
    {
        var period = new ReportPeriod(start, end, ReportKinds.ToPeriodKind(ReportKinds.Of(start, end)));
        var from = new DateTimeOffset(period.WindowStart.ToDateTime(TimeOnly.MinValue), TimeSpan.FromHours(8));
        var to = new DateTimeOffset(end.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.FromHours(8));
        var tickets = _tickets.All.Where(t => t.RegisteredAt >= from && t.RegisteredAt < to).Select(ToFact).ToList();
        var calls = _calls.Lines(from, to).Select(c => new CallFact(c.OfferedAt, c.Answered, c.WaitSeconds, c.TalkSeconds, 0, c.Abandoned)).ToList();
        var units = _city.Units.Where(u => u.Kind != UnitKinds.Office)
            .Select(u => new UnitFact(u.Id, u.Name, u.Kind switch { UnitKinds.District => PeerGroup.District, UnitKinds.Town => PeerGroup.Town, _ => PeerGroup.CityDepartment },
                null, u.AreaCode is null ? null : _city.AreaPath(u.AreaCode[..2]))).ToList();
        var knowledge = _knowledge.All
            .Where(k => k.Published is not null && k.PublishedAt is { } at && at >= from && at < to && !k.Retired)
            .Select(k => new KnowledgeUpdateFact(k.Id.ToString("N"), k.Published!.OwnerUnitId, k.PublishedAt!.Value, k.Revisions <= 1))
            .ToList();
        return new WeeklyFacts { Period = period, CityName = _city.CityName, Tickets = tickets, Calls = calls, Units = units, KnowledgeUpdates = knowledge, AsOf = _time.GetUtcNow() < to ? _time.GetUtcNow() : null };
    }

    private TicketFact ToFact(Ticket t)
    {
        var main = t.MainTask;
        var categories = _city.CategoryPath(t.CategoryCode).Split(" / ");
        var areas = _city.AreaPath(t.AreaCode).Split(" / ");
        return new TicketFact
        {
            Number = t.Number,
            RegisteredAt = t.RegisteredAt,
            Channel = t.Channel,
            Type = t.Type switch { "咨询" => TicketType.Consultation, "求助" => TicketType.HelpRequest, "投诉" => TicketType.Complaint, "举报" => TicketType.Report, "建议" => TicketType.Suggestion, "表扬" => TicketType.Praise, _ => TicketType.Other },
            CategoryCode = t.CategoryCode,
            Category1 = categories.ElementAtOrDefault(0) ?? "",
            Category2 = categories.ElementAtOrDefault(1) ?? "",
            Category3 = categories.ElementAtOrDefault(2) ?? "",
            District = areas.ElementAtOrDefault(0) ?? "",
            Town = areas.ElementAtOrDefault(1) ?? "",
            Urgency = t.Urgency switch { "紧急" => Urgency.Urgent, "特急" => Urgency.VeryUrgent, _ => Urgency.Normal },
            Summary = Hotline.Reports.Facts.Masking.Text(t.Content),
            CallerPhone = t.CallerPhone,
            CallerPhoneHash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(t.CallerPhone)))[..16],
            PlaceKey = string.IsNullOrWhiteSpace(t.Address) ? null : t.AreaCode + "|" + t.Address,
            MainUnitId = main?.UnitId,
            AnsweredOnTheSpot = t.DirectAnswer is not null,
            KnowledgeItemId = t.KnowledgeItemId,
            DispatchDeadline = t.DirectAnswer is null ? t.DispatchDueAt : null,
            DispatchedAt = main?.DispatchedAt,
            SignedForAt = main?.SignedForAt,
            SignForDeadline = main?.SignDueAt,
            RepliedAt = main?.RepliedAt,
            ReplyResult = main?.ReplyResult switch { "resolved" => ReplyResult.Resolved, "explained" => ReplyResult.Explained, "unresolved" => ReplyResult.Unresolved, _ => null },
            ReplyDeadline = main?.ReplyDueAt,
            ReHandlingCount = t.ReworkCount,
            ExtensionCount = main?.ExtensionCount ?? 0,
            Supervision = t.Supervision?.Level switch { SupervisionLevels.Ordinary => SupervisionLevel.Ordinary, SupervisionLevels.Yellow => SupervisionLevel.YellowCard, SupervisionLevels.Red => SupervisionLevel.RedCard, _ => SupervisionLevel.None },
            ClosedAt = t.ClosedAt,
            CalledBackAt = t.Callback?.At,
            Satisfaction = t.Callback?.Satisfaction switch { "满意" => Satisfaction.Satisfied, "基本满意" => Satisfaction.BasicallySatisfied, "不满意" => Satisfaction.Unsatisfied, _ => null },
            UnsatisfiedReason = t.Callback?.Satisfaction == "不满意" ? t.Callback.Comment : null,
            IsOverdue = main is not null && (main.RepliedAt ?? _time.GetUtcNow()) > main.ReplyDueAt,
        };
    }

    /// <summary>The KPI book (calls and tickets) for a period, with the previous period and the same period last year.</summary>
    public IReadOnlyList<object> Kpis(DateOnly start, DateOnly end)
    {
        var facts = BuildFacts(start, end);
        var p = facts.Period;
        KpiInput In(ReportPeriod q) => new(facts.TicketsIn(q), facts.CallsIn(q), facts.Cutoff, q.Days, ReportOptions.Kpi) { Knowledge = facts.KnowledgeIn(q) };
        var (cur, prev, ly) = (In(p), In(p.Previous), In(p.SameLastYear));
        return KpiBook.CallKpis.Concat(KpiBook.TicketKpis).Select(k => (object)new
        {
            id = k.Id, name = k.Name, unit = k.Unit.ToString().ToLowerInvariant(), threeRates = KpiBook.ThreeRates.Contains(k),
            current = k.Of(cur), previous = k.Of(prev), lastYear = k.Of(ly),
            threshold = k.Threshold is { } t ? new { t.Good, t.Bad, t.HigherIsBetter } : null,
        }).ToList();
    }

    private void SaveIndex()
    {
        lock (_indexGate)
        {
            var path = Path.Combine(_dir, "index.json");
            File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(_reports.Values.OrderBy(r => r.RequestedAt).ToList(), EventSerializerJson));
            File.Move(path + ".tmp", path, overwrite: true);
        }
    }
}
