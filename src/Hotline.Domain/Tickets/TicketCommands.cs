using Hotline.Domain.Calendar;

namespace Hotline.Domain.Tickets;

/// <summary>Commands on one ticket. Ids are made at the edge (HTTP layer); the actor is the signed-in user.</summary>
public abstract record TicketCommand(string Actor)
{
    /// <summary>The action name used by the API and by <see cref="TicketDecider.AllowedActions"/>.</summary>
    public abstract string Name { get; }
}

public sealed record RegisterTicket(
    Guid TicketId,
    string Number,
    string? Channel,
    string? Type,
    string? Urgency,
    string? CategoryCode,
    string? AreaCode,
    string? Address,
    string? Content,
    string? CallerName,
    string? CallerPhone,
    bool Confidential,
    string? CallId,
    string Actor) : TicketCommand(Actor)
{
    public override string Name => "register";

    /// <summary>匿名: the caller gave no name; the phone may be missing too (web, mailbox).</summary>
    public bool Anonymous { get; init; }

    /// <summary>Further linked call ids (besides <see cref="CallId"/>).</summary>
    public IReadOnlyList<string> CallIds { get; init; } = [];

    /// <summary>Earlier tickets of the same caller and matter (found by the service in the read model).</summary>
    public IReadOnlyList<RepeatOfTicket> RepeatOf { get; init; } = [];

    /// <summary>The caller's contacts in the last 30 days, this one excluded (found by the service).</summary>
    public int ContactsLast30Days { get; init; }
}

public sealed record AnswerDirectly(string? Text, string? KnowledgeItemId, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.AnswerDirectly;
}

/// <summary>不予受理 with a reason code from <see cref="OutOfScopeReasons"/> and the channel the caller was told to use.</summary>
public sealed record RejectOutOfScope(string? ReasonCode, string? ReferredTo, string? Note, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.OutOfScope;
}

/// <summary>转110/119/120/122.</summary>
public sealed record TransferToEmergency(string? Line, string? Note, string? CallId, DateTimeOffset? TransferredAt, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.EmergencyTransfer;
}

public sealed record DispatchTicket(Guid TaskId, string? UnitId, string? Reason, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.Dispatch;

    /// <summary>协办 units: each gets its own task and timers.</summary>
    public IReadOnlyList<string> CoUnitIds { get; init; } = [];

    /// <summary>Task ids for the co-handler tasks, made at the edge (derived from <see cref="TaskId"/> when missing).</summary>
    public IReadOnlyList<Guid> CoTaskIds { get; init; } = [];

    /// <summary>Why the dispatcher chose another unit than the catalogue suggests (required then).</summary>
    public string? OverrideReason { get; init; }
}

/// <summary>A unit passes its task down to a unit inside its own subtree (下派).</summary>
public sealed record SubDispatchTask(Guid TaskId, string ActorUnitId, string? UnitId, string? Reason, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.SubDispatch;
}

public sealed record SignForTask(string ActorUnitId, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.SignFor;
}

public sealed record RequestReturn(string ActorUnitId, string? Reason, string? LegalBasis, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.RequestReturn;
}

/// <summary>
/// Decides a pending return. <paramref name="ActorUnitId"/> is null for the hotline office (top-level tasks, and any
/// task); a unit decides the returns of the tasks it sub-dispatched (return up one level).
/// </summary>
public sealed record DecideReturn(Guid? TaskId, bool Approve, string? Comment, string? ActorUnitId, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.DecideReturn;
}

public sealed record RequestExtension(string ActorUnitId, int? Days, string? Reason, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.RequestExtension;
}

/// <summary>Decides a pending extension; <paramref name="Days"/> may grant fewer days than asked (null = as asked).</summary>
public sealed record DecideExtension(Guid? TaskId, bool Approve, int? Days, string? Comment, string? ActorUnitId, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.DecideExtension;
}

/// <summary>A progress note; <paramref name="ActorUnitId"/> null for the office.</summary>
public sealed record AddProgressNote(string? ActorUnitId, string? Text, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.Note;
}

public sealed record RecordFirstContact(string ActorUnitId, DateTimeOffset? ContactedAt, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.FirstContact;
}

