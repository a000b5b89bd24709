using Xunit;
using Hotline.Domain.Tickets;
using static Hotline.Domain.Tests.Tickets.TicketSpec;

namespace Hotline.Domain.Tests.Tickets;

/// <summary>催办 and 督办: layers on top of any open state; they never change the state.</summary>
public sealed class UrgeTests
{
    [Fact]
    public void Urging_an_open_task_names_the_unit_and_keeps_the_state()
    {
        var given = Given(InProgress);
        var e = Only<TicketUrged>(When(given, new UrgeTicket(null, "即将超期，请尽快办理", Automatic: true, "system")));
        Assert.Equal(MainTask, e.TaskId);
        Assert.Equal("gov-01", e.UnitId);
        Assert.True(e.Automatic);
        Assert.Equal("system", e.By);
        var then = Then(given, [e]);
        Assert.Equal(TicketState.InProgress, then.State);
        Assert.Equal(1, then.UrgeCount);
        Assert.Equal(1, then.MainTask!.UrgeCount);
    }

    [Fact]
    public void Urging_while_waiting_for_dispatch_targets_no_unit()
    {
        var e = Only<TicketUrged>(When(Given(Registered()), new UrgeTicket(null, "派单超时", false, "super1")));
        Assert.Null(e.TaskId);
        Assert.Null(e.UnitId);
        Assert.False(e.Automatic);
    }

    [Fact]
    public void Urging_a_named_co_handler_task_targets_that_unit()
    {
        var co = Guid.NewGuid();
        var given = Given([.. InProgress, Dispatched(co, "cgj", TaskRoles.CoHandler)]);
        var e = Only<TicketUrged>(When(given, new UrgeTicket(co, "协办未签收", false, "disp1")));
        Assert.Equal("cgj", e.UnitId);
    }

    [Fact]
    public void Urging_needs_a_reason() => Invalid(Given(InProgress), new UrgeTicket(null, " ", false, "disp1"), "reason");

    [Fact]
    public void Urging_a_finished_task_is_refused() =>
        Invalid(Given([.. InProgress, Replied()]), new UrgeTicket(MainTask, "催", false, "disp1"), "taskId");

    [Fact]
    public void Urging_a_closed_ticket_is_a_conflict_naming_the_state()
    {
        var e = Rejected(Given(ClosedAfterCallback), new UrgeTicket(null, "催", false, "disp1"));
        Assert.Equal("Closed", e.State);
        Assert.DoesNotContain(TicketActions.Urge, e.Allowed);
    }

    [Fact]
    public void Urge_is_offered_in_every_open_state()
    {
        Assert.Contains(TicketActions.Urge, TicketDecider.AllowedActions(Given(Registered())));
        Assert.Contains(TicketActions.Urge, TicketDecider.AllowedActions(Given(Registered(), Dispatched())));
        Assert.Contains(TicketActions.Urge, TicketDecider.AllowedActions(Given(InProgress)));
        Assert.Contains(TicketActions.Urge, TicketDecider.AllowedActions(Given(AwaitingCallback)));
    }
}

public sealed class SuperviseTests
{
    [Fact]
    public void Supervision_starts_at_a_level_on_the_main_task_without_changing_the_state()
    {
        var given = Given(InProgress);
        var e = Only<SupervisionStarted>(When(given, new SuperviseTicket(null, SupervisionLevels.Yellow, "超期未办", Automatic: true, "system")));
        Assert.Equal(SupervisionLevels.Yellow, e.Level);
        Assert.Equal("gov-01", e.UnitId);
        Assert.True(e.Automatic);
        var then = Then(given, [e]);
        Assert.Equal(TicketState.InProgress, then.State);
        Assert.Equal(SupervisionLevels.Yellow, then.Supervision!.Level);
    }

