using System.Collections.Immutable;
using Hotline.Domain.Calendar;

namespace Hotline.Domain.Tickets;

/// <summary>
/// What a deadline was computed from, kept in the folded state so it can be computed again on a newer calendar:
/// the rule (<see cref="Kind"/> for the ticket's type and urgency) from <see cref="Start"/>, never later than
/// <see cref="Cap"/> (a subtask never gets more time than its parent had), then each approved extension in turn.
/// It is derived from the events (dispatch time, rework time, extension days), so old streams have it too.
/// </summary>
public sealed record DeadlineBasis(TimeLimitKind Kind, DateTimeOffset Start)
{
    public DeadlineBasis? Cap { get; init; }

    public ImmutableList<int> Extensions { get; init; } = [];

    public DeadlineBasis Extended(int workingDays) => this with { Extensions = Extensions.Add(workingDays) };

    /// <summary>The deadline on the policy's current calendar; provisional when any step of it is.</summary>
    public Deadline Evaluate(IDeadlinePolicy policy, string type, string urgency)
    {
        var due = policy.Due(Kind, type, urgency, Start);
        if (Cap?.Evaluate(policy, type, urgency) is { } cap && due.DueAt > cap.DueAt) due = cap;
        foreach (var days in Extensions)
        {
            var next = policy.Extend(due.DueAt, days);
            due = next with { Provisional = next.Provisional || due.Provisional };
        }
        return due;
    }
}

/// <summary>The deadline kinds a <see cref="DeadlineChange"/> names.</summary>
public static class DeadlineKinds
{
    public const string Dispatch = nameof(TimeLimitKind.Dispatch);
    public const string SignFor = nameof(TimeLimitKind.SignFor);
    public const string Reply = nameof(TimeLimitKind.Reply);
    public const string ReturnWindow = nameof(TimeLimitKind.ReturnWindow);
}

/// <summary>暂缓派单 in force: who held the waiting ticket, since when and why.</summary>
public sealed record DispatchHold(string Reason, string By, DateTimeOffset Since);

/// <summary>Auto-dispatch left the waiting ticket for a dispatcher (the latest flag since it began waiting).</summary>
public sealed record DispatcherFlag(string ReasonCode, string Detail, DateTimeOffset At);

/// <summary>Why auto-dispatch leaves a ticket to a person.</summary>
public static class DispatcherAttentionReasons
{
    /// <summary>No catalogue entry for the category (only the district fallback 兜底 would apply).</summary>
    public const string NoCatalogueEntry = "no-catalogue-entry";

    /// <summary>The catalogue names more than one possible unit, or a unit that cannot take tickets.</summary>
    public const string Ambiguous = "ambiguous-catalogue-entry";

    /// <summary>The urgency is excluded from auto-dispatch by configuration.</summary>
    public const string ExcludedUrgency = "excluded-urgency";

    public static IReadOnlyList<string> All { get; } = [NoCatalogueEntry, Ambiguous, ExcludedUrgency];

    public static string NameOf(string code) => code switch
    {
        NoCatalogueEntry => "派单目录无对应承办单位",
        Ambiguous => "派单目录承办单位不唯一",
        ExcludedUrgency => "该紧急程度不自动派单",
        _ => code,
    };
}
