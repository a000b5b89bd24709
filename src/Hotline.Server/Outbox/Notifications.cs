using System.Security.Claims;
using System.Text.Json;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Auth;
using Hotline.Server.Storage;
using Hotline.Server.Tickets;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

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

/// <summary>One row of the SMS outbox: the gateway sends it to the unit's duty phones and acknowledges it (gateway side).</summary>
public sealed record SmsQueued(Guid Id, Guid SourceEventId, Guid? TicketId, string? TicketNumber, string UnitId, IReadOnlyList<string> Recipients, string Text, DateTimeOffset At);

/// <summary>An announcement to roles (leaders, admins): a calendar alert, the daily brief, a workbook ready.</summary>
public sealed record AnnouncementPosted(Guid Id, string Kind, string Title, string Text, IReadOnlyList<string> Roles, DateTimeOffset At);

/// <summary>
/// The SMS outbox and the announcements, as two streams of the event store ("sms-outbox", "announcements"), so both
/// profiles have them, they reach every node, and each row has a deterministic id: writing it twice (a job re-run,
/// two nodes) stores it once.
/// </summary>
public sealed class NoticeStore(IEventStore store, TimeProvider time)
{
    public const string SmsStream = "sms-outbox";
    public const string AnnouncementStream = "announcements";
    public const string SmsType = "V1.SmsQueued";
    public const string AnnouncementType = "V1.AnnouncementPosted";

    public static Guid SmsIdFor(Guid sourceEventId) => DeterministicId.From("sms-outbox", sourceEventId.ToString("N"));

    public async Task<SmsQueued> QueueSmsAsync(Guid sourceEventId, Guid? ticketId, string? number, string unitId, IReadOnlyList<string> recipients, string text, CancellationToken ct)
    {
        var row = new SmsQueued(SmsIdFor(sourceEventId), sourceEventId, ticketId, number, unitId, recipients, text, time.GetUtcNow());
        await AppendAsync(SmsStream, row.Id, SmsType, row, ct);
        return row;
    }

    /// <summary>Posts an announcement once per (kind, key): the calendar alert once a day, the brief once per day.</summary>
    public async Task<AnnouncementPosted> AnnounceAsync(string kind, string key, string title, string text, IReadOnlyList<string> roles, CancellationToken ct)
    {
        var row = new AnnouncementPosted(DeterministicId.From("announcement", kind, key), kind, title, text, roles, time.GetUtcNow());
        await AppendAsync(AnnouncementStream, row.Id, AnnouncementType, row, ct);
        return row;
    }

    public async Task<IReadOnlyList<SmsQueued>> SmsAsync(CancellationToken ct) => await ReadAsync<SmsQueued>(SmsStream, ct);

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
/// pushed to that unit's users and queued for the SMS gateway; decisions taken by default are pushed to the unit;
/// announcements are pushed to their roles. SMS rows: while catching up from position 0 at start, it notes which
/// urges have no row yet and writes the missing ones at the head, so a crash between the job's write and the row
/// loses nothing. Pushes are for live events only; a failed push is logged and forgotten.
/// </summary>
public sealed class NotificationRelay(
    IEventStore store, EventSerializer serializer, NoticeStore notices, TicketIndex index, UserDirectory users,
    IHubContext<NotificationHub, INotificationClient> hub, ILogger<NotificationRelay> logger) : BackgroundService
{
    private long _position;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pending = new Dictionary<Guid, (ITicketEvent Event, string UnitId, string Text)>();
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

    private async Task FlushAsync(Dictionary<Guid, (ITicketEvent Event, string UnitId, string Text)> pending, CancellationToken ct)
    {
        foreach (var (eventId, p) in pending.ToList())
        {
            await QueueAsync(eventId, p.Event, p.UnitId, p.Text, ct);
            pending.Remove(eventId);
        }
    }

    private async Task HandleAsync(RecordedEvent e, bool live, Dictionary<Guid, (ITicketEvent, string, string)> pending, CancellationToken ct)
    {
        if (e.StreamId == NoticeStore.SmsStream)
        {
            if (NoticeStore.Read<SmsQueued>(e) is { } sms) pending.Remove(sms.SourceEventId);
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
        var (unitId, kind, title, text, queueSms) = notice.Value;
        var number = index.Get(te.TicketId)?.Number;
        if (queueSms)
        {
            if (live) await QueueAsync(e.EventId, te, unitId, text, ct);
            else pending[e.EventId] = (te, unitId, text);
        }
        if (live) await PushAsync(hub.Clients.Group(NotificationHub.UnitGroup(unitId)), new NoticeView(e.EventId, kind, title, text, te.TicketId, number, te.At));
    }

    private (string UnitId, string Kind, string Title, string Text, bool Sms)? Describe(ITicketEvent e)
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

    private async Task QueueAsync(Guid eventId, ITicketEvent e, string unitId, string text, CancellationToken ct)
    {
        var recipients = users.All.Where(u => u.UnitId == unitId && u.Roles.Contains(Roles.Handler)).Select(u => u.Username).ToList();
        var number = index.Get(e.TicketId)?.Number;
        await notices.QueueSmsAsync(eventId, e.TicketId, number, unitId, recipients, $"【12345】工单{number}：{text}", ct);
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
        services.AddSingleton<NoticeStore>();
        services.AddSingleton<NotificationRelay>();
        services.AddHostedService(sp => sp.GetRequiredService<NotificationRelay>());
        return services;
    }

    public static IEndpointRouteBuilder MapHotlineOutbox(this IEndpointRouteBuilder app)
    {
        app.MapHub<NotificationHub>("/hubs/notifications");
        app.MapGet("/api/announcements", async (NoticeStore notices, ClaimsPrincipal user, CancellationToken ct) =>
                TypedResults.Ok((await notices.AnnouncementsAsync(ct)).Where(a => a.Roles.Any(user.IsInRole)).OrderByDescending(a => a.At).Take(50).ToList()))
            .WithTags("notices").RequireAuthorization();
        app.MapGet("/api/admin/sms-outbox", async (NoticeStore notices, CancellationToken ct) => TypedResults.Ok((await notices.SmsAsync(ct)).OrderByDescending(s => s.At).Take(200).ToList()))
            .WithTags("notices").RequireAuthorization(p => p.RequireRole(Roles.Admin));
        return app;
    }
}
