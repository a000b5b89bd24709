using System.Security.Claims;
using Hotline.Server.Auth;
using Hotline.Server.Calls;
using Hotline.Server.Tickets;
using Hotline.Domain.Tickets;

namespace Hotline.Server.Reports;

public static class ReportsModule
{
    public sealed record GenerateRequest(DateOnly? PeriodStart, DateOnly? PeriodEnd);

    public static IHostApplicationBuilder AddHotlineReports(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ReportService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReportService>());
        return builder;
    }

    public static IEndpointRouteBuilder MapReports(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/reports").WithTags("reports").RequireAuthorization("leader");
        group.MapGet("/", (ReportService reports) => reports.List());
        group.MapPost("/", (GenerateRequest body, ReportService reports, ClaimsPrincipal user) =>
        {
            var errors = new Dictionary<string, string[]>();
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
        group.MapGet("/{id:guid}/download", (Guid id, ReportService reports) =>
        {
            var r = reports.Get(id);
            if (r is null) return Results.Problem(statusCode: 404, title: "报告不存在");
            if (r.Status != "done") return Results.Problem(statusCode: 409, title: "报告尚未生成完成", detail: $"当前状态：{r.Status}");
            // Results.File writes Content-Disposition with filename*=UTF-8'' so the Chinese name survives every browser.
            return Results.File(reports.PathOf(r), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", r.FileName);
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
}
