using Hotline.Domain.Common;

namespace Hotline.Domain.Tickets;

// Every event of the ticket stream, in one file. Events are past-tense facts; each carries the
// ticket id, the actor and the time. The stored type name ("V1.…") never changes with the CLR name.
// Fields added after V1 was first stored are optional trailing parameters: old events read with their default.

public interface ITicketEvent
{
    Guid TicketId { get; }
    string By { get; }
    DateTimeOffset At { get; }
}

/// <summary>An earlier ticket of the same caller about the same matter (repeat / possible duplicate).</summary>
public sealed record RepeatOfTicket(Guid TicketId, string Number, DateTimeOffset RegisteredAt);

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
    DateTimeOffset At,
    bool Anonymous = false,
    IReadOnlyList<string>? CallIds = null,
    IReadOnlyList<RepeatOfTicket>? RepeatOf = null,
    int ContactsLast30Days = 0,
    string? CategoryVersion = null) : ITicketEvent;

/// <summary>直接办结: answered on the spot, citing the knowledge-base item used.</summary>
[EventType("V1.TicketAnsweredDirectly")]
public sealed record TicketAnsweredDirectly(Guid TicketId, string Text, string? KnowledgeItemId, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>不予受理: closed without handling; the reason code and what the caller was told to do instead.</summary>
[EventType("V1.TicketOutOfScope")]
public sealed record TicketOutOfScope(Guid TicketId, string ReasonCode, string ReferredTo, string? Note, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>转110/119/120/122: handed to an emergency line, with the transfer record.</summary>
[EventType("V1.TicketTransferredToEmergency")]
public sealed record TicketTransferredToEmergency(Guid TicketId, string Line, string Note, string? CallId, DateTimeOffset TransferredAt, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>
/// 派单 of one task (主办 or 协办). One event per task, each with its own timers. <see cref="Provisional"/> is true when
/// any deadline is; the per-deadline flags (recorded since deadline recomputation) say which (null in older events).
/// </summary>
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
    DateTimeOffset At,
    DateTimeOffset? ReturnDueAt = null,
    string? SuggestedUnitId = null,
    string? OverrideReason = null,
    string? CatalogueVersion = null,
    bool? SignDueProvisional = null,
    bool? ReplyDueProvisional = null,
    bool? ReturnDueProvisional = null) : ITicketEvent;

/// <summary>A unit passes its task down its own subtree (city → district → town → community); the new task has its own timers.</summary>
[EventType("V1.TaskSubDispatched")]
public sealed record TaskSubDispatched(
    Guid TicketId,
    Guid TaskId,
    Guid ParentTaskId,
    string UnitId,
    string FromUnitId,
    string? Reason,
    DateTimeOffset SignDueAt,
    DateTimeOffset ReplyDueAt,
    DateTimeOffset ReturnDueAt,
    bool Provisional,
    string By,
    DateTimeOffset At,
    bool? SignDueProvisional = null,
    bool? ReplyDueProvisional = null,
    bool? ReturnDueProvisional = null) : ITicketEvent;

[EventType("V1.TaskSignedFor")]
public sealed record TaskSignedFor(Guid TicketId, Guid TaskId, string UnitId, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>退回 asked by the unit (within the return window), with reason and legal basis.</summary>
[EventType("V1.ReturnRequested")]
public sealed record ReturnRequested(Guid TicketId, Guid TaskId, string UnitId, string Reason, string? LegalBasis, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>
/// The return is approved: the task (and its open subtasks) end as returned. For the main task at the top level the
/// ticket goes back to 待派单 with a new dispatch deadline (<see cref="DispatchDueAt"/>); a subtask returns to its parent unit.
/// </summary>
[EventType("V1.ReturnApproved")]
public sealed record ReturnApproved(Guid TicketId, Guid TaskId, string UnitId, string? Comment, DateTimeOffset? DispatchDueAt, bool Provisional, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>The return is refused: the task stays with the unit, its timers continue.</summary>
[EventType("V1.ReturnRejected")]
public sealed record ReturnRejected(Guid TicketId, Guid TaskId, string UnitId, string Comment, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>延期 asked before the reply deadline.</summary>
[EventType("V1.ExtensionRequested")]
public sealed record ExtensionRequested(Guid TicketId, Guid TaskId, string UnitId, int Days, string Reason, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>The extension is granted: the task's reply deadline moves to <see cref="ReplyDueAt"/>.</summary>
[EventType("V1.ExtensionApproved")]
public sealed record ExtensionApproved(Guid TicketId, Guid TaskId, string UnitId, int Days, DateTimeOffset ReplyDueAt, bool Provisional, string? Comment, string By, DateTimeOffset At) : ITicketEvent;

[EventType("V1.ExtensionRejected")]
public sealed record ExtensionRejected(Guid TicketId, Guid TaskId, string UnitId, string Comment, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>A progress note (办理过程) by a unit on its task, or by the office (no task).</summary>
[EventType("V1.ProgressNoted")]
public sealed record ProgressNoted(Guid TicketId, Guid? TaskId, string? UnitId, string Text, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>The unit first got in touch with the citizen (首次联系).</summary>
[EventType("V1.CitizenContacted")]
public sealed record CitizenContacted(Guid TicketId, Guid TaskId, string UnitId, DateTimeOffset ContactedAt, string By, DateTimeOffset At) : ITicketEvent;

[EventType("V1.ReplySubmitted")]
public sealed record ReplySubmitted(Guid TicketId, Guid TaskId, string UnitId, string Result, string Text, string By, DateTimeOffset At, string? UnresolvedReason = null) : ITicketEvent;

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

/// <summary>A callback attempt did not reach the citizen (attempt 1, 2, …).</summary>
[EventType("V1.CallbackAttemptFailed")]
public sealed record CallbackAttemptFailed(Guid TicketId, int Attempt, string Reason, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>After the configured number of failed attempts the ticket closes as 无法联系.</summary>
[EventType("V1.CallbackUnreachable")]
public sealed record CallbackUnreachable(Guid TicketId, int Attempts, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>催办: a reminder to a unit (or to the dispatchers when <see cref="UnitId"/> is null); never changes the state.</summary>
[EventType("V1.TicketUrged")]
public sealed record TicketUrged(Guid TicketId, Guid? TaskId, string? UnitId, string Reason, bool Automatic, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>督办 begins at a level (ordinary / yellow / red); a layer on top of the state.</summary>
[EventType("V1.SupervisionStarted")]
public sealed record SupervisionStarted(Guid TicketId, Guid? TaskId, string? UnitId, string Level, string Reason, bool Automatic, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>督办 raised to a higher level.</summary>
[EventType("V1.SupervisionRaised")]
public sealed record SupervisionRaised(Guid TicketId, string FromLevel, string ToLevel, string Reason, bool Automatic, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>并单, on the duplicate: it closes as merged into the master.</summary>
[EventType("V1.TicketMerged")]
public sealed record TicketMerged(Guid TicketId, Guid MasterTicketId, string MasterNumber, string? Reason, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>并单, on the master: the duplicate's content joins it, so the master's units see it.</summary>
[EventType("V1.DuplicateAttached")]
public sealed record DuplicateAttached(Guid TicketId, Guid DuplicateTicketId, string DuplicateNumber, string Content, string By, DateTimeOffset At) : ITicketEvent;

[EventType("V1.TicketClosed")]
public sealed record TicketClosed(Guid TicketId, string Reason, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>A reviewer reopens a closed ticket: back to the main unit with a new reply deadline, or back to 待派单.</summary>
[EventType("V1.TicketReopened")]
public sealed record TicketReopened(Guid TicketId, Guid? TaskId, string Reason, DateTimeOffset DueAt, bool Provisional, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>暂缓派单: a dispatcher holds the waiting ticket (auto-dispatch leaves it alone until the hold is released or the ticket leaves 待派单).</summary>
[EventType("V1.DispatchHeld")]
public sealed record DispatchHeld(Guid TicketId, string Reason, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>The dispatcher hold ends; auto-dispatch may consider the ticket again.</summary>
[EventType("V1.DispatchHoldReleased")]
public sealed record DispatchHoldReleased(Guid TicketId, string? Reason, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>
/// Auto-dispatch could not decide and left the waiting ticket for a dispatcher (reason code from
/// <see cref="DispatcherAttentionReasons"/>). Written once per reason while the ticket waits.
/// </summary>
[EventType("V1.DispatcherAttentionFlagged")]
public sealed record DispatcherAttentionFlagged(Guid TicketId, string ReasonCode, string Detail, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>One deadline that moved (or stopped being provisional) when the calendar changed. <see cref="TaskId"/> is null for the dispatch deadline.</summary>
public sealed record DeadlineChange(Guid? TaskId, string Kind, DateTimeOffset OldDueAt, DateTimeOffset NewDueAt, bool OldProvisional, bool NewProvisional);

/// <summary>
/// Provisional deadlines (computed Monday–Friday for a year without an imported holiday notice) computed again on
/// the current calendar. Only written when some deadline changed (date or provisional flag).
/// </summary>
[EventType("V1.DeadlinesRecomputed")]
public sealed record DeadlinesRecomputed(Guid TicketId, IReadOnlyList<DeadlineChange> Changes, string Reason, string By, DateTimeOffset At) : ITicketEvent;

/// <summary>The stable names of all ticket events, for (de)serialisation.</summary>
public static class TicketEventTypes
{
    public static IReadOnlyList<Type> All { get; } =
    [
        typeof(TicketRegistered), typeof(TicketAnsweredDirectly), typeof(TicketOutOfScope), typeof(TicketTransferredToEmergency),
        typeof(TicketDispatched), typeof(TaskSubDispatched), typeof(TaskSignedFor),
        typeof(ReturnRequested), typeof(ReturnApproved), typeof(ReturnRejected),
        typeof(ExtensionRequested), typeof(ExtensionApproved), typeof(ExtensionRejected),
        typeof(ProgressNoted), typeof(CitizenContacted),
        typeof(ReplySubmitted), typeof(ReplyAccepted), typeof(ReworkOrdered), typeof(CallbackScheduled),
        typeof(CallbackRecorded), typeof(CallbackAttemptFailed), typeof(CallbackUnreachable),
        typeof(TicketUrged), typeof(SupervisionStarted), typeof(SupervisionRaised),
        typeof(TicketMerged), typeof(DuplicateAttached), typeof(TicketClosed), typeof(TicketReopened),
        typeof(DispatchHeld), typeof(DispatchHoldReleased), typeof(DispatcherAttentionFlagged), typeof(DeadlinesRecomputed),
    ];
}
