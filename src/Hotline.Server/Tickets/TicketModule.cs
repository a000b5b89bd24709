using System.Security.Claims;
using Hotline.Domain.Tickets;
using Hotline.Server.Auth;
using Hotline.Server.Reference;
using Microsoft.AspNetCore.Mvc;

namespace Hotline.Server.Tickets;

public static class TicketModule
{
    public sealed record RegisterRequest(string? Channel, string? Type, string? Urgency, string? CategoryCode, string? AreaCode, string? Address, string? Content, string? CallerName, string? CallerPhone, string? CallId, bool Confidential, bool Anonymous = false, IReadOnlyList<string>? CallIds = null);
    public sealed record AnswerDirectlyRequest(string? Text, string? KnowledgeItemId);
    public sealed record OutOfScopeRequest(string? ReasonCode, string? ReferredTo, string? Note);
    public sealed record EmergencyRequest(string? Line, string? Note, string? CallId, DateTimeOffset? TransferredAt);
    public sealed record DispatchRequest(string? UnitId, string? Reason, IReadOnlyList<string>? CoUnitIds = null, string? OverrideReason = null);
    public sealed record SubDispatchRequest(string? UnitId, string? Reason);
    public sealed record ReturnRequest(string? Reason, string? LegalBasis);
    public sealed record DecisionRequest(Guid? TaskId, bool Approve, string? Comment, int? Days = null);
    public sealed record ExtensionRequest(int? Days, string? Reason);
    public sealed record NoteRequest(string? Text);
    public sealed record FirstContactRequest(DateTimeOffset? ContactedAt);
    public sealed record ReplyRequest(string? Result, string? Text, string? UnresolvedReason = null);
    public sealed record ReviewRequest(bool Accept, string? Comment);
    public sealed record CallbackRequest(string? Satisfaction, string? Comment);
    public sealed record CallbackFailedRequest(string? Reason);
    public sealed record UrgeRequest(Guid? TaskId, string? Reason);
    public sealed record SuperviseRequest(Guid? TaskId, string? Level, string? Reason);
    public sealed record MergeRequest(Guid? MasterId, string? Reason);
    public sealed record CloseRequest(string? Reason);
    public sealed record ReopenRequest(string? Reason);
    public sealed record HoldRequest(string? Reason);

