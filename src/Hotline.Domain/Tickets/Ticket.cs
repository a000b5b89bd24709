using System.Collections.Immutable;
using Hotline.Domain.Calendar;

namespace Hotline.Domain.Tickets;

public enum TicketState
{
    None,
    /// <summary>受理, waiting for dispatch (待派单).</summary>
    Registered,
    /// <summary>派单 done, the main unit has not signed for it (待签收).</summary>
    Dispatched,
    /// <summary>签收 done, the main unit is handling it (办理中).</summary>
    InProgress,
    /// <summary>答复 submitted by the main unit, waiting for review (待审核).</summary>
    Replied,
    /// <summary>审核 accepted, the callback is not scheduled yet (待回访).</summary>
    ReplyAccepted,
    /// <summary>回访 task open (回访中).</summary>
    AwaitingCallback,
    /// <summary>办结 (also 不予受理, 转警, 并单, 无法联系: see <see cref="Ticket.CloseKind"/>).</summary>
    Closed,
}

public enum TaskState
{
    ToSign,
    InProgress,
    Replied,
    Done,
    /// <summary>退回 approved: the task ended without a reply.</summary>
    Returned,
}

/// <summary>A pending request of a unit on its task (退回 or 延期) waiting for a decision.</summary>
public sealed record PendingRequest(string Reason, string? LegalBasis, int Days, string By, DateTimeOffset At);

public sealed record TicketTask(
    Guid TaskId,
    string UnitId,
    string Role,
    TaskState State,
    DateTimeOffset DispatchedAt,
    DateTimeOffset SignDueAt,
    DateTimeOffset ReplyDueAt,
    bool Provisional,
    DateTimeOffset? SignedForAt,
    DateTimeOffset? RepliedAt,
    string? ReplyResult,
    string? ReplyText,
    int ReworkCount)
{
    /// <summary>The task this one was sub-dispatched from (null at the top level).</summary>
    public Guid? ParentTaskId { get; init; }

    /// <summary>0 for tasks dispatched by the hotline office, 1 for their subtasks, …</summary>
    public int Level { get; init; }

    /// <summary>Last moment a return may be asked (null: no window known, e.g. events from before it was recorded).</summary>
    public DateTimeOffset? ReturnDueAt { get; init; }

    public PendingRequest? PendingReturn { get; init; }
    public PendingRequest? PendingExtension { get; init; }
    public int ExtensionCount { get; init; }
    public DateTimeOffset? FirstContactAt { get; init; }
    public int UrgeCount { get; init; }
    public DateTimeOffset? ClosedAt { get; init; }
    public string? ReturnReason { get; init; }

    /// <summary>What each deadline was computed from (for recomputation on a newer calendar); null for deadlines not recorded.</summary>
    public DeadlineBasis? SignBasis { get; init; }
    public DeadlineBasis? ReplyBasis { get; init; }
    public DeadlineBasis? ReturnBasis { get; init; }

    /// <summary>Which of the task's deadlines are provisional; <see cref="Provisional"/> is true when any of them is.</summary>
    public bool SignDueProvisional { get; init; }
    public bool ReplyDueProvisional { get; init; }
    public bool ReturnDueProvisional { get; init; }

    /// <summary>Sets the per-deadline flags and keeps <see cref="Provisional"/> their union.</summary>
    public TicketTask WithProvisional(bool? sign = null, bool? reply = null, bool? returnWindow = null)
    {
        var next = this with
        {
            SignDueProvisional = sign ?? SignDueProvisional,
            ReplyDueProvisional = reply ?? ReplyDueProvisional,
            ReturnDueProvisional = returnWindow ?? ReturnDueProvisional,
        };
        return next with { Provisional = next.SignDueProvisional || next.ReplyDueProvisional || next.ReturnDueProvisional };
    }

    public bool IsOpen => State is TaskState.ToSign or TaskState.InProgress;
}

public sealed record TicketCallback(string Satisfaction, string? Comment, string By, DateTimeOffset At);

public sealed record TicketNote(Guid? TaskId, string? UnitId, string Text, string By, DateTimeOffset At);

public sealed record TicketSupervision(string Level, string Reason, DateTimeOffset Since, DateTimeOffset LevelSince);

public sealed record EmergencyTransfer(string Line, string Note, string? CallId, DateTimeOffset TransferredAt, string By);

public sealed record AttachedDuplicate(Guid TicketId, string Number, string Content, DateTimeOffset At);