public sealed record SubmitReply(string ActorUnitId, string? Result, string? Text, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.Reply;

    /// <summary>Required when <see cref="Result"/> is "unresolved".</summary>
    public string? UnresolvedReason { get; init; }
}

public sealed record ReviewReply(bool Accept, string? Comment, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.Review;
}

public sealed record ScheduleCallback(string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.ScheduleCallback;
}

public sealed record RecordCallback(string? Satisfaction, string? Comment, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.Callback;
}

/// <summary>A callback attempt that did not reach the citizen (no answer, switched off, wrong number).</summary>
public sealed record RecordCallbackAttemptFailed(string? Reason, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.CallbackFailed;
}

/// <summary>催办. <paramref name="TaskId"/> null: the current main task (or the dispatchers while 待派单).</summary>
public sealed record UrgeTicket(Guid? TaskId, string? Reason, bool Automatic, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.Urge;
}

/// <summary>督办 at a level from <see cref="SupervisionLevels"/>: starts it, or raises it when already supervised lower.</summary>
public sealed record SuperviseTicket(Guid? TaskId, string? Level, string? Reason, bool Automatic, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.Supervise;
}

/// <summary>并单, run on the duplicate: it closes as merged into the master.</summary>
public sealed record MergeIntoMaster(Guid MasterTicketId, string MasterNumber, bool MasterIsOpen, string? Reason, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.Merge;
}

/// <summary>并单, run on the master: the duplicate's content joins it.</summary>
public sealed record AttachDuplicate(Guid DuplicateTicketId, string DuplicateNumber, string DuplicateContent, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.AttachDuplicate;
}

public sealed record CloseTicket(string? Reason, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.Close;
}

public sealed record ReopenTicket(string? Reason, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.Reopen;
}

/// <summary>暂缓派单: a dispatcher holds a waiting ticket, with the reason (auto-dispatch skips it).</summary>
public sealed record HoldDispatch(string? Reason, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.HoldDispatch;
}

/// <summary>Ends a dispatcher hold (the reason is optional).</summary>
public sealed record ReleaseDispatchHold(string? Reason, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.ReleaseHold;
}

/// <summary>
/// Auto-dispatch leaves the waiting ticket for a dispatcher. A system command (no endpoint): idempotent, it decides
/// nothing when the ticket already carries a flag with the same reason code.
/// </summary>
public sealed record FlagForDispatcher(string? ReasonCode, string? Detail, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.FlagForDispatcher;
}

/// <summary>
/// Computes the open provisional deadlines again on the current calendar (after a holiday notice was imported). A system
/// command (no endpoint): idempotent, it decides nothing when no deadline changes.
/// </summary>
public sealed record RecomputeDeadlines(string? Reason, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.RecomputeDeadlines;
}

public static class TicketActions
{
    public const string AnswerDirectly = "answer-directly";
    public const string OutOfScope = "out-of-scope";
    public const string EmergencyTransfer = "emergency-transfer";
    public const string Dispatch = "dispatch";
    public const string SubDispatch = "sub-dispatch";
    public const string SignFor = "sign-for";
    public const string RequestReturn = "request-return";
    public const string DecideReturn = "decide-return";
    public const string RequestExtension = "request-extension";
    public const string DecideExtension = "decide-extension";
    public const string Note = "note";
    public const string FirstContact = "first-contact";
    public const string Reply = "reply";
    public const string Review = "review";
    public const string ScheduleCallback = "schedule-callback";
    public const string Callback = "callback";
    public const string CallbackFailed = "callback-failed";
    public const string Urge = "urge";
    public const string Supervise = "supervise";
    public const string Merge = "merge";
    public const string AttachDuplicate = "attach-duplicate";
    public const string Close = "close";
    public const string Reopen = "reopen";
    public const string HoldDispatch = "hold-dispatch";
    public const string ReleaseHold = "release-hold";

    // System commands: run by the jobs, never offered by the API (not in AllowedActions).
    public const string FlagForDispatcher = "flag-for-dispatcher";
    public const string RecomputeDeadlines = "recompute-deadlines";
}

