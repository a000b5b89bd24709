using System.Security.Claims;
using System.Text.Json;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Auth;
using Hotline.Server.Storage;
using Hotline.Server.Tickets;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Hotline.Server.Outbox;

/// <summary>What the console shows as a notice (催办, 督办, a decision taken by default, an alert, a report ready).</summary>
public sealed record NoticeView(Guid Id, string Kind, string Title, string Text, Guid? TicketId, string? TicketNumber, DateTimeOffset At);

public interface INotificationClient
{
    Task Notice(NoticeView notice);
}

/// <summary>Notices for every signed-in user: groups per unit ("unit:zjj"), per role ("role:leader") and per user.</summary>
[Authorize]
public sealed class NotificationHub : Hub<INotificationClient>
{
    public static string UnitGroup(string unitId) => "unit:" + unitId;
    public static string RoleGroup(string role) => "role:" + role;
    public static string UserGroup(string userId) => "user:" + userId;

    public override async Task OnConnectedAsync()
    {
        var user = Context.User!;
        await Groups.AddToGroupAsync(Context.ConnectionId, UserGroup(user.UserId()));
        if (user.UnitId() is { Length: > 0 } unit) await Groups.AddToGroupAsync(Context.ConnectionId, UnitGroup(unit));
        foreach (var role in user.FindAll(ClaimTypes.Role)) await Groups.AddToGroupAsync(Context.ConnectionId, RoleGroup(role.Value));
        await base.OnConnectedAsync();
    }
}

/// <summary>An announcement to roles (leaders, admins): a calendar alert, the daily brief, a workbook ready.</summary>
public sealed record AnnouncementPosted(Guid Id, string Kind, string Title, string Text, IReadOnlyList<string> Roles, DateTimeOffset At);

/// <summary>
/// The announcements, as a stream of the event store ("announcements"), so both profiles have them, they reach every
/// node, and each has a deterministic id: posting it twice (a job re-run, two nodes) stores it once. Messages that leave
/// the building (SMS, mail, unit notices) go through the outbox (<see cref="OutboxWriter"/>), not here.
/// </summary>
public sealed class NoticeStore(IEventStore store, TimeProvider time)
{
    public const string AnnouncementStream = "announcements";
    public const string AnnouncementType = "V1.AnnouncementPosted";

    /// <summary>Posts an announcement once per (kind, key): the calendar alert once a day, the brief once per day.</summary>
    public async Task<AnnouncementPosted> AnnounceAsync(string kind, string key, string title, string text, IReadOnlyList<string> roles, CancellationToken ct)
    {
        var row = new AnnouncementPosted(DeterministicId.From("announcement", kind, key), kind, title, text, roles, time.GetUtcNow());
        await AppendAsync(AnnouncementStream, row.Id, AnnouncementType, row, ct);
        return row;
    }

    public async Task<IReadOnlyList<AnnouncementPosted>> AnnouncementsAsync(CancellationToken ct) => await ReadAsync<AnnouncementPosted>(AnnouncementStream, ct);

    private async Task AppendAsync<T>(string stream, Guid id, string type, T row, CancellationToken ct) =>
        await store.AppendAsync(stream, ExpectedRevision.Any,
            [new EventData(id, type, JsonSerializer.SerializeToUtf8Bytes(row, EventSerializer.Json), new EventMetadata("system", null, null, time.GetUtcNow()))], ct);

    private async Task<List<T>> ReadAsync<T>(string stream, CancellationToken ct)
    {
        var rows = new List<T>();
        await foreach (var e in store.ReadStreamAsync(stream, 0, ct))
            if (JsonSerializer.Deserialize<T>(e.Data.Span, EventSerializer.Json) is { } row) rows.Add(row);
        return rows;
    }

    public static T? Read<T>(RecordedEvent e) => JsonSerializer.Deserialize<T>(e.Data.Span, EventSerializer.Json);
}

