using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Hotline.Domain.Calendar;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Auth;
using Hotline.Server.Calendar;
using Hotline.Server.Reference;
using Hotline.Server.Storage;

namespace Hotline.Server.Tickets;

public sealed record CallerView(string Name, string Phone);

/// <summary>A running deadline: kind, due time, colour (normal / yellow / red) and seconds left (negative when overdue).</summary>
public sealed record DeadlineView(string Kind, DateTimeOffset DueAt, string Status, long RemainingSeconds, bool Provisional);

public sealed record ReplyView(string Result, string Text);

public sealed record RequestView(string Reason, string? LegalBasis, int Days, string By, DateTimeOffset At);

public sealed record TaskView(
    Guid TaskId, string UnitId, string UnitName, string Role, string State, string StateName, DateTimeOffset SignDueAt, DateTimeOffset ReplyDueAt,
    DateTimeOffset? SignedForAt, DateTimeOffset? RepliedAt, ReplyView? Reply, int ReworkCount,
    Guid? ParentTaskId = null, int Level = 0, DateTimeOffset? ReturnDueAt = null, RequestView? PendingReturn = null, RequestView? PendingExtension = null,
    int ExtensionCount = 0, DateTimeOffset? FirstContactAt = null, int UrgeCount = 0, DeadlineView? Deadline = null);

public sealed record CallbackView(string Satisfaction, string? Comment, DateTimeOffset At);

public sealed record HistoryEntry(long Version, string Type, string TypeName, DateTimeOffset At, string Actor, string Summary);

public sealed record SupervisionView(string Level, string LevelName, string Reason, DateTimeOffset Since);

public sealed record NoteView(Guid? TaskId, string? UnitName, string Text, string By, DateTimeOffset At);

public sealed record LinkedTicketView(Guid Id, string Number, DateTimeOffset At, string? Content);

public sealed record EmergencyView(string Line, string Note, DateTimeOffset TransferredAt, string By);

/// <summary>TicketDetails: what the console shows for one ticket, masked for the reader's role.</summary>
public sealed record TicketDetails(
    Guid Id, string Number, string State, string StateName, string Type, string Urgency, string Channel,
    string CategoryCode, string CategoryName, string AreaCode, string AreaName, string Address, string Content,
    CallerView Caller, bool Confidential, IReadOnlyList<string> CallIds, long Version, DateTimeOffset CreatedAt,
    DeadlineView? Deadline, IReadOnlyList<TaskView> Tasks, string? DirectAnswer, CallbackView? Callback,
    int ReworkCount, IReadOnlyList<string> AllowedActions, IReadOnlyList<HistoryEntry> History,
    bool Anonymous = false, bool IdentityHidden = false, string? KnowledgeItemId = null, string? CloseReason = null, string? CloseKind = null,
    string? OutOfScopeReasonCode = null, string? ReferredTo = null, EmergencyView? Emergency = null,
    SupervisionView? Supervision = null, int UrgeCount = 0, IReadOnlyList<NoteView>? Notes = null,
    bool IsRepeat = false, IReadOnlyList<LinkedTicketView>? RepeatOf = null, int ContactsLast30Days = 0,
    IReadOnlyList<LinkedTicketView>? Duplicates = null, Guid? MergedInto = null, string? MergedIntoNumber = null,
    int CallbackAttempts = 0, IReadOnlyList<CallbackView>? Callbacks = null, int ReopenCount = 0, string? CategoryVersion = null,
    DispatchHoldView? Hold = null, DispatcherFlagView? DispatcherFlag = null);

/// <summary>暂缓派单 in force on a waiting ticket (from <c>DispatchHeld</c> without a later <c>DispatchHoldReleased</c>).</summary>
public sealed record DispatchHoldView(string Reason, string By, DateTimeOffset Since);

/// <summary>Auto-dispatch left the waiting ticket to a dispatcher (<c>DispatcherAttentionFlagged</c> of the current wait).</summary>
public sealed record DispatcherFlagView(string ReasonCode, string ReasonName, string Detail, DateTimeOffset At);