/// <summary>The state of one ticket, folded from its stream. Pure data; <see cref="Evolve"/> is the only way it changes.</summary>
public sealed record Ticket
{
    public static Ticket Initial { get; } = new();

    public Guid Id { get; init; }
    public TicketState State { get; init; }
    public string Number { get; init; } = "";
    public string Channel { get; init; } = "";
    public string Type { get; init; } = "";
    public string Urgency { get; init; } = "";
    public string CategoryCode { get; init; } = "";
    public string? CategoryVersion { get; init; }
    public string AreaCode { get; init; } = "";
    public string Address { get; init; } = "";
    public string Content { get; init; } = "";
    public string CallerName { get; init; } = "";
    public string CallerPhone { get; init; } = "";
    public bool Confidential { get; init; }
    public bool Anonymous { get; init; }
    public ImmutableList<string> CallIds { get; init; } = [];
    public ImmutableList<RepeatOfTicket> RepeatOf { get; init; } = [];
    public int ContactsLast30Days { get; init; }
    public DateTimeOffset RegisteredAt { get; init; }
    public string RegisteredBy { get; init; } = "";
    public DateTimeOffset DispatchDueAt { get; init; }
    public bool DispatchDueProvisional { get; init; }

    /// <summary>What the dispatch deadline was computed from (registration, approved return, reopening).</summary>
    public DeadlineBasis? DispatchBasis { get; init; }

    /// <summary>暂缓派单 in force (only while 待派单).</summary>
    public DispatchHold? Hold { get; init; }

    /// <summary>Auto-dispatch left the ticket for a dispatcher (only while 待派单).</summary>
    public DispatcherFlag? DispatcherFlag { get; init; }

    public string? DirectAnswer { get; init; }
    public string? KnowledgeItemId { get; init; }
    public string? OutOfScopeReasonCode { get; init; }
    public string? ReferredTo { get; init; }
    public EmergencyTransfer? Emergency { get; init; }
    public ImmutableList<TicketTask> Tasks { get; init; } = [];
    public ImmutableList<TicketNote> Notes { get; init; } = [];
    public DateTimeOffset? ReplyAcceptedAt { get; init; }

    /// <summary>The latest callback evaluation (the one that counts).</summary>
    public TicketCallback? Callback { get; init; }
    public ImmutableList<TicketCallback> Callbacks { get; init; } = [];
    public int CallbackAttempts { get; init; }
    public DateTimeOffset? ClosedAt { get; init; }
    public string? CloseReason { get; init; }
    public string? CloseKind { get; init; }
    public int ReworkCount { get; init; }
    public int ReopenCount { get; init; }
    public int UrgeCount { get; init; }
    public DateTimeOffset? LastUrgedAt { get; init; }
    public TicketSupervision? Supervision { get; init; }
    public Guid? MergedInto { get; init; }
    public string? MergedIntoNumber { get; init; }
    public ImmutableList<AttachedDuplicate> Duplicates { get; init; } = [];

    /// <summary>Number of events folded: the stream version the HTTP API shows (ETag).</summary>
    public long Version { get; init; }

    /// <summary>The current main task (主办) at the top level: the latest dispatched.</summary>
    public TicketTask? MainTask => Tasks.FindLast(t => t.Role == TaskRoles.Main);

    public TicketTask? TaskOf(Guid taskId) => Tasks.Find(t => t.TaskId == taskId);

    public bool IsOpen => State is not (TicketState.None or TicketState.Closed);

