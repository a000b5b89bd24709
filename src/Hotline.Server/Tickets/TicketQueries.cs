using System.Globalization;
using System.Security.Claims;
using Hotline.Domain.Common;
using Hotline.Domain.Tickets;
using Hotline.Server.Auth;
using Hotline.Server.Reference;
using Hotline.Server.Storage;

namespace Hotline.Server.Tickets;

/// <summary>
/// Ticket search over the in-memory <see cref="TicketIndex"/>: number, phone (office only), text, category and area
/// (a code matches itself and everything below it), unit (any task of the unit or below), state, registration date
/// range (Shanghai days, inclusive). Text matching is ordinal substring matching, which works for Chinese without a tokenizer.
/// </summary>
public sealed record TicketSearch(
    string? Number, string? Phone, string? Q, string? Category, string? Area, string? Unit, string? State,
    DateOnly? From, DateOnly? To, bool? Repeat, string? Sort, int? Page, int? PageSize)
{
    public IEnumerable<Ticket> Apply(IEnumerable<Ticket> rows, ClaimsPrincipal user, CityReference city)
    {
        if (!string.IsNullOrWhiteSpace(Number)) rows = rows.Where(t => t.Number.Contains(Number.Trim(), StringComparison.Ordinal));
        if (!string.IsNullOrWhiteSpace(Phone))
        {
            if (!user.IsOffice()) throw new DomainValidationException("phone", "只有热线办人员可以按电话号码检索");
            var phone = Phone.Trim();
            rows = rows.Where(t => t.CallerPhone.Contains(phone, StringComparison.Ordinal));
        }
        if (!string.IsNullOrWhiteSpace(Q))
        {
            var q = Q.Trim();
            rows = rows.Where(t => t.Number.Contains(q, StringComparison.Ordinal) || t.Content.Contains(q, StringComparison.Ordinal) || t.Address.Contains(q, StringComparison.Ordinal)
                || t.Duplicates.Any(d => d.Content.Contains(q, StringComparison.Ordinal)) || (user.IsOffice() && t.CallerPhone.Contains(q, StringComparison.Ordinal)));
        }
        if (!string.IsNullOrWhiteSpace(Category)) rows = rows.Where(t => t.CategoryCode.StartsWith(Category.Trim(), StringComparison.Ordinal));
        if (!string.IsNullOrWhiteSpace(Area)) rows = rows.Where(t => t.AreaCode.StartsWith(Area.Trim(), StringComparison.Ordinal));
        if (!string.IsNullOrWhiteSpace(Unit)) rows = rows.Where(t => t.Tasks.Any(task => city.IsWithin(task.UnitId, Unit.Trim())));
        if (!string.IsNullOrWhiteSpace(State))
        {
            var states = State.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => Enum.TryParse<TicketState>(s, true, out var v) && v != TicketState.None ? v : throw new DomainValidationException("state", $"未知状态 {s}"))
                .ToHashSet();
            rows = rows.Where(t => states.Contains(t.State));
        }
        if (From is { } from) rows = rows.Where(t => DayOf(t.RegisteredAt) >= from);
        if (To is { } to) rows = rows.Where(t => DayOf(t.RegisteredAt) <= to);
        if (Repeat is { } repeat) rows = rows.Where(t => t.RepeatOf.Count > 0 == repeat);
        return rows;
    }

    public IEnumerable<Ticket> Ordered(IEnumerable<Ticket> rows) => Sort switch
    {
        null or "" or "-created" => rows.OrderByDescending(t => t.RegisteredAt),
        "created" => rows.OrderBy(t => t.RegisteredAt),
        "number" => rows.OrderBy(t => t.Number, StringComparer.Ordinal),
        "-number" => rows.OrderByDescending(t => t.Number, StringComparer.Ordinal),
        _ => throw new DomainValidationException("sort", "排序必须是 created / -created / number / -number"),
    };

    private static DateOnly DayOf(DateTimeOffset at) => DateOnly.FromDateTime(TimeZones.ToLocal(at).DateTime);
}

/// <summary>UnitInbox, OverdueTasks and the audit query.</summary>
public static class TicketQueriesModule
{
    public static IReadOnlyList<string> Boxes { get; } = ["to-sign", "in-progress", "overdue", "returned", "pending", "all"];

