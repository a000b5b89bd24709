using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Auth;
using Hotline.Server.Reference;
using Hotline.Server.Storage;

namespace Hotline.Server.Tickets;

public sealed record CallerView(string Name, string Phone);

public sealed record DeadlineView(string Kind, DateTimeOffset DueAt, string Status, long RemainingSeconds, bool Provisional);

public sealed record ReplyView(string Result, string Text);

public sealed record TaskView(Guid TaskId, string UnitId, string UnitName, string Role, string State, string StateName, DateTimeOffset SignDueAt, DateTimeOffset ReplyDueAt, DateTimeOffset? SignedForAt, DateTimeOffset? RepliedAt, ReplyView? Reply, int ReworkCount);

public sealed record CallbackView(string Satisfaction, string? Comment, DateTimeOffset At);

public sealed record HistoryEntry(long Version, string Type, string TypeName, DateTimeOffset At, string Actor, string Summary);

/// <summary>TicketDetails: what the console shows for one ticket, masked for the reader's role.</summary>
public sealed record TicketDetails(
    Guid Id, string Number, string State, string StateName, string Type, string Urgency, string Channel,
    string CategoryCode, string CategoryName, string AreaCode, string AreaName, string Address, string Content,
    CallerView Caller, bool Confidential, IReadOnlyList<string> CallIds, long Version, DateTimeOffset CreatedAt,
    DeadlineView? Deadline, IReadOnlyList<TaskView> Tasks, string? DirectAnswer, CallbackView? Callback,
    int ReworkCount, IReadOnlyList<string> AllowedActions, IReadOnlyList<HistoryEntry> History);

/// <summary>One row of a ticket list or work list.</summary>
public sealed record TicketSummary(
    Guid Id, string Number, string State, string StateName, string Type, string Urgency, string CategoryName, string AreaName,
    DateTimeOffset CreatedAt, string Summary, DeadlineView? Deadline, string? MainUnitName, string? TaskState, long Version);

public sealed record Page<T>(IReadOnlyList<T> Items, int Total);

public sealed class TicketViews(CityReference city, TimeProvider time, EventSerializer serializer)
{
    public TicketDetails Details(Ticket t, IReadOnlyList<RecordedEvent> history, ClaimsPrincipal reader)
    {
        var unmasked = reader.IsOffice();
        var hideIdentity = !unmasked && (t.Confidential || t.Type == "举报");
        var caller = unmasked
            ? new CallerView(t.CallerName, t.CallerPhone)
            : hideIdentity ? new CallerView(Masking.Hidden, Masking.Hidden) : new CallerView(Masking.Name(t.CallerName), Masking.Phone(t.CallerPhone));

        return new TicketDetails(
            t.Id, t.Number, t.State.ToString(), TicketStateNames.Of(t.State), t.Type, t.Urgency, t.Channel,
            t.CategoryCode, city.CategoryPath(t.CategoryCode), t.AreaCode, city.AreaPath(t.AreaCode), t.Address, t.Content,
            caller, t.Confidential, unmasked ? t.CallIds : [], t.Version, t.RegisteredAt, Deadline(t),
            t.Tasks.Select(Task).ToList(), t.DirectAnswer,
            t.Callback is null ? null : new CallbackView(t.Callback.Satisfaction, t.Callback.Comment, t.Callback.At),
            t.ReworkCount, AllowedFor(t, reader), history.Select(h => History(h, unmasked)).ToList());
    }

    public TicketSummary Summary(Ticket t)
    {
        var main = t.MainTask;
        return new TicketSummary(t.Id, t.Number, t.State.ToString(), TicketStateNames.Of(t.State), t.Type, t.Urgency,
            city.CategoryPath(t.CategoryCode), city.AreaPath(t.AreaCode), t.RegisteredAt,
            t.Content.Length > 60 ? t.Content[..60] + "…" : t.Content, Deadline(t),
            main is null ? null : city.UnitOf(main.UnitId)?.Name, main is null ? null : TicketStateNames.Of(main.State), t.Version);
    }

    /// <summary>The actions this reader may take now (state rules ∩ role).</summary>
    public static IReadOnlyList<string> AllowedFor(Ticket t, ClaimsPrincipal reader) =>
        TicketDecider.AllowedActions(t).Where(action => action switch
        {
            TicketActions.AnswerDirectly => reader.IsInRole(Roles.Agent) || reader.IsInRole(Roles.Dispatcher) || reader.IsInRole(Roles.Admin),
            TicketActions.Dispatch or TicketActions.Review or TicketActions.Close => reader.IsInRole(Roles.Dispatcher) || reader.IsInRole(Roles.Admin),
            TicketActions.SignFor => reader.IsInRole(Roles.Handler) && t.Tasks.Any(x => x.UnitId == reader.UnitId() && x.State == TaskState.ToSign),
            TicketActions.Reply => reader.IsInRole(Roles.Handler) && t.Tasks.Any(x => x.UnitId == reader.UnitId() && x.State == TaskState.InProgress),
            TicketActions.Callback => reader.IsInRole(Roles.Callback) || reader.IsInRole(Roles.Admin),
            _ => false,
        }).ToList();