    [Fact]
    public void A_supervised_ticket_is_raised_to_a_higher_level()
    {
        var given = Given([.. InProgress, new SupervisionStarted(TicketId, MainTask, "gov-01", SupervisionLevels.Ordinary, "超期", true, "system", T0.AddDays(1))]);
        var e = Only<SupervisionRaised>(When(given, new SuperviseTicket(null, SupervisionLevels.Red, "严重超期", false, "super1")));
        Assert.Equal(SupervisionLevels.Ordinary, e.FromLevel);
        Assert.Equal(SupervisionLevels.Red, e.ToLevel);
        var then = Then(given, [e]);
        Assert.Equal(SupervisionLevels.Red, then.Supervision!.Level);
        Assert.Equal(T0.AddDays(1), then.Supervision.Since);
        Assert.Equal(TicketState.InProgress, then.State);
    }

    [Theory]
    [InlineData(SupervisionLevels.Yellow)]
    [InlineData(SupervisionLevels.Ordinary)]
    public void The_same_or_a_lower_level_again_is_a_conflict(string level)
    {
        var given = Given([.. InProgress, new SupervisionStarted(TicketId, MainTask, "gov-01", SupervisionLevels.Yellow, "超期", true, "system", T0.AddDays(1))]);
        var e = Rejected(given, new SuperviseTicket(null, level, "再次督办", true, "system"));
        Assert.Contains("黄牌督办", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_level_is_a_field_error() => Invalid(Given(InProgress), new SuperviseTicket(null, "purple", "x", false, "super1"), "level");

    [Fact]
    public void Supervising_a_closed_ticket_is_a_conflict() =>
        Assert.Equal("Closed", Rejected(Given(ClosedAfterCallback), new SuperviseTicket(null, SupervisionLevels.Red, "x", false, "super1")).State);
}

/// <summary>Callback attempts: unreachable N times closes the ticket as 无法联系.</summary>
public sealed class CallbackAttemptTests
{
    [Fact]
    public void A_failed_attempt_is_counted_and_the_callback_stays_open()
    {
        var given = Given(AwaitingCallback);
        var e = Only<CallbackAttemptFailed>(When(given, new RecordCallbackAttemptFailed("无人接听", "cb1")));
        Assert.Equal(1, e.Attempt);
        var then = Then(given, [e]);
        Assert.Equal(TicketState.AwaitingCallback, then.State);
        Assert.Equal(1, then.CallbackAttempts);
    }

    [Fact]
    public void The_third_failed_attempt_closes_the_ticket_as_unreachable()
    {
        var given = Given([.. AwaitingCallback, new CallbackAttemptFailed(TicketId, 1, "无人接听", "cb1", T0.AddDays(3)), new CallbackAttemptFailed(TicketId, 2, "关机", "cb1", T0.AddDays(3))]);
        var events = When(given, new RecordCallbackAttemptFailed("空号", "cb1"));
        Assert.Equal(3, Assert.IsType<CallbackAttemptFailed>(events[0]).Attempt);
        Assert.Equal(3, Assert.IsType<CallbackUnreachable>(events[1]).Attempts);
        var then = Then(given, events);
        Assert.Equal(TicketState.Closed, then.State);
        Assert.Equal("无法联系", then.CloseReason);
        Assert.Equal(CloseKinds.Unreachable, then.CloseKind);
    }

    [Fact]
    public void The_number_of_attempts_is_configurable()
    {
        var events = When(Given(AwaitingCallback), new RecordCallbackAttemptFailed("无人接听", "cb1"), context: With(new TicketRules { CallbackMaxAttempts = 1 }));
        Assert.IsType<CallbackUnreachable>(events[1]);
    }

    [Fact]
    public void A_failed_attempt_needs_a_reason() => Invalid(Given(AwaitingCallback), new RecordCallbackAttemptFailed("", "cb1"), "reason");

    [Fact]
    public void A_failed_attempt_before_the_callback_is_a_conflict()
    {
        var e = Rejected(Given(InProgress), new RecordCallbackAttemptFailed("无人接听", "cb1"));
        Assert.Equal("InProgress", e.State);
    }

    [Fact]
    public void A_new_callback_round_starts_counting_again()
    {
        var state = Given([.. AwaitingCallback, new CallbackAttemptFailed(TicketId, 1, "无人接听", "cb1", T0.AddDays(3)), new CallbackScheduled(TicketId, "system", T0.AddDays(5))]);
        Assert.Equal(0, state.CallbackAttempts);
    }
}