    public static Ticket Evolve(Ticket state, ITicketEvent e)
    {
        var next = e switch
        {
            TicketRegistered r => state with
            {
                Id = r.TicketId,
                State = TicketState.Registered,
                Number = r.Number,
                Channel = r.Channel,
                Type = r.Type,
                Urgency = r.Urgency,
                CategoryCode = r.CategoryCode,
                CategoryVersion = r.CategoryVersion,
                AreaCode = r.AreaCode,
                Address = r.Address,
                Content = r.Content,
                CallerName = r.CallerName,
                CallerPhone = r.CallerPhone,
                Confidential = r.Confidential,
                Anonymous = r.Anonymous,
                CallIds = (r.CallId is null ? Enumerable.Empty<string>() : [r.CallId]).Concat(r.CallIds ?? []).Distinct(StringComparer.Ordinal).ToImmutableList(),
                RepeatOf = (r.RepeatOf ?? []).ToImmutableList(),
                ContactsLast30Days = r.ContactsLast30Days,
                RegisteredAt = r.At,
                RegisteredBy = r.By,
                DispatchDueAt = r.DispatchDueAt,
                DispatchDueProvisional = r.DispatchDueProvisional,
                DispatchBasis = new DeadlineBasis(TimeLimitKind.Dispatch, r.At),
            },
            TicketAnsweredDirectly a => Close(state with { DirectAnswer = a.Text, KnowledgeItemId = a.KnowledgeItemId }, a.At, "直接办结", CloseKinds.AnsweredDirectly),
            TicketOutOfScope o => Close(state with { OutOfScopeReasonCode = o.ReasonCode, ReferredTo = o.ReferredTo }, o.At, "不予受理：" + OutOfScopeReasons.NameOf(o.ReasonCode), CloseKinds.OutOfScope),
            TicketTransferredToEmergency x => Close(state with { Emergency = new EmergencyTransfer(x.Line, x.Note, x.CallId, x.TransferredAt, x.By) }, x.At, "转" + x.Line, CloseKinds.Emergency),
            TicketDispatched d => state with
            {
                State = d.Role == TaskRoles.Main ? TicketState.Dispatched : state.State,
                Tasks = state.Tasks.Add(new TicketTask(d.TaskId, d.UnitId, d.Role, TaskState.ToSign, d.At, d.SignDueAt, d.ReplyDueAt, d.Provisional, null, null, null, null, 0)
                {
                    ReturnDueAt = d.ReturnDueAt,
                    SignBasis = new DeadlineBasis(TimeLimitKind.SignFor, d.At),
                    ReplyBasis = new DeadlineBasis(TimeLimitKind.Reply, d.At),
                    ReturnBasis = d.ReturnDueAt is null ? null : new DeadlineBasis(TimeLimitKind.ReturnWindow, d.At),
                }.WithProvisional(d.SignDueProvisional ?? d.Provisional, d.ReplyDueProvisional ?? d.Provisional, d.ReturnDueProvisional ?? d.Provisional)),
            },
            TaskSubDispatched s => state with
            {
                Tasks = state.Tasks.Add(new TicketTask(s.TaskId, s.UnitId, TaskRoles.Sub, TaskState.ToSign, s.At, s.SignDueAt, s.ReplyDueAt, s.Provisional, null, null, null, null, 0)
                {
                    ParentTaskId = s.ParentTaskId,
                    Level = (state.TaskOf(s.ParentTaskId)?.Level ?? 0) + 1,
                    ReturnDueAt = s.ReturnDueAt,
                    SignBasis = new DeadlineBasis(TimeLimitKind.SignFor, s.At),
                    ReplyBasis = new DeadlineBasis(TimeLimitKind.Reply, s.At) { Cap = state.TaskOf(s.ParentTaskId)?.ReplyBasis },
                    ReturnBasis = new DeadlineBasis(TimeLimitKind.ReturnWindow, s.At),
                }.WithProvisional(s.SignDueProvisional ?? s.Provisional, s.ReplyDueProvisional ?? s.Provisional, s.ReturnDueProvisional ?? s.Provisional)),
            },
            TaskSignedFor s => WithMainState(UpdateTask(state, s.TaskId, t => t with { State = TaskState.InProgress, SignedForAt = s.At }), s.TaskId, TicketState.InProgress),
            ReturnRequested r => UpdateTask(state, r.TaskId, t => t with { PendingReturn = new PendingRequest(r.Reason, r.LegalBasis, 0, r.By, r.At) }),
            ReturnRejected r => UpdateTask(state, r.TaskId, t => t with { PendingReturn = null }),
            ReturnApproved r => ApproveReturn(state, r),
            ExtensionRequested x => UpdateTask(state, x.TaskId, t => t with { PendingExtension = new PendingRequest(x.Reason, null, x.Days, x.By, x.At) }),
            ExtensionRejected x => UpdateTask(state, x.TaskId, t => t with { PendingExtension = null }),
            ExtensionApproved x => UpdateTask(state, x.TaskId, t => (t with { PendingExtension = null, ReplyDueAt = x.ReplyDueAt, ExtensionCount = t.ExtensionCount + 1, ReplyBasis = t.ReplyBasis?.Extended(x.Days) }).WithProvisional(reply: x.Provisional)),
            ProgressNoted n => state with { Notes = state.Notes.Add(new TicketNote(n.TaskId, n.UnitId, n.Text, n.By, n.At)) },
            CitizenContacted c => UpdateTask(state, c.TaskId, t => t with { FirstContactAt = c.ContactedAt }),
            ReplySubmitted r => WithMainState(
                UpdateTask(state, r.TaskId, t => t with { State = TaskState.Replied, RepliedAt = r.At, ReplyResult = r.Result, ReplyText = r.UnresolvedReason is null ? r.Text : r.Text + "（未解决原因：" + r.UnresolvedReason + "）" }),
                r.TaskId, TicketState.Replied),
            ReplyAccepted a => state with
            {
                State = TicketState.ReplyAccepted,
                ReplyAcceptedAt = a.At,
                Tasks = state.Tasks.Select(t => t.TaskId == a.TaskId || t.State == TaskState.Replied ? t with { State = TaskState.Done, ClosedAt = a.At } : t).ToImmutableList(),
            },
            ReworkOrdered w => UpdateTask(state, w.TaskId, t => (t with { State = TaskState.InProgress, ReplyDueAt = w.ReplyDueAt, ReworkCount = t.ReworkCount + 1, ClosedAt = null, ReplyBasis = new DeadlineBasis(TimeLimitKind.Reply, w.At) }).WithProvisional(reply: w.Provisional))
                with { State = TicketState.InProgress, ReworkCount = state.ReworkCount + 1, ReplyAcceptedAt = null },
            CallbackScheduled => state with { State = TicketState.AwaitingCallback, CallbackAttempts = 0 },
            CallbackRecorded c => state with
            {
                Callback = new TicketCallback(c.Satisfaction, c.Comment, c.By, c.At),
                Callbacks = state.Callbacks.Add(new TicketCallback(c.Satisfaction, c.Comment, c.By, c.At)),
            },
            CallbackAttemptFailed f => state with { CallbackAttempts = f.Attempt },
            CallbackUnreachable u => Close(state, u.At, "无法联系", CloseKinds.Unreachable),
            TicketUrged u => (u.TaskId is { } tid ? UpdateTask(state, tid, t => t with { UrgeCount = t.UrgeCount + 1 }) : state) with { UrgeCount = state.UrgeCount + 1, LastUrgedAt = u.At },
            SupervisionStarted s => state with { Supervision = new TicketSupervision(s.Level, s.Reason, s.At, s.At) },
            SupervisionRaised s => state with { Supervision = state.Supervision is null ? new TicketSupervision(s.ToLevel, s.Reason, s.At, s.At) : state.Supervision with { Level = s.ToLevel, Reason = s.Reason, LevelSince = s.At } },
            TicketMerged m => Close(state with { MergedInto = m.MasterTicketId, MergedIntoNumber = m.MasterNumber }, m.At, "并单至 " + m.MasterNumber, CloseKinds.Merged),
            DuplicateAttached d => state with { Duplicates = state.Duplicates.Add(new AttachedDuplicate(d.DuplicateTicketId, d.DuplicateNumber, d.Content, d.At)) },
            TicketClosed c => Close(state, c.At, c.Reason, CloseKinds.Handled),
            TicketReopened o => Reopen(state, o),
            DispatchHeld h => state with { Hold = new DispatchHold(h.Reason, h.By, h.At) },
            DispatchHoldReleased => state with { Hold = null },
            DispatcherAttentionFlagged f => state with { DispatcherFlag = new DispatcherFlag(f.ReasonCode, f.Detail, f.At) },
            DeadlinesRecomputed r => r.Changes.Aggregate(state, ApplyDeadline),
            _ => state,
        };
        // A hold and an attention flag belong to one wait for dispatch; leaving 待派单 ends them.
        if (next.State != TicketState.Registered && (next.Hold is not null || next.DispatcherFlag is not null))
            next = next with { Hold = null, DispatcherFlag = null };
        return next with { Version = state.Version + 1 };
    }