    public static IEndpointRouteBuilder MapTickets(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/tickets").WithTags("tickets").RequireAuthorization();

        group.MapPost("/", async (RegisterRequest body, HttpContext http, ClaimsPrincipal user, TicketService tickets, TicketViews views, CancellationToken ct) =>
        {
            var key = IdempotencyKey(http);
            var result = await tickets.RegisterAsync(new RegisterTicket(Guid.Empty, "", body.Channel ?? "电话", body.Type, body.Urgency ?? "一般", body.CategoryCode, body.AreaCode,
                body.Address, body.Content, body.CallerName, body.CallerPhone, body.Confidential, body.CallId, user.UserId()) { Anonymous = body.Anonymous, CallIds = body.CallIds ?? [] }, key, Correlation(http), ct);
            http.Response.Headers.ETag = ETag(result.Ticket.Version);
            return TypedResults.Created($"/api/tickets/{result.Ticket.Id}", views.Details(result.Ticket, result.History, user));
        }).RequireAuthorization("office");

        group.MapGet("/", async ([AsParameters] TicketSearch search, HttpContext http, ClaimsPrincipal user, TicketSearchService searcher, TicketViews views, AuditLog audit, CancellationToken ct) =>
        {
            var (rows, total, source) = await searcher.SearchAsync(search, user, ct);
            if (user.IsOffice() && !string.IsNullOrWhiteSpace(search.Phone))
                await audit.RecordAsync(user, null, "按电话号码检索工单", AuditLog.Why(http, "检索来电人工单"), Masking.Phone(search.Phone.Trim()), ct);
            http.Response.Headers["X-Read-Model"] = source;
            return new Page<TicketSummary>(rows.Select(views.Summary).ToList(), total);
        });

        group.MapGet("/{id:guid}", async (Guid id, HttpContext http, ClaimsPrincipal user, TicketService tickets, TicketViews views, CityReference city, AuditLog audit, CancellationToken ct) =>
        {
            var result = await tickets.LoadAsync(id, ct);
            if (!CanSee(result.Ticket, user, city)) throw new TicketService.TicketNotFoundException(id);
            await audit.RecordAsync(user, result.Ticket, "工单详情（含来电人信息）", AuditLog.Why(http, "办理工单"), null, ct);
            http.Response.Headers.ETag = ETag(result.Ticket.Version);
            return TypedResults.Ok(views.Details(result.Ticket, result.History, user));
        });

        group.MapPost("/{id:guid}/merge", async (Guid id, MergeRequest body, HttpContext http, ClaimsPrincipal user, TicketService tickets, TicketViews views, CancellationToken ct) =>
        {
            if (body.MasterId is not { } masterId) throw new Domain.Common.DomainValidationException("masterId", "主工单不能为空");
            var result = await tickets.MergeAsync(id, IfMatch(http), masterId, body.Reason, user.UserId(), IdempotencyKey(http), Correlation(http), ct);
            http.Response.Headers.ETag = ETag(result.Ticket.Version);
            return TypedResults.Ok(views.Details(result.Ticket, result.History, user));
        }).RequireAuthorization("dispatcher");

        MapAction<AnswerDirectlyRequest>(group, TicketActions.AnswerDirectly, (b, u) => new AnswerDirectly(b.Text, b.KnowledgeItemId, u.UserId()), "office");
        MapAction<OutOfScopeRequest>(group, TicketActions.OutOfScope, (b, u) => new RejectOutOfScope(b.ReasonCode, b.ReferredTo, b.Note, u.UserId()), "office");
        MapAction<EmergencyRequest>(group, TicketActions.EmergencyTransfer, (b, u) => new TransferToEmergency(b.Line, b.Note, b.CallId, b.TransferredAt, u.UserId()), "office");
        MapAction<DispatchRequest>(group, TicketActions.Dispatch, (b, u) => new DispatchTicket(Guid.CreateVersion7(), b.UnitId, b.Reason, u.UserId())
        {
            CoUnitIds = b.CoUnitIds ?? [],
            CoTaskIds = (b.CoUnitIds ?? []).Select(_ => Guid.CreateVersion7()).ToList(),
            OverrideReason = b.OverrideReason,
        }, "dispatcher");
        MapAction<SubDispatchRequest>(group, TicketActions.SubDispatch, (b, u) => new SubDispatchTask(Guid.CreateVersion7(), u.UnitId(), b.UnitId, b.Reason, u.UserId()), "handler");
        MapAction<EmptyRequest>(group, TicketActions.SignFor, (_, u) => new SignForTask(u.UnitId(), u.UserId()), "handler");
        MapAction<ReturnRequest>(group, TicketActions.RequestReturn, (b, u) => new RequestReturn(u.UnitId(), b.Reason, b.LegalBasis, u.UserId()), "handler");
        MapAction<DecisionRequest>(group, TicketActions.DecideReturn, (b, u) => new DecideReturn(b.TaskId, b.Approve, b.Comment, OfficeOrUnit(u), u.UserId()), DecidersPolicy);
        MapAction<ExtensionRequest>(group, TicketActions.RequestExtension, (b, u) => new RequestExtension(u.UnitId(), b.Days, b.Reason, u.UserId()), "handler");
        MapAction<DecisionRequest>(group, TicketActions.DecideExtension, (b, u) => new DecideExtension(b.TaskId, b.Approve, b.Days, b.Comment, OfficeOrUnit(u), u.UserId()), DecidersPolicy);
        MapAction<NoteRequest>(group, TicketActions.Note, (b, u) => new AddProgressNote(OfficeOrUnit(u), b.Text, u.UserId()), NotesPolicy);
        MapAction<FirstContactRequest>(group, TicketActions.FirstContact, (b, u) => new RecordFirstContact(u.UnitId(), b.ContactedAt, u.UserId()), "handler");
        MapAction<ReplyRequest>(group, TicketActions.Reply, (b, u) => new SubmitReply(u.UnitId(), b.Result, b.Text, u.UserId()) { UnresolvedReason = b.UnresolvedReason }, "handler");
        MapAction<ReviewRequest>(group, TicketActions.Review, (b, u) => new ReviewReply(b.Accept, b.Comment, u.UserId()), "dispatcher");
        MapAction<EmptyRequest>(group, TicketActions.ScheduleCallback, (_, u) => new ScheduleCallback(u.UserId()), "dispatcher");
        MapAction<CallbackRequest>(group, TicketActions.Callback, (b, u) => new RecordCallback(b.Satisfaction, b.Comment, u.UserId()), "callback");
        MapAction<CallbackFailedRequest>(group, TicketActions.CallbackFailed, (b, u) => new RecordCallbackAttemptFailed(b.Reason, u.UserId()), "callback");
        MapAction<UrgeRequest>(group, TicketActions.Urge, (b, u) => new UrgeTicket(b.TaskId, b.Reason, false, u.UserId()), LayersPolicy);
        MapAction<SuperviseRequest>(group, TicketActions.Supervise, (b, u) => new SuperviseTicket(b.TaskId, b.Level, b.Reason, false, u.UserId()), LayersPolicy);
        MapAction<CloseRequest>(group, TicketActions.Close, (b, u) => new CloseTicket(b.Reason, u.UserId()), "dispatcher");
        MapAction<ReopenRequest>(group, TicketActions.Reopen, (b, u) => new ReopenTicket(b.Reason, u.UserId()), "dispatcher");
        MapAction<HoldRequest>(group, TicketActions.HoldDispatch, (b, u) => new HoldDispatch(b.Reason, u.UserId()), "dispatcher");
        MapAction<HoldRequest>(group, TicketActions.ReleaseHold, (b, u) => new ReleaseDispatchHold(b.Reason, u.UserId()), "dispatcher");

        // to-dispatch rows carry the dispatch deadline, the hold and the auto-dispatch flag (TicketSummary); sort=deadline
        // (default, soonest first) / -deadline / created / -created.
        app.MapGet("/api/worklists/{name}", (string name, ClaimsPrincipal user, TicketIndex index, TicketViews views, CityReference city, int? page, int? pageSize, string? sort) =>
        {
            if (!string.IsNullOrEmpty(sort) && name != "to-dispatch") throw new Domain.Common.DomainValidationException("sort", "只有待派单清单可以排序");
            IEnumerable<Ticket>? rows = name switch
            {
                "to-dispatch" when user.IsInRole(Roles.Dispatcher) || user.IsInRole(Roles.Admin) => ToDispatchOrder(index.InState(TicketState.Registered), sort),
                "to-review" when user.IsInRole(Roles.Dispatcher) || user.IsInRole(Roles.Admin) => index.InState(TicketState.Replied).OrderBy(t => t.MainTask?.RepliedAt),
                "to-callback" when user.IsInRole(Roles.Callback) || user.IsInRole(Roles.Admin) => index.InState(TicketState.AwaitingCallback).OrderBy(t => t.ReplyAcceptedAt),
                "inbox" when user.IsInRole(Roles.Handler) => index.ForUnit(u => city.IsWithin(u, user.UnitId())).OrderBy(t => t.MainTask?.ReplyDueAt),
                "to-dispatch" or "to-review" or "to-callback" or "inbox" => null,
                _ => throw new Domain.Common.DomainValidationException("name", "工作清单必须是 to-dispatch / to-review / to-callback / inbox 之一"),
            };
            return rows is null ? Results.Problem(statusCode: 403, title: "无权查看该工作清单") : Results.Ok(Paged(rows, views, page, pageSize));
        }).RequireAuthorization().WithTags("tickets");
        app.MapTicketQueries();
        return app;
    }