    public static IEndpointRouteBuilder MapTicketQueries(this IEndpointRouteBuilder app)
    {
        // UnitInbox: the open tasks of a unit (and, with subtree=true, of the units below it), one row per task with its colour.
        app.MapGet("/api/units/{unitId}/inbox", (string unitId, string? box, bool? subtree, string? sort, int? page, int? pageSize,
            ClaimsPrincipal user, TicketIndex index, TicketViews views, CityReference city, TimeProvider time) =>
        {
            if (city.UnitOf(unitId) is null) throw new DomainValidationException("unitId", "单位不存在");
            if (!user.IsOffice() && !user.IsInRole(Roles.Leader) && !(user.IsInRole(Roles.Handler) && city.IsWithin(unitId, user.UnitId())))
                return Results.Problem(statusCode: 403, title: "只能查看本单位及下级单位的待办");
            var name = box ?? "all";
            if (!Boxes.Contains(name)) throw new DomainValidationException("box", "box 必须是 " + string.Join(" / ", Boxes));
            var now = time.GetUtcNow();
            Func<string, bool> inScope = u => subtree == true ? city.IsWithin(u, unitId) : u == unitId;
            var rows = index.WithOpenTasks(inScope).SelectMany(t => t.Tasks.Where(task => task.IsOpen && inScope(task.UnitId)).Select(task => (t, task)));
            rows = name switch
            {
                "to-sign" => rows.Where(x => x.task.State == TaskState.ToSign),
                "in-progress" => rows.Where(x => x.task.State == TaskState.InProgress),
                "overdue" => rows.Where(x => IsOverdue(x.task, now)),
                "returned" => rows.Where(x => x.task.ReworkCount > 0),
                "pending" => rows.Where(x => x.task.PendingReturn is not null || x.task.PendingExtension is not null),
                _ => rows,
            };
            // Sorted on the task's own fields (the row's deadline is the sign-for deadline while it waits, else the reply
            // deadline); only the rows of the page are shaped (category and area paths, deadline colour), not every open task.
            var ordered = sort switch
            {
                null or "" or "deadline" => rows.OrderBy(x => RunningDueAt(x.task)),
                "-deadline" => rows.OrderByDescending(x => RunningDueAt(x.task)),
                "dispatched" => rows.OrderBy(x => x.task.DispatchedAt),
                "-dispatched" => rows.OrderByDescending(x => x.task.DispatchedAt),
                _ => throw new DomainValidationException("sort", "排序必须是 deadline / -deadline / dispatched / -dispatched"),
            };
            var all = ordered.ToList();
            var size = Math.Clamp(pageSize ?? 20, 1, 200);
            var items = all.Skip((Math.Max(1, page ?? 1) - 1) * size).Take(size).Select(x => views.Row(x.t, x.task)).ToList();
            return Results.Ok(new Page<TaskRow>(items, all.Count));
        }).RequireAuthorization().WithTags("tickets");

        // OverdueTasks: every open task past its sign-for or reply deadline (office and leaders: all; a handler: own subtree).
        app.MapGet("/api/tasks/overdue", (string? unitId, int? page, int? pageSize, ClaimsPrincipal user, TicketIndex index, TicketViews views, CityReference city, TimeProvider time) =>
        {
            var now = time.GetUtcNow();
            var scope = user.IsOffice() || user.IsInRole(Roles.Leader) ? unitId : user.IsInRole(Roles.Handler) ? user.UnitId() : null;
            if (scope is null && !(user.IsOffice() || user.IsInRole(Roles.Leader))) return Results.Problem(statusCode: 403, title: "无权查看超期任务");
            var rows = index.All.SelectMany(t => t.Tasks.Where(task => IsOverdue(task, now) && (scope is null || city.IsWithin(task.UnitId, scope))).Select(task => views.Row(t, task)))
                .OrderBy(r => r.Deadline.DueAt);
            return Results.Ok(PageOf(rows, page, pageSize));
        }).RequireAuthorization().WithTags("tickets");

        // The audit trail of personal-data reads (admins).
        app.MapGet("/api/admin/audit", async (DateOnly? from, DateOnly? to, string? userId, Guid? ticketId, AuditLog audit, TimeProvider time, CancellationToken ct) =>
        {
            var today = DateOnly.FromDateTime(TimeZones.ToLocal(time.GetUtcNow()).DateTime);
            var start = from ?? to ?? today;
            var end = to ?? from ?? today;
            if (end < start || end.DayNumber - start.DayNumber > 92) throw new DomainValidationException("to", "日期范围必须在 93 天以内，且结束不早于开始");
            var rows = await audit.QueryAsync(start, end, string.IsNullOrWhiteSpace(userId) ? null : userId, ticketId, ct);
            return Results.Ok(new { from = start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), to = end.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), total = rows.Count, items = rows });
        }).RequireAuthorization("admin").WithTags("admin");
        app.MapReadModelAdmin();
        return app;
    }

    /// <summary>The deadline a task row shows (<see cref="TicketViews.TaskDeadline"/>): sign-for while it waits, else the reply.</summary>
    private static DateTimeOffset RunningDueAt(TicketTask task) => task.State == TaskState.ToSign ? task.SignDueAt : task.ReplyDueAt;

    public static bool IsOverdue(TicketTask task, DateTimeOffset now) =>
        task.State == TaskState.ToSign ? now > task.SignDueAt : task.State == TaskState.InProgress && now > task.ReplyDueAt;

    private static Page<T> PageOf<T>(IEnumerable<T> rows, int? page, int? pageSize)
    {
        var size = Math.Clamp(pageSize ?? 20, 1, 200);
        var number = Math.Max(1, page ?? 1);
        var list = rows.ToList();
        return new Page<T>(list.Skip((number - 1) * size).Take(size).ToList(), list.Count);
    }
}