/// <summary>
/// One row of a ticket list or work list. While the ticket waits for dispatch, <see cref="Deadline"/> is the dispatch
/// deadline (kind 派单, coloured from the start of the current wait) and <see cref="Hold"/> / <see cref="DispatcherFlag"/>
/// say whether a dispatcher held it and why auto-dispatch left it to a person; both are null otherwise.
/// </summary>
public sealed record TicketSummary(
    Guid Id, string Number, string State, string StateName, string Type, string Urgency, string CategoryName, string AreaName,
    DateTimeOffset CreatedAt, string Summary, DeadlineView? Deadline, string? MainUnitName, string? TaskState, long Version,
    string? SupervisionLevel = null, int UrgeCount = 0, bool IsRepeat = false,
    DispatchHoldView? Hold = null, DispatcherFlagView? DispatcherFlag = null);

/// <summary>One row of a unit inbox or of the overdue list: a task, not a ticket.</summary>
public sealed record TaskRow(
    Guid TicketId, string Number, Guid TaskId, string UnitId, string UnitName, string Role, int Level, string TaskState, string TaskStateName,
    string Type, string Urgency, string CategoryName, string AreaName, string Summary, DeadlineView Deadline,
    bool PendingReturn, bool PendingExtension, int ReworkCount, int UrgeCount, string? SupervisionLevel, DateTimeOffset DispatchedAt, long Version);

public sealed record Page<T>(IReadOnlyList<T> Items, int Total);

public sealed class TicketViews(CityReference city, TimeProvider time, EventSerializer serializer, CalendarDeadlines deadlines, WarningRule warnings)
{
    /// <summary>Whether this reader sees the caller's personal data unmasked (hotline office roles only).</summary>
    public static bool SeesPersonalData(ClaimsPrincipal reader) => reader.IsOffice();

    /// <summary>Confidential tickets and every 举报 hide the reporter from every reader outside the hotline office.</summary>
    public static bool HidesIdentity(Ticket t, ClaimsPrincipal reader) => !reader.IsOffice() && (t.Confidential || t.Type == "举报");

    public static CallerView Caller(Ticket t, ClaimsPrincipal reader)
    {
        if (reader.IsOffice()) return new CallerView(t.Anonymous ? "（匿名）" : t.CallerName, t.CallerPhone);
        if (HidesIdentity(t, reader)) return new CallerView(Masking.Hidden, Masking.Hidden);
        return new CallerView(t.Anonymous ? "（匿名）" : Masking.Name(t.CallerName), Masking.Phone(t.CallerPhone));
    }

    public TicketDetails Details(Ticket t, IReadOnlyList<RecordedEvent> history, ClaimsPrincipal reader)
    {
        var unmasked = reader.IsOffice();
        var hidden = HidesIdentity(t, reader);
        var now = time.GetUtcNow();
        return new TicketDetails(
            t.Id, t.Number, t.State.ToString(), TicketStateNames.Of(t.State), t.Type, t.Urgency, t.Channel,
            t.CategoryCode, city.CategoryPath(t.CategoryCode, t.CategoryVersion), t.AreaCode, city.AreaPath(t.AreaCode), t.Address, t.Content,
            Caller(t, reader), t.Confidential, unmasked ? t.CallIds : [], t.Version, t.RegisteredAt, Deadline(t),
            t.Tasks.Select(x => Task(x, now)).ToList(), t.DirectAnswer,
            t.Callback is null ? null : new CallbackView(t.Callback.Satisfaction, t.Callback.Comment, t.Callback.At),
            t.ReworkCount, AllowedFor(t, reader), history.Select(h => History(h, unmasked)).ToList(),
            t.Anonymous, hidden, t.KnowledgeItemId, t.CloseReason, t.CloseKind, t.OutOfScopeReasonCode, t.ReferredTo,
            t.Emergency is null ? null : new EmergencyView(t.Emergency.Line, t.Emergency.Note, t.Emergency.TransferredAt, t.Emergency.By),
            t.Supervision is null ? null : new SupervisionView(t.Supervision.Level, SupervisionLevels.NameOf(t.Supervision.Level), t.Supervision.Reason, t.Supervision.Since),
            t.UrgeCount, t.Notes.Select(n => new NoteView(n.TaskId, n.UnitId is null ? "热线办" : city.UnitOf(n.UnitId)?.Name ?? n.UnitId, n.Text, n.By, n.At)).ToList(),
            t.RepeatOf.Count > 0, t.RepeatOf.Select(r => new LinkedTicketView(r.TicketId, r.Number, r.RegisteredAt, null)).ToList(),
            unmasked ? t.ContactsLast30Days : 0,
            t.Duplicates.Select(d => new LinkedTicketView(d.TicketId, d.Number, d.At, d.Content)).ToList(), t.MergedInto, t.MergedIntoNumber,
            t.CallbackAttempts, t.Callbacks.Select(c => new CallbackView(c.Satisfaction, c.Comment, c.At)).ToList(), t.ReopenCount, t.CategoryVersion ?? "1",
            HoldOf(t), FlagOf(t));
    }