    public sealed record EmptyRequest;

    private static IEnumerable<Ticket> ToDispatchOrder(IEnumerable<Ticket> rows, string? sort) => sort switch
    {
        null or "" or "deadline" => rows.OrderBy(t => t.DispatchDueAt).ThenBy(t => t.Number, StringComparer.Ordinal),
        "-deadline" => rows.OrderByDescending(t => t.DispatchDueAt).ThenBy(t => t.Number, StringComparer.Ordinal),
        "created" => rows.OrderBy(t => t.RegisteredAt),
        "-created" => rows.OrderByDescending(t => t.RegisteredAt),
        _ => throw new Domain.Common.DomainValidationException("sort", "排序必须是 deadline / -deadline / created / -created"),
    };

    /// <summary>Office users decide for the office (null); a unit handler decides for its unit (returns and extensions of its subtasks).</summary>
    private static string? OfficeOrUnit(ClaimsPrincipal u) => u.IsOffice() ? null : u.UnitId();

    private static readonly Action<Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder> DecidersPolicy = p => p.RequireRole(Roles.Dispatcher, Roles.Admin, Roles.Handler);
    private static readonly Action<Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder> NotesPolicy = p => p.RequireRole(Roles.Agent, Roles.Supervisor, Roles.Dispatcher, Roles.Callback, Roles.Admin, Roles.Handler);
    private static readonly Action<Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder> LayersPolicy = p => p.RequireRole(Roles.Dispatcher, Roles.Supervisor, Roles.Admin);

    private static void MapAction<TBody>(RouteGroupBuilder group, string action, Func<TBody, ClaimsPrincipal, TicketCommand> toCommand, Action<Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder> policy)
        where TBody : class =>
        MapActionCore<TBody>(group, action, toCommand).RequireAuthorization(policy);

    private static void MapAction<TBody>(RouteGroupBuilder group, string action, Func<TBody, ClaimsPrincipal, TicketCommand> toCommand, string policy)
        where TBody : class =>
        MapActionCore<TBody>(group, action, toCommand).RequireAuthorization(policy);

    private static RouteHandlerBuilder MapActionCore<TBody>(RouteGroupBuilder group, string action, Func<TBody, ClaimsPrincipal, TicketCommand> toCommand)
        where TBody : class
    {
        return group.MapPost("/{id:guid}/" + action, async (Guid id, HttpContext http, ClaimsPrincipal user, TicketService tickets, TicketViews views, TicketIndex index, CityReference city, CancellationToken ct) =>
        {
            var known = index.Get(id);
            // The index follows the log, so on a node that did not make the last write it may lag (the dispatch to the
            // handler's unit was written on the other node a moment ago): refuse only what the stream itself refuses.
            if (known is not null && !CanSee(known, user, city) && !CanSee((await tickets.LoadAsync(id, ct)).Ticket, user, city))
                throw new TicketService.TicketNotFoundException(id);
            var expected = IfMatch(http);
            var body = await ReadBody<TBody>(http, ct);
            var result = await tickets.ExecuteAsync(id, expected, toCommand(body, user), IdempotencyKey(http), Correlation(http), ct);
            http.Response.Headers.ETag = ETag(result.Ticket.Version);
            return TypedResults.Ok(views.Details(result.Ticket, result.History, user));
        }).Accepts<TBody>("application/json").Produces<TicketDetails>();
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
