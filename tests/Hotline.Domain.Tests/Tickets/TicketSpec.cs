using Xunit;
using Hotline.Domain.Calendar;
using Hotline.Domain.Common;
using Hotline.Domain.Tickets;

namespace Hotline.Domain.Tests.Tickets;

/// <summary>Given events, when a command, then events (or a rejection). Deadlines are fixed offsets so the tests read plainly.</summary>
public static class TicketSpec
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 23, 9, 0, 0, TimeSpan.FromHours(8)); // a Monday
    public static readonly Guid TicketId = Guid.Parse("11111111-1111-1111-1111-111111111111");
    public static readonly Guid MainTask = Guid.Parse("22222222-2222-2222-2222-222222222222");
    public static readonly Guid SubTask = Guid.Parse("33333333-3333-3333-3333-333333333333");

    public static TicketContext Context { get; } = new(new FakeDeadlines(), new FakeReference());

    public static TicketContext With(TicketRules rules) => Context with { Rules = rules };

    public static Ticket Given(params ITicketEvent[] events) => Ticket.Fold(events);

    public static IReadOnlyList<ITicketEvent> When(Ticket state, TicketCommand command, DateTimeOffset? now = null, TicketContext? context = null) =>
        TicketDecider.Decide(state, command, now ?? T0.AddHours(1), context ?? Context);

    public static InvalidTransitionException Rejected(Ticket state, TicketCommand command, DateTimeOffset? now = null, TicketContext? context = null) =>
        Assert.Throws<InvalidTransitionException>(() => When(state, command, now, context));

    public static DomainValidationException Invalid(Ticket state, TicketCommand command, string field, DateTimeOffset? now = null, TicketContext? context = null)
    {
        var e = Assert.Throws<DomainValidationException>(() => When(state, command, now, context));
        Assert.Contains(field, e.Errors.Keys);
        return e;
    }

    public static T Only<T>(IReadOnlyList<ITicketEvent> events) => Assert.IsType<T>(Assert.Single(events));

    public static Ticket Then(Ticket state, IReadOnlyList<ITicketEvent> events) => events.Aggregate(state, Ticket.Evolve);

    // ---- the story so far -------------------------------------------------------------------------------------

    public static TicketRegistered Registered(string type = "投诉", bool confidential = false) =>
        new(TicketId, "20261123-000001", "电话", type, "一般", "010201", "010101", "湖滨路 88 号", "楼道垃圾无人清理", "王建华", "13912345678",
            confidential, "call-1", T0.AddDays(1), false, "agent1", T0);

    public static TicketDispatched Dispatched(Guid? taskId = null, string unit = "gov-01", string role = TaskRoles.Main, DateTimeOffset? at = null) =>
        new(TicketId, taskId ?? MainTask, unit, role, null, (at ?? T0).AddHours(2), (at ?? T0).AddDays(15), false, "disp1", at ?? T0, (at ?? T0).AddDays(2));

    public static TaskSignedFor SignedFor(Guid? taskId = null, string unit = "gov-01") => new(TicketId, taskId ?? MainTask, unit, "handler3", T0.AddMinutes(10));

    public static TaskSubDispatched SubDispatched(string unit = "town-0101") =>
        new(TicketId, SubTask, MainTask, unit, "gov-01", null, T0.AddHours(3), T0.AddDays(10), T0.AddDays(3), false, "handler3", T0.AddMinutes(20));

    public static ReplySubmitted Replied(Guid? taskId = null, string unit = "gov-01") => new(TicketId, taskId ?? MainTask, unit, "resolved", "已处理", "handler3", T0.AddDays(1));

    public static ITicketEvent[] InProgress => [Registered(), Dispatched(), SignedFor()];

    public static ITicketEvent[] AwaitingCallback =>
        [.. InProgress, Replied(), new ReplyAccepted(TicketId, MainTask, null, "disp1", T0.AddDays(2)), new CallbackScheduled(TicketId, "system", T0.AddDays(3))];

    public static ITicketEvent[] ClosedAfterCallback =>
        [.. AwaitingCallback, new CallbackRecorded(TicketId, "满意", null, "cb1", T0.AddDays(4)), new TicketClosed(TicketId, "回访满意", "cb1", T0.AddDays(4))];
}

/// <summary>Deadlines as plain offsets: dispatch +1 day, sign-for +2 h, return window +2 days, reply +10 days; an extension adds whole days.</summary>
public sealed class FakeDeadlines : IDeadlinePolicy
{
    public Deadline Due(TimeLimitKind kind, string type, string urgency, DateTimeOffset start) => kind switch
    {
        TimeLimitKind.Dispatch => new(start.AddDays(1), false, "test"),
        TimeLimitKind.SignFor => new(start.AddHours(2), false, "test"),
        TimeLimitKind.ReturnWindow => new(start.AddDays(2), false, "test"),
        _ => new(start.AddDays(10), false, "test"),
    };

    public Deadline Extend(DateTimeOffset currentDue, int workingDays) => new(currentDue.AddDays(workingDays), false, "test");
}

/// <summary>A tiny city: gov-01 (district) → town-0101, town-0102; city departments zjj, cgj; the office.</summary>
public sealed class FakeReference : ITicketReference
{
    private static readonly Dictionary<string, string?> Parents = new()
    {
        ["hotline"] = null, ["zjj"] = null, ["cgj"] = null, ["gov-01"] = null, ["town-0101"] = "gov-01", ["town-0102"] = "gov-01", ["gov-02"] = null,
    };

    public bool IsLeafCategory(string code) => code.Length == 6 && code.All(char.IsAsciiDigit);
    public bool IsArea(string code) => code.StartsWith("01", StringComparison.Ordinal) || code.StartsWith("02", StringComparison.Ordinal);
    public bool IsHandlingUnit(string unitId) => Parents.ContainsKey(unitId) && unitId != "hotline";

    public bool IsBelow(string unitId, string ancestorId)
    {
        for (var u = Parents.GetValueOrDefault(unitId); u is not null; u = Parents.GetValueOrDefault(u))
            if (u == ancestorId) return true;
        return false;
    }

    public string SuggestUnit(string categoryCode, string areaCode) => "gov-01";
    public string CatalogueVersion => "2026.1";
    public string CategoryVersion => "2026.1";
}