    private static DispatchHoldView? HoldOf(Ticket t) =>
        t.State == TicketState.Registered && t.Hold is { } hold ? new DispatchHoldView(hold.Reason, hold.By, hold.Since) : null;

    private static DispatcherFlagView? FlagOf(Ticket t) =>
        t.State == TicketState.Registered && t.DispatcherFlag is { } flag
            ? new DispatcherFlagView(flag.ReasonCode, DispatcherAttentionReasons.NameOf(flag.ReasonCode), flag.Detail, flag.At) : null;

    public TicketSummary Summary(Ticket t)
    {
        var main = t.MainTask;
        return new TicketSummary(t.Id, t.Number, t.State.ToString(), TicketStateNames.Of(t.State), t.Type, t.Urgency,
            city.CategoryPath(t.CategoryCode, t.CategoryVersion), city.AreaPath(t.AreaCode), t.RegisteredAt,
            Short(t.Content), Deadline(t),
            main is null ? null : city.UnitOf(main.UnitId)?.Name, main is null ? null : TicketStateNames.Of(main.State), t.Version,
            t.Supervision?.Level, t.UrgeCount, t.RepeatOf.Count > 0, HoldOf(t), FlagOf(t));
    }

    public TaskRow Row(Ticket t, TicketTask task) =>
        new(t.Id, t.Number, task.TaskId, task.UnitId, city.UnitOf(task.UnitId)?.Name ?? task.UnitId, task.Role, task.Level, task.State.ToString(), TicketStateNames.Of(task.State),
            t.Type, t.Urgency, city.CategoryPath(t.CategoryCode, t.CategoryVersion), city.AreaPath(t.AreaCode), Short(t.Content), TaskDeadline(task, time.GetUtcNow())!,
            task.PendingReturn is not null, task.PendingExtension is not null, task.ReworkCount, task.UrgeCount, t.Supervision?.Level, task.DispatchedAt, t.Version);

    private static string Short(string content) => content.Length > 60 ? content[..60] + "…" : content;