public static class TicketVocabulary
{
    public static IReadOnlyList<string> Channels { get; } = ["电话", "网站", "微信", "短信", "APP", "邮件", "上级派发", "110转入"];
    public static IReadOnlyList<string> Types { get; } = ["咨询", "求助", "投诉", "举报", "建议", "表扬", "其他"];
    public static IReadOnlyList<string> Urgencies { get; } = ["一般", "紧急", "特急"];
    public static IReadOnlyList<string> ReplyResults { get; } = ["resolved", "explained", "unresolved"];
    public static IReadOnlyList<string> Satisfactions { get; } = ["满意", "基本满意", "不满意"];
    public static IReadOnlyList<string> EmergencyLines { get; } = ["110", "119", "120", "122"];
}

/// <summary>督办 levels, lowest first.</summary>
public static class SupervisionLevels
{
    public const string Ordinary = "ordinary";
    public const string Yellow = "yellow";
    public const string Red = "red";

    public static IReadOnlyList<string> All { get; } = [Ordinary, Yellow, Red];

    public static int Rank(string level) => All.ToList().IndexOf(level);

    public static string NameOf(string level) => level switch
    {
        Ordinary => "普通督办",
        Yellow => "黄牌督办",
        Red => "红牌督办",
        _ => level,
    };
}

/// <summary>不予受理 reason codes.</summary>
public static class OutOfScopeReasons
{
    public static IReadOnlyDictionary<string, string> All { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["litigation"] = "涉法涉诉（已进入或应通过诉讼、仲裁、复议程序）",
        ["petition"] = "已进入信访程序",
        ["discipline"] = "属纪检监察事项",
        ["outside-city"] = "非本市管辖",
        ["state-secret"] = "涉及国家秘密、商业秘密",
        ["no-request"] = "无实质诉求",
        ["other"] = "其他",
    };

    public static string NameOf(string code) => All.TryGetValue(code, out var name) ? name : code;
}

/// <summary>City-configurable rules of the process (besides the time limits).</summary>
public sealed record TicketRules
{
    public static TicketRules Default { get; } = new();

    /// <summary>The callback satisfaction scale, best first (configurable, e.g. five levels).</summary>
    public IReadOnlyList<string> Satisfactions { get; init; } = TicketVocabulary.Satisfactions;

    /// <summary>Evaluations that need a reason and send the ticket to 重办.</summary>
    public IReadOnlyList<string> Unsatisfied { get; init; } = ["不满意"];

    /// <summary>Whether an unsatisfied evaluation triggers 重办 (else the ticket closes with it).</summary>
    public bool ReworkOnUnsatisfied { get; init; } = true;

    /// <summary>Failed callback attempts after which the ticket closes as 无法联系.</summary>
    public int CallbackMaxAttempts { get; init; } = 3;

    public int MaxExtensionDays { get; init; } = 15;

    /// <summary>Extensions a task may get.</summary>
    public int MaxExtensions { get; init; } = 2;
}

/// <summary>Deadlines for a ticket's steps (the rules table on the official working-day calendar).</summary>
public interface IDeadlinePolicy
{
    Deadline Due(TimeLimitKind kind, string type, string urgency, DateTimeOffset start);

    /// <summary>An extension: <paramref name="workingDays"/> more working days after the day the current deadline ends.</summary>
    Deadline Extend(DateTimeOffset currentDue, int workingDays);
}

/// <summary>What the decisions need to know of the reference data (category tree, area tree, units, catalogue).</summary>
public interface ITicketReference
{
    bool IsLeafCategory(string code);
    bool IsArea(string code);
    bool IsHandlingUnit(string unitId);

    /// <summary>True when <paramref name="unitId"/> lies strictly below <paramref name="ancestorId"/> in the unit tree.</summary>
    bool IsBelow(string unitId, string ancestorId);

    /// <summary>The main unit the dispatch catalogue suggests.</summary>
    string SuggestUnit(string categoryCode, string areaCode);

    string CatalogueVersion { get; }

    string CategoryVersion { get; }
}

public sealed record TicketContext(IDeadlinePolicy Deadlines, ITicketReference Reference)
{
    public TicketRules Rules { get; init; } = TicketRules.Default;
}
