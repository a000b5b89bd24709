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
}

public sealed record AnswerDirectly(string? Text, string? KnowledgeItemId, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.AnswerDirectly;
}

public sealed record DispatchTicket(Guid TaskId, string? UnitId, string? Reason, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.Dispatch;
}

public sealed record SignForTask(string ActorUnitId, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.SignFor;
}

public sealed record SubmitReply(string ActorUnitId, string? Result, string? Text, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.Reply;
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

public sealed record CloseTicket(string? Reason, string Actor) : TicketCommand(Actor)
{
    public override string Name => TicketActions.Close;
}

public static class TicketActions
{
    public const string AnswerDirectly = "answer-directly";
    public const string Dispatch = "dispatch";
    public const string SignFor = "sign-for";
    public const string Reply = "reply";
    public const string Review = "review";
    public const string ScheduleCallback = "schedule-callback";
    public const string Callback = "callback";
    public const string Close = "close";
}

public static class TicketVocabulary
{
    public static IReadOnlyList<string> Channels { get; } = ["电话", "网站", "微信", "短信", "APP", "邮件", "上级派发", "110转入"];
    public static IReadOnlyList<string> Types { get; } = ["咨询", "求助", "投诉", "举报", "建议", "表扬", "其他"];
    public static IReadOnlyList<string> Urgencies { get; } = ["一般", "紧急", "特急"];
    public static IReadOnlyList<string> ReplyResults { get; } = ["resolved", "explained", "unresolved"];
    public static IReadOnlyList<string> Satisfactions { get; } = ["满意", "基本满意", "不满意"];
}

/// <summary>Deadlines for a ticket's steps (the rules table on the official working-day calendar).</summary>
public interface IDeadlinePolicy
{
    Deadline Due(TimeLimitKind kind, string type, string urgency, DateTimeOffset start);
}

/// <summary>What the decisions need to know of the reference data (category tree, area tree, units).</summary>
public interface ITicketReference
{
    bool IsLeafCategory(string code);
    bool IsArea(string code);
    bool IsHandlingUnit(string unitId);
}

public sealed record TicketContext(IDeadlinePolicy Deadlines, ITicketReference Reference);