    /// <summary>The actions this reader may take now (state rules ∩ role ∩ the reader's unit).</summary>
    public static IReadOnlyList<string> AllowedFor(Ticket t, ClaimsPrincipal reader)
    {
        var office = reader.IsInRole(Roles.Dispatcher) || reader.IsInRole(Roles.Admin);
        var handler = reader.IsInRole(Roles.Handler);
        var unit = reader.UnitId();
        bool Mine(Func<TicketTask, bool> p) => handler && t.Tasks.Any(x => x.UnitId == unit && p(x));
        bool Child(Func<TicketTask, bool> p) => handler && t.Tasks.Any(x => x.ParentTaskId is { } pid && t.TaskOf(pid)?.UnitId == unit && p(x));
        return TicketDecider.AllowedActions(t).Where(action => action switch
        {
            TicketActions.AnswerDirectly or TicketActions.OutOfScope or TicketActions.EmergencyTransfer => reader.IsInRole(Roles.Agent) || office,
            TicketActions.Dispatch or TicketActions.Review or TicketActions.Close or TicketActions.Merge or TicketActions.Reopen
                or TicketActions.HoldDispatch or TicketActions.ReleaseHold => office,
            TicketActions.SignFor => Mine(x => x.State == TaskState.ToSign),
            TicketActions.Reply or TicketActions.SubDispatch or TicketActions.FirstContact => Mine(x => x.State == TaskState.InProgress),
            TicketActions.RequestReturn => Mine(x => x.IsOpen && x.PendingReturn is null),
            TicketActions.RequestExtension => Mine(x => x.State == TaskState.InProgress && x.PendingExtension is null),
            TicketActions.DecideReturn => (office && t.Tasks.Any(x => x.ParentTaskId is null && x.IsOpen && x.PendingReturn is not null)) || Child(x => x.IsOpen && x.PendingReturn is not null),
            TicketActions.DecideExtension => (office && t.Tasks.Any(x => x.ParentTaskId is null && x.IsOpen && x.PendingExtension is not null)) || Child(x => x.IsOpen && x.PendingExtension is not null),
            TicketActions.Note => reader.IsOffice() || Mine(x => x.State == TaskState.InProgress),
            TicketActions.Callback or TicketActions.CallbackFailed => reader.IsInRole(Roles.Callback) || office,
            TicketActions.Urge or TicketActions.Supervise => office || reader.IsInRole(Roles.Supervisor),
            _ => false,
        }).ToList();
    }

    public DeadlineView? Deadline(Ticket t)
    {
        var main = t.MainTask;
        var now = time.GetUtcNow();
        return t.State switch
        {
            // The current wait starts at registration, or at the approved return / reopening that sent it back.
            TicketState.Registered => View("派单", t.DispatchBasis?.Start ?? t.RegisteredAt, t.DispatchDueAt, t.DispatchDueProvisional, now),
            TicketState.Dispatched or TicketState.InProgress when main is not null => TaskDeadline(main, now),
            _ => null,
        };
    }

    /// <summary>The running deadline of a task: sign-for while it waits, else the reply (done tasks show the reply deadline they had).</summary>
    public DeadlineView? TaskDeadline(TicketTask task, DateTimeOffset now) => task.State == TaskState.ToSign
        ? View("签收", task.DispatchedAt, task.SignDueAt, task.Provisional, now)
        : View("答复", task.DispatchedAt, task.ReplyDueAt, task.Provisional, task.IsOpen ? now : task.RepliedAt ?? task.ClosedAt ?? now);

    private DeadlineView View(string kind, DateTimeOffset start, DateTimeOffset due, bool provisional, DateTimeOffset now)
    {
        var status = new DeadlineWarnings(deadlines.Calendar).Evaluate(new Deadline(due, provisional, ""), start, now, warnings);
        var colour = status.Colour switch { WarningColour.Red => "red", WarningColour.Yellow => "yellow", _ => "normal" };
        return new DeadlineView(kind, due, colour, (long)status.Remaining.TotalSeconds, provisional);
    }

    private TaskView Task(TicketTask t, DateTimeOffset now) =>
        new(t.TaskId, t.UnitId, city.UnitOf(t.UnitId)?.Name ?? t.UnitId, t.Role, t.State.ToString(), TicketStateNames.Of(t.State),
            t.SignDueAt, t.ReplyDueAt, t.SignedForAt, t.RepliedAt, t.ReplyResult is null ? null : new ReplyView(t.ReplyResult, t.ReplyText ?? ""), t.ReworkCount,
            t.ParentTaskId, t.Level, t.ReturnDueAt, Request(t.PendingReturn), Request(t.PendingExtension), t.ExtensionCount, t.FirstContactAt, t.UrgeCount,
            t.State is TaskState.Returned or TaskState.Done ? null : TaskDeadline(t, now));

    private static RequestView? Request(PendingRequest? r) => r is null ? null : new RequestView(r.Reason, r.LegalBasis, r.Days, r.By, r.At);

    private string UnitName(string id) => city.UnitOf(id)?.Name ?? id;