    public DeadlineView? Deadline(Ticket t)
    {
        var main = t.MainTask;
        return t.State switch
        {
            TicketState.Registered => View("派单", t.RegisteredAt, t.DispatchDueAt, t.DispatchDueProvisional),
            TicketState.Dispatched when main is not null => View("签收", main.DispatchedAt, main.SignDueAt, main.Provisional),
            TicketState.InProgress when main is not null => View("答复", main.DispatchedAt, main.ReplyDueAt, main.Provisional),
            _ => null,
        };
    }

    private DeadlineView View(string kind, DateTimeOffset start, DateTimeOffset due, bool provisional)
    {
        var now = time.GetUtcNow();
        var remaining = due - now;
        var limit = due - start;
        var status = remaining < TimeSpan.Zero ? "red"
            : remaining <= TimeSpan.FromDays(1) && limit > TimeSpan.FromDays(2) || remaining.Ticks <= limit.Ticks / 5 ? "yellow"
            : "normal";
        return new DeadlineView(kind, due, status, (long)remaining.TotalSeconds, provisional);
    }

    private TaskView Task(TicketTask t) =>
        new(t.TaskId, t.UnitId, city.UnitOf(t.UnitId)?.Name ?? t.UnitId, t.Role, t.State.ToString(), TicketStateNames.Of(t.State),
            t.SignDueAt, t.ReplyDueAt, t.SignedForAt, t.RepliedAt, t.ReplyResult is null ? null : new ReplyView(t.ReplyResult, t.ReplyText ?? ""), t.ReworkCount);

    private HistoryEntry History(RecordedEvent e, bool unmasked)
    {
        var name = e.Type.StartsWith("V1.", StringComparison.Ordinal) ? e.Type[3..] : e.Type;
        var data = serializer.Deserialize(e);
        var summary = data switch
        {
            TicketRegistered r => $"{r.Channel}受理，{r.Type}，{r.Urgency}" + (unmasked ? $"，来电人 {r.CallerName} {r.CallerPhone}" : ""),
            TicketAnsweredDirectly a => "直接办结：" + a.Text,
            TicketDispatched d => $"派单至{city.UnitOf(d.UnitId)?.Name ?? d.UnitId}（{d.Role}），签收时限 {Local(d.SignDueAt)}，办理时限 {Local(d.ReplyDueAt)}" + (d.Reason is null ? "" : "，说明：" + d.Reason),
            TaskSignedFor s => $"{city.UnitOf(s.UnitId)?.Name ?? s.UnitId}签收",
            ReplySubmitted r => $"{city.UnitOf(r.UnitId)?.Name ?? r.UnitId}答复（{ResultName(r.Result)}）：{r.Text}",
            ReplyAccepted a => "审核通过" + (a.Comment is null ? "" : "：" + a.Comment),
            ReworkOrdered w => $"{w.Reason}，新办理时限 {Local(w.ReplyDueAt)}",
            CallbackScheduled => "生成回访任务",
            CallbackRecorded c => $"回访：{c.Satisfaction}" + (c.Comment is null ? "" : "，" + c.Comment),
            TicketClosed c => "办结：" + c.Reason,
            _ => "",
        };
        return new HistoryEntry(e.StreamRevision + 1, name, TypeName(name), e.Metadata.Timestamp, e.Metadata.Actor ?? "", summary);
    }

    public static string TypeName(string type) => type switch
    {
        "TicketRegistered" => "受理",
        "TicketAnsweredDirectly" => "直接办结",
        "TicketDispatched" => "派单",
        "TaskSignedFor" => "签收",
        "ReplySubmitted" => "答复",
        "ReplyAccepted" => "审核通过",
        "ReworkOrdered" => "重办",
        "CallbackScheduled" => "转回访",
        "CallbackRecorded" => "回访",
        "TicketClosed" => "办结",
        _ => type,
    };

    public static string ResultName(string result) => result switch
    {
        "resolved" => "已解决",
        "explained" => "已解释说明",
        "unresolved" => "未解决",
        _ => result,
    };

    private static string Local(DateTimeOffset at) => TimeZones.ToLocal(at).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    internal static JsonSerializerOptions Json => EventSerializer.Json;
}
