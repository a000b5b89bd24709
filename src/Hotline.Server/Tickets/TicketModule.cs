using System.Security.Claims;
using Hotline.Domain.Tickets;
using Hotline.Server.Auth;
using Hotline.Server.Reference;
using Microsoft.AspNetCore.Mvc;

namespace Hotline.Server.Tickets;

public static class TicketModule
{
    public sealed record RegisterRequest(string? Channel, string? Type, string? Urgency, string? CategoryCode, string? AreaCode, string? Address, string? Content, string? CallerName, string? CallerPhone, string? CallId, bool Confidential);
    public sealed record AnswerDirectlyRequest(string? Text, string? KnowledgeItemId);
    public sealed record DispatchRequest(string? UnitId, string? Reason);
    public sealed record ReplyRequest(string? Result, string? Text);
    public sealed record ReviewRequest(bool Accept, string? Comment);
    public sealed record CallbackRequest(string? Satisfaction, string? Comment);
    public sealed record CloseRequest(string? Reason);

    public static IEndpointRouteBuilder MapTickets(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/tickets").WithTags("tickets").RequireAuthorization();

        group.MapPost("/", async (RegisterRequest body, HttpContext http, ClaimsPrincipal user, TicketService tickets, TicketViews views, CancellationToken ct) =>
        {
            var key = IdempotencyKey(http);
            var result = await tickets.RegisterAsync(new RegisterTicket(Guid.Empty, "", body.Channel ?? "电话", body.Type, body.Urgency ?? "一般", body.CategoryCode, body.AreaCode,
                body.Address, body.Content, body.CallerName, body.CallerPhone, body.Confidential, body.CallId, user.UserId()), key, Correlation(http), ct);
            http.Response.Headers.ETag = ETag(result.Ticket.Version);
            return TypedResults.Created($"/api/tickets/{result.Ticket.Id}", views.Details(result.Ticket, result.History, user));
        }).RequireAuthorization("office");

        group.MapGet("/", (ClaimsPrincipal user, TicketIndex index, TicketViews views, CityReference city, string? state, string? q, int? page, int? pageSize) =>
        {
            var rows = Visible(index.All, user, city);
            if (!string.IsNullOrEmpty(state) && Enum.TryParse<TicketState>(state, true, out var s)) rows = rows.Where(t => t.State == s);
            if (!string.IsNullOrWhiteSpace(q)) rows = rows.Where(t => t.Number.Contains(q, StringComparison.Ordinal) || t.Content.Contains(q, StringComparison.Ordinal) || (user.IsOffice() && t.CallerPhone.Contains(q, StringComparison.Ordinal)));
            return Paged(rows.OrderByDescending(t => t.RegisteredAt), views, page, pageSize);
        });

        group.MapGet("/{id:guid}", async (Guid id, HttpContext http, ClaimsPrincipal user, TicketService tickets, TicketViews views, CityReference city, CancellationToken ct) =>
        {
            var result = await tickets.LoadAsync(id, ct);
            if (!CanSee(result.Ticket, user, city)) throw new TicketService.TicketNotFoundException(id);
            http.Response.Headers.ETag = ETag(result.Ticket.Version);
            return TypedResults.Ok(views.Details(result.Ticket, result.History, user));
        });

        MapAction<AnswerDirectlyRequest>(group, TicketActions.AnswerDirectly, (b, u) => new AnswerDirectly(b.Text, b.KnowledgeItemId, u.UserId()), "office");
        MapAction<DispatchRequest>(group, TicketActions.Dispatch, (b, u) => new DispatchTicket(Guid.CreateVersion7(), b.UnitId, b.Reason, u.UserId()), "dispatcher");
        MapAction<EmptyRequest>(group, TicketActions.SignFor, (_, u) => new SignForTask(u.UnitId(), u.UserId()), "handler");
        MapAction<ReplyRequest>(group, TicketActions.Reply, (b, u) => new SubmitReply(u.UnitId(), b.Result, b.Text, u.UserId()), "handler");
        MapAction<ReviewRequest>(group, TicketActions.Review, (b, u) => new ReviewReply(b.Accept, b.Comment, u.UserId()), "dispatcher");
        MapAction<CallbackRequest>(group, TicketActions.Callback, (b, u) => new RecordCallback(b.Satisfaction, b.Comment, u.UserId()), "callback");
        MapAction<CloseRequest>(group, TicketActions.Close, (b, u) => new CloseTicket(b.Reason, u.UserId()), "dispatcher");

        app.MapGet("/api/worklists/{name}", (string name, ClaimsPrincipal user, TicketIndex index, TicketViews views, CityReference city, int? page, int? pageSize) =>
        {
            IEnumerable<Ticket>? rows = name switch
            {
                "to-dispatch" when user.IsInRole(Roles.Dispatcher) || user.IsInRole(Roles.Admin) => index.InState(TicketState.Registered).OrderBy(t => t.DispatchDueAt),
                "to-review" when user.IsInRole(Roles.Dispatcher) || user.IsInRole(Roles.Admin) => index.InState(TicketState.Replied).OrderBy(t => t.MainTask?.RepliedAt),
                "to-callback" when user.IsInRole(Roles.Callback) || user.IsInRole(Roles.Admin) => index.InState(TicketState.AwaitingCallback).OrderBy(t => t.ReplyAcceptedAt),
                "inbox" when user.IsInRole(Roles.Handler) => index.ForUnit(u => city.IsWithin(u, user.UnitId())).OrderBy(t => t.MainTask?.ReplyDueAt),
                "to-dispatch" or "to-review" or "to-callback" or "inbox" => null,
                _ => throw new Domain.Common.DomainValidationException("name", "工作清单必须是 to-dispatch / to-review / to-callback / inbox 之一"),
            };
            return rows is null ? Results.Problem(statusCode: 403, title: "无权查看该工作清单") : Results.Ok(Paged(rows, views, page, pageSize));
        }).RequireAuthorization().WithTags("tickets");
        return app;
    }