    private HistoryEntry History(RecordedEvent e, bool unmasked)
    {
        var name = e.Type.StartsWith("V1.", StringComparison.Ordinal) ? e.Type[3..] : e.Type;
        var data = serializer.Deserialize(e);
        var summary = data switch
        {
            TicketRegistered r => $"{r.Channel}受理，{r.Type}，{r.Urgency}" + (unmasked ? $"，来电人 {(r.Anonymous ? "匿名" : r.CallerName)} {r.CallerPhone}" : "")
                + (r.Confidential ? "，保密" : "") + (r.RepeatOf is { Count: > 0 } rep ? $"，疑似重复（{string.Join("、", rep.Select(x => x.Number))}）" : ""),
            TicketAnsweredDirectly a => "直接办结：" + a.Text + (a.KnowledgeItemId is null ? "" : $"（知识库 {a.KnowledgeItemId}）"),
            TicketOutOfScope o => $"不予受理（{OutOfScopeReasons.NameOf(o.ReasonCode)}），已告知：{o.ReferredTo}" + (o.Note is null ? "" : "，" + o.Note),
            TicketTransferredToEmergency x => $"转{x.Line}（{Local(x.TransferredAt)}）：{x.Note}",
            TicketDispatched d => $"派单至{UnitName(d.UnitId)}（{d.Role}），签收时限 {Local(d.SignDueAt)}，办理时限 {Local(d.ReplyDueAt)}" + (d.Reason is null ? "" : "，说明：" + d.Reason)
                + (d.OverrideReason is null ? "" : $"，改派（目录建议 {UnitName(d.SuggestedUnitId ?? "")}）：{d.OverrideReason}"),
            TaskSubDispatched s => $"{UnitName(s.FromUnitId)}下派至{UnitName(s.UnitId)}，签收时限 {Local(s.SignDueAt)}，办理时限 {Local(s.ReplyDueAt)}" + (s.Reason is null ? "" : "，说明：" + s.Reason),
            TaskSignedFor s => $"{UnitName(s.UnitId)}签收",
            ReturnRequested r => $"{UnitName(r.UnitId)}申请退回：{r.Reason}" + (r.LegalBasis is null ? "" : $"（依据：{r.LegalBasis}）"),
            ReturnApproved r => $"同意{UnitName(r.UnitId)}退回" + (r.DispatchDueAt is { } due ? $"，待重新派单（时限 {Local(due)}）" : "，退回上级单位") + (r.Comment is null ? "" : "：" + r.Comment),
            ReturnRejected r => $"不同意{UnitName(r.UnitId)}退回：{r.Comment}",
            ExtensionRequested x => $"{UnitName(x.UnitId)}申请延期 {x.Days} 个工作日：{x.Reason}",
            ExtensionApproved x => $"同意{UnitName(x.UnitId)}延期 {x.Days} 个工作日，新办理时限 {Local(x.ReplyDueAt)}" + (x.Comment is null ? "" : "：" + x.Comment),
            ExtensionRejected x => $"不同意{UnitName(x.UnitId)}延期：{x.Comment}",
            ProgressNoted n => $"{(n.UnitId is null ? "热线办" : UnitName(n.UnitId))}办理进展：{n.Text}",
            CitizenContacted c => $"{UnitName(c.UnitId)}首次联系诉求人（{Local(c.ContactedAt)}）",
            ReplySubmitted r => $"{UnitName(r.UnitId)}答复（{ResultName(r.Result)}）：{r.Text}" + (r.UnresolvedReason is null ? "" : $"；未解决原因：{r.UnresolvedReason}"),
            ReplyAccepted a => "审核通过" + (a.Comment is null ? "" : "：" + a.Comment),
            ReworkOrdered w => $"{w.Reason}，新办理时限 {Local(w.ReplyDueAt)}",
            CallbackScheduled => "生成回访任务",
            CallbackRecorded c => $"回访：{c.Satisfaction}" + (c.Comment is null ? "" : "，" + c.Comment),
            CallbackAttemptFailed f => $"第 {f.Attempt} 次回访未接通：{f.Reason}",
            CallbackUnreachable u => $"{u.Attempts} 次回访均未接通，按无法联系办结",
            TicketUrged u => (u.Automatic ? "自动催办" : "催办") + (u.UnitId is null ? "" : UnitName(u.UnitId)) + "：" + u.Reason,
            SupervisionStarted s => $"{(s.Automatic ? "自动" : "")}{SupervisionLevels.NameOf(s.Level)}" + (s.UnitId is null ? "" : UnitName(s.UnitId)) + "：" + s.Reason,
            SupervisionRaised s => $"督办升级：{SupervisionLevels.NameOf(s.FromLevel)} → {SupervisionLevels.NameOf(s.ToLevel)}：{s.Reason}",
            TicketMerged m => $"并入工单 {m.MasterNumber}" + (m.Reason is null ? "" : "：" + m.Reason),
            DuplicateAttached d => $"并入重复工单 {d.DuplicateNumber}：{d.Content}",
            TicketClosed c => "办结：" + c.Reason,
            TicketReopened o => $"重启工单：{o.Reason}" + (o.TaskId is null ? $"，待重新派单（时限 {Local(o.DueAt)}）" : $"，新办理时限 {Local(o.DueAt)}"),
            DispatchHeld h => "暂缓派单：" + h.Reason,
            DispatchHoldReleased h => "解除暂缓派单" + (h.Reason is null ? "" : "：" + h.Reason),
            DispatcherAttentionFlagged f => $"自动派单未派出，需派单员处理（{DispatcherAttentionReasons.NameOf(f.ReasonCode)}）：{f.Detail}",
            DeadlinesRecomputed r => r.Reason + "：" + string.Join("；", r.Changes.Select(c =>
                $"{DeadlineKindName(c.Kind)}时限 {Local(c.OldDueAt)} → {Local(c.NewDueAt)}" + (c.NewProvisional ? "（仍为临时）" : ""))),
            _ => "",
        };
        return new HistoryEntry(e.StreamRevision + 1, name, TypeName(name), e.Metadata.Timestamp, e.Metadata.Actor ?? "", summary);
    }