/// <summary>
/// Turns ticket events into notices, from the global log and never from inside a write: a 催办 or 督办 of a unit is
/// pushed to that unit's users (SignalR) and queued in the outbox for the unit's duty phones (channel 单位通知); decisions
/// taken by default are pushed to the unit; announcements are pushed to their roles. Outbox rows: while catching up from
/// position 0 at start, it notes which urges have no outbox message yet and queues the missing ones at the head, so a
/// crash between the job's write and the message loses nothing; the message id comes from the ticket event's id, so
/// queueing twice (a replay, two nodes) stores one message. Pushes are for live events only; a failed push is logged
/// and forgotten.
/// </summary>
public sealed class NotificationRelay(
    IEventStore store, EventSerializer serializer, OutboxWriter outbox, TicketIndex index, TimeProvider time,
    IHubContext<NotificationHub, INotificationClient> hub, ILogger<NotificationRelay> logger) : BackgroundService
{
    private long _position;

    /// <summary>The outbox message of a unit notice: one per ticket event.</summary>
    public static Guid MessageIdFor(Guid ticketEventId) => OutboxMessages.IdFor(DedupKey(ticketEventId));

    private static string DedupKey(Guid ticketEventId) => $"unit-notice:{ticketEventId:N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pending = new Dictionary<Guid, (ITicketEvent Event, Guid EventId, string UnitId, string Kind, string Text)>();
        var caughtUp = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var head = await store.GetHeadPositionAsync(stoppingToken);
                if (!caughtUp && _position >= head) { caughtUp = true; await FlushAsync(pending, stoppingToken); }
                await foreach (var e in store.SubscribeToAllAsync(_position, stoppingToken))
                {
                    var live = caughtUp;
                    await HandleAsync(e, live, pending, stoppingToken);
                    _position = e.Position;
                    if (!caughtUp && e.Position >= head) { caughtUp = true; await FlushAsync(pending, stoppingToken); }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
            catch (Exception e)
            {
                logger.LogWarning(e, "Notification relay dropped at position {Position}; resubscribing", _position);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task FlushAsync(Dictionary<Guid, (ITicketEvent Event, Guid EventId, string UnitId, string Kind, string Text)> pending, CancellationToken ct)
    {
        foreach (var (messageId, p) in pending.ToList())
        {
            await QueueAsync(p.EventId, p.Event, p.UnitId, p.Kind, p.Text, ct);
            pending.Remove(messageId);
        }
    }

    private async Task HandleAsync(RecordedEvent e, bool live, Dictionary<Guid, (ITicketEvent, Guid, string, string, string)> pending, CancellationToken ct)
    {
        if (OutboxMessages.IsOutboxStream(e.StreamId))
        {
            // The message exists: nothing to queue for it at the head. (The stream name carries the message id.)
            if (e.StreamRevision == 0 && Guid.TryParseExact(e.StreamId["outbox-".Length..], "N", out var messageId)) pending.Remove(messageId);
            return;
        }
        if (e.StreamId == NoticeStore.AnnouncementStream)
        {
            if (live && NoticeStore.Read<AnnouncementPosted>(e) is { } a)
                foreach (var role in a.Roles) await PushAsync(hub.Clients.Group(NotificationHub.RoleGroup(role)), new NoticeView(a.Id, a.Kind, a.Title, a.Text, null, null, a.At));
            return;
        }
        if (!TicketStore.IsTicketStream(e.StreamId) || serializer.Deserialize(e) is not ITicketEvent te) return;

        var notice = Describe(te);
        if (notice is null) return;
        var (unitId, kind, title, text, queue) = notice.Value;
        var number = index.Get(te.TicketId)?.Number;
        if (queue)
        {
            if (live) await QueueAsync(e.EventId, te, unitId, kind, text, ct);
            // Urges older than a day are history (a database meeting the merged outbox for the first time): not sent now.
            else if (e.Metadata.Timestamp >= time.GetUtcNow().AddDays(-1)) pending[MessageIdFor(e.EventId)] = (te, e.EventId, unitId, kind, text);
        }
        if (live) await PushAsync(hub.Clients.Group(NotificationHub.UnitGroup(unitId)), new NoticeView(e.EventId, kind, title, text, te.TicketId, number, te.At));
    }

    private (string UnitId, string Kind, string Title, string Text, bool Queue)? Describe(ITicketEvent e)
    {
        string? MainUnit() => index.Get(e.TicketId)?.MainTask?.UnitId;
        return e switch
        {
            TicketUrged { UnitId: { } unit } u => (unit, "urge", "催办", u.Reason, true),
            SupervisionStarted s when (s.UnitId ?? MainUnit()) is { } unit => (unit, "supervision", $"督办（{s.Level}）", s.Reason, true),
            SupervisionRaised r when MainUnit() is { } unit => (unit, "supervision", $"督办升级（{r.ToLevel}）", r.Reason, true),
            ReturnApproved { By: Jobs.SystemActor.Id } r => (r.UnitId, "decision", "退回申请已按默认决定同意", r.Comment ?? "", false),
            ReturnRejected { By: Jobs.SystemActor.Id } r => (r.UnitId, "decision", "退回申请已按默认决定不同意", r.Comment, false),
            ExtensionApproved { By: Jobs.SystemActor.Id } x => (x.UnitId, "decision", "延期申请已按默认决定同意", x.Comment ?? "", false),
            ExtensionRejected { By: Jobs.SystemActor.Id } x => (x.UnitId, "decision", "延期申请已按默认决定不同意", x.Comment, false),
            _ => null,
        };
    }

    private async Task QueueAsync(Guid eventId, ITicketEvent e, string unitId, string kind, string text, CancellationToken ct)
    {
        var number = index.Get(e.TicketId)?.Number;
        await outbox.QueueAsync(OutboxChannels.Unit, unitId, kind, $"【12345】工单{number}：{text}", e.TicketId, DedupKey(eventId), ct);
    }

    private async Task PushAsync(INotificationClient clients, NoticeView notice)
    {
        try { await clients.Notice(notice); }
        catch (Exception ex) { logger.LogDebug(ex, "Push of notice {Kind} failed", notice.Kind); }
    }
}

public static class OutboxModule
{
    public static IServiceCollection AddHotlineOutbox(this IServiceCollection services)
    {
        services.AddOptions<OutboxOptions>().BindConfiguration(OutboxOptions.Section).PostConfigure<IConfiguration>((o, c) =>
        {
            // Before the outboxes were merged the gateway was configured under Hotline:Channels; still honoured.
            if (string.IsNullOrWhiteSpace(o.GatewayUrl)) o.GatewayUrl = c["Hotline:Channels:GatewayUrl"];
            if (o.GatewayKey.Length == 0) o.GatewayKey = c["Hotline:Channels:GatewayKey"] ?? "";
        });
        services.AddSingleton<NoticeStore>();
        services.AddSingleton<OutboxStore>();
        services.AddSingleton<OutboxMessages>();
        services.AddSingleton<OutboxWriter>();
        services.AddSingleton<OutboxProjection>();
        services.AddHostedService(sp => sp.GetRequiredService<OutboxProjection>());
        services.AddHttpClient<HttpMessageGateway>(c => c.Timeout = TimeSpan.FromSeconds(15));
        services.AddSingleton<LoggingGateway>();
        services.AddSingleton<IMessageGateway>(sp => string.IsNullOrWhiteSpace(sp.GetRequiredService<IOptions<OutboxOptions>>().Value.GatewayUrl)
            ? sp.GetRequiredService<LoggingGateway>()
            : sp.GetRequiredService<HttpMessageGateway>());
        services.AddSingleton<OutboxDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<OutboxDispatcher>());
        services.AddSingleton<NotificationRelay>();
        services.AddHostedService(sp => sp.GetRequiredService<NotificationRelay>());
        return services;
    }

    public sealed record OutboxRow(Guid MessageId, string Channel, string To, string Kind, string Text, Guid? RefId, DateTimeOffset QueuedAt, int Attempts,
        DateTimeOffset? DeliveredAt, string? LastError, DateTimeOffset? NextAttemptAt, string Status);

    public static OutboxRow Row(OutboxMessage m) => new(m.MessageId, m.Channel, m.To, m.Kind, m.Text, m.RefId, m.QueuedAt, m.Attempts, m.DeliveredAt, m.LastError,
        m.DeliveredAt is null ? m.NextAttemptAt : null, m.DeliveredAt is not null ? "delivered" : m.Attempts > 0 ? "retrying" : "queued");

    public static IEndpointRouteBuilder MapHotlineOutbox(this IEndpointRouteBuilder app)
    {
        app.MapHub<NotificationHub>("/hubs/notifications");
        app.MapGet("/api/announcements", async (NoticeStore notices, ClaimsPrincipal user, CancellationToken ct) =>
                TypedResults.Ok((await notices.AnnouncementsAsync(ct)).Where(a => a.Roles.Any(user.IsInRole)).OrderByDescending(a => a.At).Take(50).ToList()))
            .WithTags("notices").RequireAuthorization();

        // The office's view of the one outbox: every message, its status and attempts; "retry now".
        var outbox = app.MapGroup("/api/outbox").WithTags("outbox").RequireAuthorization(p => p.RequireRole(Roles.Supervisor, Roles.Dispatcher, Roles.Leader, Roles.Admin));
        outbox.MapGet("/", (OutboxMessages messages, bool? pending, Guid? refId, string? kind, string? channel) =>
        {
            var rows = messages.All;
            if (pending == true) rows = rows.Where(m => m.DeliveredAt is null);
            if (refId is { } r) rows = rows.Where(m => m.RefId == r);
            if (!string.IsNullOrEmpty(kind)) rows = rows.Where(m => m.Kind == kind);
            if (!string.IsNullOrEmpty(channel)) rows = rows.Where(m => m.Channel == channel);
            return rows.OrderByDescending(m => m.QueuedAt).Take(500).Select(Row).ToList();
        });
        outbox.MapPost("/{id:guid}/retry", (Guid id, OutboxMessages messages, TimeProvider time) =>
        {
            if (messages.Get(id) is not { } m) return Results.Problem(statusCode: 404, title: "消息不存在");
            if (m.DeliveredAt is not null) return Results.Problem(statusCode: 409, title: "消息已送达，无需重发");
            messages.RetryNow(id, time.GetUtcNow());
            return Results.Accepted(value: Row(messages.Get(id)!));
        }).RequireAuthorization(p => p.RequireRole(Roles.Supervisor, Roles.Dispatcher, Roles.Admin));
        return app;
    }
}