    public sealed record EmptyRequest;

    private static void MapAction<TBody>(RouteGroupBuilder group, string action, Func<TBody, ClaimsPrincipal, TicketCommand> toCommand, string policy)
        where TBody : class
    {
        group.MapPost("/{id:guid}/" + action, async (Guid id, HttpContext http, ClaimsPrincipal user, TicketService tickets, TicketViews views, TicketIndex index, CityReference city, CancellationToken ct) =>
        {
            var known = index.Get(id);
            if (known is not null && !CanSee(known, user, city)) throw new TicketService.TicketNotFoundException(id);
            var expected = IfMatch(http);
            var body = await ReadBody<TBody>(http, ct);
            var result = await tickets.ExecuteAsync(id, expected, toCommand(body, user), IdempotencyKey(http), Correlation(http), ct);
            http.Response.Headers.ETag = ETag(result.Ticket.Version);
            return TypedResults.Ok(views.Details(result.Ticket, result.History, user));
        }).RequireAuthorization(policy).Accepts<TBody>("application/json").Produces<TicketDetails>();
    }

    private static async Task<T> ReadBody<T>(HttpContext http, CancellationToken ct) where T : class
    {
        if (typeof(T) == typeof(EmptyRequest)) return (T)(object)new EmptyRequest();
        if (http.Request.ContentLength == 0 || !http.Request.HasJsonContentType())
            throw new Domain.Common.DomainValidationException("body", "请求体必须是 JSON（Content-Type: application/json）");
        return await http.Request.ReadFromJsonAsync<T>(TicketViews.Json, ct) ?? throw new Domain.Common.DomainValidationException("body", "请求体不能为空");
    }

    /// <summary>Office roles and leaders see every ticket; a unit handler sees only tickets with a task of its unit or subtree (others are 404).</summary>
    public static bool CanSee(Ticket t, ClaimsPrincipal user, CityReference city) =>
        user.IsOffice() || user.IsInRole(Roles.Leader) || (user.IsInRole(Roles.Handler) && t.Tasks.Any(task => city.IsWithin(task.UnitId, user.UnitId())));

    private static IEnumerable<Ticket> Visible(IEnumerable<Ticket> all, ClaimsPrincipal user, CityReference city) => all.Where(t => CanSee(t, user, city));

    private static Page<TicketSummary> Paged(IEnumerable<Ticket> rows, TicketViews views, int? page, int? pageSize)
    {
        var size = Math.Clamp(pageSize ?? 20, 1, 200);
        var number = Math.Max(1, page ?? 1);
        var list = rows.ToList();
        return new Page<TicketSummary>(list.Skip((number - 1) * size).Take(size).Select(views.Summary).ToList(), list.Count);
    }

    private static long IfMatch(HttpContext http)
    {
        var raw = http.Request.Headers.IfMatch.ToString();
        if (string.IsNullOrWhiteSpace(raw))
            throw new PreconditionRequiredException();
        var text = raw.Trim();
        if (text.StartsWith("W/", StringComparison.Ordinal)) text = text[2..];
        text = text.Trim('"');
        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= 1
            ? v
            : throw new Domain.Common.DomainValidationException("If-Match", "If-Match 必须是工单版本号，例如 \"3\"");
    }

    private static string? IdempotencyKey(HttpContext http)
    {
        var key = http.Request.Headers["Idempotency-Key"].ToString();
        if (string.IsNullOrWhiteSpace(key)) return null;
        return key.Length > 200 || key.Any(char.IsControl)
            ? throw new Domain.Common.DomainValidationException("Idempotency-Key", "Idempotency-Key 过长或含控制字符")
            : key;
    }

    private static Guid Correlation(HttpContext http) =>
        Guid.TryParse(http.Request.Headers["X-Correlation-Id"].ToString(), out var g) ? g : Guid.CreateVersion7();

    public static string ETag(long version) => $"\"{version}\"";
}

/// <summary>A write without If-Match (428): every write must name the version it was based on.</summary>
public sealed class PreconditionRequiredException : Exception
{
    public PreconditionRequiredException() : base("If-Match header with the ticket version is required.") { }
    public PreconditionRequiredException(string message) : base(message) { }
    public PreconditionRequiredException(string message, Exception inner) : base(message, inner) { }
}