    public static string TypeName(string type) => type switch
    {
        "TicketRegistered" => "受理",
        "TicketAnsweredDirectly" => "直接办结",
        "TicketOutOfScope" => "不予受理",
        "TicketTransferredToEmergency" => "转警",
        "TicketDispatched" => "派单",
        "TaskSubDispatched" => "下派",
        "TaskSignedFor" => "签收",
        "ReturnRequested" => "申请退回",
        "ReturnApproved" => "同意退回",
        "ReturnRejected" => "不同意退回",
        "ExtensionRequested" => "申请延期",
        "ExtensionApproved" => "同意延期",
        "ExtensionRejected" => "不同意延期",
        "ProgressNoted" => "办理进展",
        "CitizenContacted" => "首次联系",
        "ReplySubmitted" => "答复",
        "ReplyAccepted" => "审核通过",
        "ReworkOrdered" => "重办",
        "CallbackScheduled" => "转回访",
        "CallbackRecorded" => "回访",
        "CallbackAttemptFailed" => "回访未接通",
        "CallbackUnreachable" => "无法联系",
        "TicketUrged" => "催办",
        "SupervisionStarted" => "督办",
        "SupervisionRaised" => "督办升级",
        "TicketMerged" => "并单",
        "DuplicateAttached" => "并入重复件",
        "TicketClosed" => "办结",
        "TicketReopened" => "重启",
        "DispatchHeld" => "暂缓派单",
        "DispatchHoldReleased" => "解除暂缓",
        "DispatcherAttentionFlagged" => "待人工派单",
        "DeadlinesRecomputed" => "时限重算",
        _ => type,
    };

    public static string DeadlineKindName(string kind) => kind switch
    {
        DeadlineKinds.Dispatch => "派单",
        DeadlineKinds.SignFor => "签收",
        DeadlineKinds.Reply => "办理",
        DeadlineKinds.ReturnWindow => "退回申请",
        _ => kind,
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
