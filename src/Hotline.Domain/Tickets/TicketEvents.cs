using Hotline.Domain.Common;

namespace Hotline.Domain.Tickets;

// Every event of the ticket stream, in one file. Events are past-tense facts; each carries the
// ticket id, the actor and the time. The stored type name ("V1.…") never changes with the CLR name.

public interface ITicketEvent
{
    Guid TicketId { get; }
    string By { get; }
    DateTimeOffset At { get; }
}

[EventType("V1.TicketRegistered")]
public sealed record TicketRegistered(
    Guid TicketId,
    string Number,
    string Channel,
    string Type,
    string Urgency,
    string CategoryCode,
    string AreaCode,
    string Address,
    string Content,
    string CallerName,
    string CallerPhone,
    bool Confidential,
    string? CallId,
    DateTimeOffset DispatchDueAt,
    bool DispatchDueProvisional,
    string By,
    DateTimeOffset At) : ITicketEvent;

[EventType("V1.TicketAnsweredDirectly")]
public sealed record TicketAnsweredDirectly(Guid TicketId, string Text, string? KnowledgeItemId, string By, DateTimeOffset At) : ITicketEvent;

[EventType("V1.TicketDispatched")]
public sealed record TicketDispatched(
    Guid TicketId,
    Guid TaskId,
    string UnitId,
    string Role,
    string? Reason,
    DateTimeOffset SignDueAt,
    DateTimeOffset ReplyDueAt,
    bool Provisional,
    string By,
    DateTimeOffset At) : ITicketEvent;

[EventType("V1.TaskSignedFor")]
public sealed record TaskSignedFor(Guid TicketId, Guid TaskId, string UnitId, string By, DateTimeOffset At) : ITicketEvent;

[EventType("V1.ReplySubmitted")]
public sealed record ReplySubmitted(Guid TicketId, Guid TaskId, string UnitId, string Result, string Text, string By, DateTimeOffset At) : ITicketEvent;

[EventType("V1.ReplyAccepted")]
public sealed record ReplyAccepted(Guid TicketId, Guid TaskId, string? Comment, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>重办: the review (or an unsatisfied citizen) sends the task back to its unit with a new reply deadline.</summary>
[EventType("V1.ReworkOrdered")]
public sealed record ReworkOrdered(Guid TicketId, Guid TaskId, string Reason, DateTimeOffset ReplyDueAt, bool Provisional, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>The callback task was created (by the scheduler, after the configured delay).</summary>
[EventType("V1.CallbackScheduled")]
public sealed record CallbackScheduled(Guid TicketId, string By, DateTimeOffset At) : ITicketEvent;

[EventType("V1.CallbackRecorded")]
public sealed record CallbackRecorded(Guid TicketId, string Satisfaction, string? Comment, string By, DateTimeOffset At) : ITicketEvent;

[EventType("V1.TicketClosed")]
public sealed record TicketClosed(Guid TicketId, string Reason, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>The stable names of all ticket events, for (de)serialisation.</summary>
public static class TicketEventTypes
{
    public static IReadOnlyList<Type> All { get; } =
    [
        typeof(TicketRegistered), typeof(TicketAnsweredDirectly), typeof(TicketDispatched), typeof(TaskSignedFor),
        typeof(ReplySubmitted), typeof(ReplyAccepted), typeof(ReworkOrdered), typeof(CallbackScheduled),
        typeof(CallbackRecorded), typeof(TicketClosed),
    ];
}
