using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Hotline.Domain.Tickets;
using Hotline.Reports.Facts;
using Hotline.Server.Calls;
using Hotline.Server.Hosting;
using Hotline.Server.Reference;
using Hotline.Server.Tickets;
using Microsoft.Extensions.Options;

namespace Hotline.Server.Reports;

public sealed record ReportInfo(Guid Id, string Kind, DateOnly PeriodStart, DateOnly PeriodEnd, string Status, DateTimeOffset RequestedAt, DateTimeOffset? GeneratedAt, string FileName, long SizeBytes, string RequestedBy, string? Error, bool Demo);

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

    public ReportService(IOptions<HotlineOptions> options, TicketIndex tickets, CallStats calls, CityReference city, TimeProvider time, ILogger<ReportService> logger)
    {
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

    private static JsonSerializerOptions EventSerializerJson => Storage.EventSerializer.Json;

    public IReadOnlyList<ReportInfo> List() => _reports.Values.OrderByDescending(r => r.PeriodStart).ThenByDescending(r => r.RequestedAt).ToList();

    public ReportInfo? Get(Guid id) => _reports.GetValueOrDefault(id);

    public string PathOf(ReportInfo r) => Path.Combine(_dir, r.Id.ToString("N") + ".xlsx");

    public ReportInfo Request(DateOnly start, DateOnly end, string by, bool demo = false)
    {
        var kind = end.DayNumber - start.DayNumber == 6 && start.DayOfWeek == DayOfWeek.Monday ? "weekly" : "custom";
        var label = kind == "weekly" ? $"{start:yyyy}年第{System.Globalization.ISOWeek.GetWeekOfYear(start.ToDateTime(TimeOnly.MinValue)):D2}周" : $"{start:yyyyMMdd}-{end:yyyyMMdd}";
        var info = new ReportInfo(Guid.CreateVersion7(), kind, start, end, "queued", _time.GetUtcNow(), null,
            $"{_city.CityName}12345热线民意分析周报_{label}{(demo ? "_演示数据" : "")}.xlsx", 0, by, null, demo);
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
            _reports[id] = info = info with { Status = "running" };
            try
            {
                var facts = info.Demo
                    ? Hotline.Reports.Demo.DemoWeekGenerator.Generate(info.PeriodStart, 3000, seed: info.PeriodStart.DayNumber)
                    : BuildFacts(info.PeriodStart, info.PeriodEnd);
                var path = PathOf(info);
                var temp = path + ".tmp";
                await Task.Run(() =>
                {
                    using (var file = File.Create(temp)) Hotline.Reports.Workbook.WeeklyWorkbookWriter.Write(facts, file);
                    File.Move(temp, path, overwrite: true);
                }, stoppingToken);
                _reports[id] = info with { Status = "done", GeneratedAt = _time.GetUtcNow(), SizeBytes = new FileInfo(path).Length };
                _logger.LogInformation("Workbook {File} generated", info.FileName);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogError(e, "Workbook {File} failed", info.FileName);
                _reports[id] = info with { Status = "failed", Error = e.Message };
            }
            SaveIndex();
        }
    }

    /// <summary>WeeklyFacts from the read models: the period plus the four weeks before and the same week last year.</summary>
    public WeeklyFacts BuildFacts(DateOnly start, DateOnly end)
    {
        var period = new ReportPeriod(start, end, end.DayNumber - start.DayNumber == 6 ? PeriodKind.Weekly : PeriodKind.Custom);
        var from = new DateTimeOffset(period.WindowStart.ToDateTime(TimeOnly.MinValue), TimeSpan.FromHours(8));
        var to = new DateTimeOffset(end.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.FromHours(8));
        var tickets = _tickets.All.Where(t => t.RegisteredAt >= from && t.RegisteredAt < to).Select(ToFact).ToList();
        var calls = _calls.Lines(from, to).Select(c => new CallFact(c.OfferedAt, c.Answered, c.WaitSeconds, c.TalkSeconds, 0, c.Abandoned)).ToList();
        var units = _city.Units.Where(u => u.Kind != UnitKinds.Office)
            .Select(u => new UnitFact(u.Id, u.Name, u.Kind switch { UnitKinds.District => PeerGroup.District, UnitKinds.Town => PeerGroup.Town, _ => PeerGroup.CityDepartment },
                null, u.AreaCode is null ? null : _city.AreaPath(u.AreaCode[..2]))).ToList();
        return new WeeklyFacts { Period = period, CityName = _city.CityName, Tickets = tickets, Calls = calls, Units = units, AsOf = _time.GetUtcNow() < to ? _time.GetUtcNow() : null };
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
            DispatchedAt = main?.DispatchedAt,
            SignedForAt = main?.SignedForAt,
            SignForDeadline = main?.SignDueAt,
            RepliedAt = main?.RepliedAt,
            ReplyDeadline = main?.ReplyDueAt,
            ReHandlingCount = t.ReworkCount,
            ClosedAt = t.ClosedAt,
            CalledBackAt = t.Callback?.At,
            Satisfaction = t.Callback?.Satisfaction switch { "满意" => Satisfaction.Satisfied, "基本满意" => Satisfaction.BasicallySatisfied, "不满意" => Satisfaction.Unsatisfied, _ => null },
            UnsatisfiedReason = t.Callback?.Satisfaction == "不满意" ? t.Callback.Comment : null,
            IsOverdue = main is not null && (main.RepliedAt ?? _time.GetUtcNow()) > main.ReplyDueAt,
        };
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
