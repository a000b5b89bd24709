using System.Security.Claims;
using Hotline.Server.Auth;
using Hotline.Server.Calls;
using Hotline.Server.Tickets;
using Hotline.Domain.Tickets;

namespace Hotline.Server.Reports;

public static class ReportsModule
{
    /// <summary>
    /// Either a range (<c>periodStart</c>/<c>periodEnd</c>, any dates) or a <c>kind</c> (weekly / monthly / quarterly) with an
    /// optional <c>date</c> inside the wanted period; a kind without a date means the last complete period.
    /// </summary>
    public sealed record GenerateRequest(DateOnly? PeriodStart, DateOnly? PeriodEnd, string? Kind = null, DateOnly? Date = null);

    public static IHostApplicationBuilder AddHotlineReports(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<ReportsOptions>(builder.Configuration.GetSection(ReportsOptions.Section));
        builder.Services.AddSingleton<ReportService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReportService>());
        return builder;
    }

    public static IEndpointRouteBuilder MapReports(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/reports").WithTags("reports").RequireAuthorization("leader");
        group.MapGet("/", (ReportService reports) => reports.List());
        group.MapPost("/", (GenerateRequest body, ReportService reports, ClaimsPrincipal user, TimeProvider time) =>
        {
            var errors = new Dictionary<string, string[]>();
            if (body.Kind is { } kind && kind != ReportKinds.Custom)
            {
                if (!ReportKinds.All.Contains(kind)) return Results.ValidationProblem(new Dictionary<string, string[]> { ["kind"] = [$"报告类型应为 {string.Join(" / ", ReportKinds.All)}"] }, title: "报告周期有误");
                var today = DateOnly.FromDateTime(TimeZones.ToLocal(time.GetUtcNow()).DateTime);
                // Without a date: the last complete period (the day before the current period started lies in it).
                var day = body.Date ?? ReportKinds.PeriodContaining(kind, today).Start.AddDays(-1);
                var (start, end) = ReportKinds.PeriodContaining(kind, day);
                var requested = reports.Request(start, end, user.UserId());
                return Results.Accepted($"/api/reports/{requested.Id}", requested);
            }

            if (body.PeriodStart is null) errors["periodStart"] = ["开始日期不能为空（yyyy-MM-dd）"];
            if (body.PeriodEnd is null) errors["periodEnd"] = ["结束日期不能为空（yyyy-MM-dd）"];
            if (body.PeriodStart is { } s && body.PeriodEnd is { } e)
            {
                if (e < s) errors["periodEnd"] = ["结束日期不能早于开始日期"];
                else if (e.DayNumber - s.DayNumber > 366) errors["periodEnd"] = ["统计周期不能超过 366 天"];
            }
            if (errors.Count > 0) return Results.ValidationProblem(errors, title: "报告周期有误");
            var info = reports.Request(body.PeriodStart!.Value, body.PeriodEnd!.Value, user.UserId());
            return Results.Accepted($"/api/reports/{info.Id}", info);
        });
        group.MapGet("/{id:guid}", (Guid id, ReportService reports) => reports.Get(id) is { } r ? Results.Ok(r) : Results.Problem(statusCode: 404, title: "报告不存在"));
        group.MapGet("/{id:guid}/download", (Guid id, ReportService reports, HttpContext http) =>
        {
            var r = reports.Get(id);
            if (r is null) return Results.Problem(statusCode: 404, title: "报告不存在");
            if (r.Status != "done") return Results.Problem(statusCode: 409, title: "报告尚未生成完成", detail: $"当前状态：{r.Status}");
            http.Response.Headers.ContentDisposition = ContentDisposition(r.FileName, r.AsciiFileName ?? $"hotline-report-{r.PeriodStart:yyyyMMdd}-{r.PeriodEnd:yyyyMMdd}.xlsx");
            return Results.File(reports.PathOf(r), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        });

        // The console's KPI cards: the KPI book over a period (default: this week so far) against the previous period.
        group.MapGet("/kpi", async (DateOnly? periodStart, DateOnly? periodEnd, ReportService reports, TimeProvider time, CancellationToken ct) =>
        {
            var today = DateOnly.FromDateTime(TimeZones.ToLocal(time.GetUtcNow()).DateTime);
            var start = periodStart ?? ReportKinds.PeriodContaining(ReportKinds.Weekly, today).Start;
            var end = periodEnd ?? today;
            if (end < start || end.DayNumber - start.DayNumber > 366) return Results.ValidationProblem(new Dictionary<string, string[]> { ["periodEnd"] = ["统计周期有误（结束不早于开始，且不超过 366 天）"] }, title: "统计周期有误");
            var rows = await Task.Run(() => reports.Kpis(start, end), ct);
            return Results.Ok(new { periodStart = start, periodEnd = end, kpis = rows });
        });

        app.MapGet("/api/dashboard", (CallStats calls, TicketIndex tickets, TimeProvider time) =>
        {
            var now = time.GetUtcNow();
            var today = calls.Today(now);
            var startOfDay = new DateTimeOffset(TimeZones.ToLocal(now).Date, TimeSpan.FromHours(8));
            var todays = tickets.All.Where(t => t.RegisteredAt >= startOfDay).ToList();
            var callbacks = tickets.All.Where(t => t.Callback is not null).ToList();
            return new
            {
                calls = new { today.Offered, today.Answered, today.Abandoned, today.AnswerRate, today.ServiceLevel15, today.AvgWaitSeconds, today.AvgTalkSeconds },
                tickets = new
                {
                    registered = todays.Count,
                    answeredDirectly = todays.Count(t => t.DirectAnswer is not null),
                    dispatched = todays.Count(t => t.Tasks.Count > 0),
                    closed = tickets.All.Count(t => t.ClosedAt >= startOfDay),
                    overdue = tickets.All.Count(t => t.State is TicketState.Dispatched or TicketState.InProgress && t.MainTask is { } m && m.ReplyDueAt < now),
                    satisfactionRate = callbacks.Count == 0 ? 0 : Math.Round((double)callbacks.Count(t => t.Callback!.Satisfaction != "不满意") / callbacks.Count, 4),
                },
            };
        }).RequireAuthorization("leader").WithTags("reports");
        return app;
    }

    /// <summary>
    /// RFC 6266: an ASCII <c>filename</c> for old clients and the real (Chinese) name as RFC 5987 <c>filename*</c>,
    /// which every current browser prefers. The framework's own fallback would be the Chinese name with every
    /// non-ASCII character replaced by '_'.
    /// </summary>
    public static string ContentDisposition(string fileName, string asciiFallback)
    {
        var ascii = new string(asciiFallback.Select(c => c is >= ' ' and < (char)127 and not ('"' or '\\' or ';') ? c : '_').ToArray());
        return $"attachment; filename=\"{ascii}\"; filename*=UTF-8''{Uri.EscapeDataString(fileName)}";
    }
}
