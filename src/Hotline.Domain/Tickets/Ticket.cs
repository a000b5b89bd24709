using System.Collections.Immutable;

namespace Hotline.Domain.Tickets;

public enum TicketState
{
    None,
    /// <summary>受理, waiting for dispatch (待派单).</summary>
    Registered,
    /// <summary>派单 done, the unit has not signed for it (待签收).</summary>
    Dispatched,
    /// <summary>签收 done, the unit is handling it (办理中).</summary>
    InProgress,
    /// <summary>答复 submitted, waiting for review (待审核).</summary>
    Replied,
    /// <summary>审核 accepted, the callback is not scheduled yet (待回访).</summary>
    ReplyAccepted,
    /// <summary>回访 task open (回访中).</summary>
    AwaitingCallback,
    /// <summary>办结.</summary>
    Closed,
}

public enum TaskState
{
    ToSign,
    InProgress,
    Replied,
    Done,
}

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
    int ReworkCount);

public sealed record TicketCallback(string Satisfaction, string? Comment, string By, DateTimeOffset At);

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
    public string AreaCode { get; init; } = "";
    public string Address { get; init; } = "";
    public string Content { get; init; } = "";
    public string CallerName { get; init; } = "";
    public string CallerPhone { get; init; } = "";
    public bool Confidential { get; init; }
    public ImmutableList<string> CallIds { get; init; } = [];
    public DateTimeOffset RegisteredAt { get; init; }
    public string RegisteredBy { get; init; } = "";
    public DateTimeOffset DispatchDueAt { get; init; }
    public bool DispatchDueProvisional { get; init; }
    public string? DirectAnswer { get; init; }
    public ImmutableList<TicketTask> Tasks { get; init; } = [];
    public DateTimeOffset? ReplyAcceptedAt { get; init; }
    public TicketCallback? Callback { get; init; }
    public DateTimeOffset? ClosedAt { get; init; }
    public string? CloseReason { get; init; }
    public int ReworkCount { get; init; }

    /// <summary>Number of events folded: the stream version the HTTP API shows (ETag).</summary>
    public long Version { get; init; }

    public TicketTask? MainTask => Tasks.FindLast(t => t.Role == TaskRoles.Main);

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
                AreaCode = r.AreaCode,
                Address = r.Address,
                Content = r.Content,
                CallerName = r.CallerName,
                CallerPhone = r.CallerPhone,
                Confidential = r.Confidential,
                CallIds = r.CallId is null ? [] : [r.CallId],
                RegisteredAt = r.At,
                RegisteredBy = r.By,
                DispatchDueAt = r.DispatchDueAt,
                DispatchDueProvisional = r.DispatchDueProvisional,
            },
            TicketAnsweredDirectly a => state with { State = TicketState.Closed, DirectAnswer = a.Text, ClosedAt = a.At, CloseReason = "直接办结" },
            TicketDispatched d => state with
            {
                State = TicketState.Dispatched,
                Tasks = state.Tasks.Add(new TicketTask(d.TaskId, d.UnitId, d.Role, TaskState.ToSign, d.At, d.SignDueAt, d.ReplyDueAt, d.Provisional, null, null, null, null, 0)),
            },
            TaskSignedFor s => UpdateTask(state, s.TaskId, t => t with { State = TaskState.InProgress, SignedForAt = s.At }) with { State = TicketState.InProgress },
            ReplySubmitted r => UpdateTask(state, r.TaskId, t => t with { State = TaskState.Replied, RepliedAt = r.At, ReplyResult = r.Result, ReplyText = r.Text }) with { State = TicketState.Replied },
            ReplyAccepted a => UpdateTask(state, a.TaskId, t => t with { State = TaskState.Done }) with { State = TicketState.ReplyAccepted, ReplyAcceptedAt = a.At },
            ReworkOrdered w => UpdateTask(state, w.TaskId, t => t with { State = TaskState.InProgress, ReplyDueAt = w.ReplyDueAt, Provisional = w.Provisional, ReworkCount = t.ReworkCount + 1 })
                with { State = TicketState.InProgress, ReworkCount = state.ReworkCount + 1, ReplyAcceptedAt = null },
            CallbackScheduled => state with { State = TicketState.AwaitingCallback },
            CallbackRecorded c => state with { Callback = new TicketCallback(c.Satisfaction, c.Comment, c.By, c.At) },
            TicketClosed c => state with { State = TicketState.Closed, ClosedAt = c.At, CloseReason = c.Reason },
            _ => state,
        };
        return next with { Version = state.Version + 1 };
    }

    public static Ticket Fold(IEnumerable<ITicketEvent> events) => events.Aggregate(Initial, Evolve);

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
        _ => state.ToString(),
    };
}