    public static Ticket Fold(IEnumerable<ITicketEvent> events) => events.Aggregate(Initial, Evolve);

    private static Ticket Close(Ticket state, DateTimeOffset at, string reason, string kind) =>
        state with
        {
            State = TicketState.Closed,
            ClosedAt = at,
            CloseReason = reason,
            CloseKind = kind,
            Tasks = state.Tasks.Select(t => t.IsOpen || t.State == TaskState.Replied ? t with { State = TaskState.Done, ClosedAt = at } : t).ToImmutableList(),
        };

    private static Ticket ApproveReturn(Ticket state, ReturnApproved r)
    {
        var returned = Descendants(state, r.TaskId).Append(r.TaskId).ToHashSet();
        var tasks = state.Tasks.Select(t => returned.Contains(t.TaskId) && t.State != TaskState.Done
            ? t with { State = TaskState.Returned, PendingReturn = null, PendingExtension = null, ClosedAt = r.At, ReturnReason = t.TaskId == r.TaskId ? t.PendingReturn?.Reason : "上级任务已退回" }
            : t).ToImmutableList();
        var next = state with { Tasks = tasks };
        return r.DispatchDueAt is { } due
            ? next with { State = TicketState.Registered, DispatchDueAt = due, DispatchDueProvisional = r.Provisional, DispatchBasis = new DeadlineBasis(TimeLimitKind.Dispatch, r.At) }
            : next;
    }

    private static Ticket Reopen(Ticket state, TicketReopened o)
    {
        var reopened = state with { ReopenCount = state.ReopenCount + 1, ClosedAt = null, CloseReason = null, CloseKind = null, ReplyAcceptedAt = null };
        return o.TaskId is { } taskId
            ? UpdateTask(reopened, taskId, t => (t with { State = TaskState.InProgress, ReplyDueAt = o.DueAt, ClosedAt = null, ReplyBasis = new DeadlineBasis(TimeLimitKind.Reply, o.At) }).WithProvisional(reply: o.Provisional)) with { State = TicketState.InProgress }
            : reopened with { State = TicketState.Registered, DispatchDueAt = o.DueAt, DispatchDueProvisional = o.Provisional, DispatchBasis = new DeadlineBasis(TimeLimitKind.Dispatch, o.At) };
    }

    private static Ticket ApplyDeadline(Ticket state, DeadlineChange c)
    {
        if (c.TaskId is not { } taskId)
            return c.Kind == DeadlineKinds.Dispatch ? state with { DispatchDueAt = c.NewDueAt, DispatchDueProvisional = c.NewProvisional } : state;
        return UpdateTask(state, taskId, t => c.Kind switch
        {
            DeadlineKinds.SignFor => (t with { SignDueAt = c.NewDueAt }).WithProvisional(sign: c.NewProvisional),
            DeadlineKinds.Reply => (t with { ReplyDueAt = c.NewDueAt }).WithProvisional(reply: c.NewProvisional),
            DeadlineKinds.ReturnWindow => (t with { ReturnDueAt = c.NewDueAt }).WithProvisional(returnWindow: c.NewProvisional),
            _ => t,
        });
    }

    /// <summary>All tasks sub-dispatched (directly or further down) from <paramref name="taskId"/>.</summary>
    public static IEnumerable<Guid> Descendants(Ticket state, Guid taskId)
    {
        foreach (var child in state.Tasks.Where(t => t.ParentTaskId == taskId))
        {
            yield return child.TaskId;
            foreach (var d in Descendants(state, child.TaskId)) yield return d;
        }
    }

    /// <summary>Moves the ticket state only when the task is the current main task at the top level.</summary>
    private static Ticket WithMainState(Ticket state, Guid taskId, TicketState ticketState) =>
        state.MainTask?.TaskId == taskId ? state with { State = ticketState } : state;

    private static Ticket UpdateTask(Ticket state, Guid taskId, Func<TicketTask, TicketTask> change)
    {
        var index = state.Tasks.FindIndex(t => t.TaskId == taskId);
        return index < 0 ? state : state with { Tasks = state.Tasks.SetItem(index, change(state.Tasks[index])) };
    }
}

public static class TaskRoles
{
    public const string Main = "主办";
    public const string CoHandler = "协办";
    /// <summary>A task a unit passed down its own subtree (下派).</summary>
    public const string Sub = "下派";
}

/// <summary>How a closed ticket ended.</summary>
public static class CloseKinds
{
    public const string Handled = "handled";
    public const string AnsweredDirectly = "answered-directly";
    public const string OutOfScope = "out-of-scope";
    public const string Emergency = "emergency";
    public const string Merged = "merged";
    public const string Unreachable = "unreachable";
}

public static class TicketStateNames
{
    public static string Of(TicketState state) => state switch
    {
        TicketState.None => "未受理",
        TicketState.Registered => "待派单",
        TicketState.Dispatched => "待签收",
        TicketState.InProgress => "办理中",
        TicketState.Replied => "待审核",
        TicketState.ReplyAccepted => "待回访",
        TicketState.AwaitingCallback => "回访中",
        TicketState.Closed => "已办结",
        _ => state.ToString(),
    };

    public static string Of(TaskState state) => state switch
    {
        TaskState.ToSign => "待签收",
        TaskState.InProgress => "办理中",
        TaskState.Replied => "已答复",
        TaskState.Done => "已完成",
        TaskState.Returned => "已退回",
        _ => state.ToString(),
    };
}
