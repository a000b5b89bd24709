using Xunit;
using Hotline.Domain.Tickets;
using static Hotline.Domain.Tests.Tickets.TicketSpec;

namespace Hotline.Domain.Tests.Tickets;

/// <summary>暂缓派单 (hold / release) and the auto-dispatch flag for a dispatcher: events on the ticket's stream, only while 待派单.</summary>
public sealed class DispatchHoldTests
{
    private static DispatchHeld Held(string reason = "等待来电人补充地址") => new(TicketId, reason, "disp1", T0.AddMinutes(5));

    [Fact]
    public void A_waiting_ticket_can_be_held_with_a_reason()
    {
        var given = Given(Registered());
        var e = Only<DispatchHeld>(When(given, new HoldDispatch("  等待来电人补充地址 ", "disp1")));
        Assert.Equal("等待来电人补充地址", e.Reason);
        Assert.Equal("disp1", e.By);
        var then = Then(given, [e]);
        Assert.Equal(TicketState.Registered, then.State);
        Assert.Equal(new DispatchHold("等待来电人补充地址", "disp1", T0.AddHours(1)), then.Hold);
        Assert.Contains(TicketActions.ReleaseHold, TicketDecider.AllowedActions(then));
        Assert.DoesNotContain(TicketActions.HoldDispatch, TicketDecider.AllowedActions(then));
    }

    [Fact]
    public void A_hold_needs_a_reason() => Invalid(Given(Registered()), new HoldDispatch(" ", "disp1"), "reason");

    [Fact]
    public void Holding_a_held_ticket_is_a_conflict_offering_release()
    {
        var e = Rejected(Given(Registered(), Held()), new HoldDispatch("再次暂缓", "disp1"));
        Assert.Equal("Registered", e.State);
        Assert.Contains(TicketActions.ReleaseHold, e.Allowed);
    }

    [Fact]
    public void Holding_a_dispatched_ticket_is_a_conflict()
    {
        var e = Rejected(Given(InProgress), new HoldDispatch("暂缓", "disp1"));
        Assert.Equal("InProgress", e.State);
        Assert.DoesNotContain(TicketActions.HoldDispatch, e.Allowed);
    }

    [Fact]
    public void Releasing_a_hold_ends_it_and_the_reason_is_optional()
    {
        var given = Given(Registered(), Held());
        var e = Only<DispatchHoldReleased>(When(given, new ReleaseDispatchHold(null, "disp2")));
        Assert.Null(e.Reason);
        var then = Then(given, [e]);
        Assert.Null(then.Hold);
        Assert.Contains(TicketActions.HoldDispatch, TicketDecider.AllowedActions(then));
    }

    [Fact]
    public void Releasing_without_a_hold_is_a_conflict() =>
        Assert.DoesNotContain(TicketActions.ReleaseHold, Rejected(Given(Registered()), new ReleaseDispatchHold("解除", "disp1")).Allowed);

    [Fact]
    public void A_dispatcher_may_still_dispatch_a_held_ticket_and_the_hold_ends_with_the_wait()
    {
        var given = Given(Registered(), Held());
        var then = Then(given, When(given, new DispatchTicket(MainTask, "gov-01", null, "disp1")));
        Assert.Equal(TicketState.Dispatched, then.State);
        Assert.Null(then.Hold);
    }

    [Fact]
    public void A_hold_does_not_survive_a_return_to_waiting()
    {
        var returned = Given(Registered(), Held(), Dispatched(), SignedFor(),
            new ReturnRequested(TicketId, MainTask, "gov-01", "非本单位职责", null, "handler3", T0.AddHours(2)),
            new ReturnApproved(TicketId, MainTask, "gov-01", null, T0.AddDays(2), false, "disp1", T0.AddHours(3)));
        Assert.Equal(TicketState.Registered, returned.State);
        Assert.Null(returned.Hold);
    }

    [Fact]
    public void Auto_dispatch_flags_a_waiting_ticket_once_per_reason()
    {
        var given = Given(Registered());
        var e = Only<DispatcherAttentionFlagged>(When(given, new FlagForDispatcher(DispatcherAttentionReasons.NoCatalogueEntry, null, "system")));
        Assert.Equal(DispatcherAttentionReasons.NoCatalogueEntry, e.ReasonCode);
        Assert.Equal(DispatcherAttentionReasons.NameOf(DispatcherAttentionReasons.NoCatalogueEntry), e.Detail);
        var then = Then(given, [e]);
        Assert.Equal(DispatcherAttentionReasons.NoCatalogueEntry, then.DispatcherFlag!.ReasonCode);

        // The same reason again decides nothing (the job re-runs); another reason is a new fact.
        Assert.Empty(When(then, new FlagForDispatcher(DispatcherAttentionReasons.NoCatalogueEntry, "再次", "system")));
        var other = Only<DispatcherAttentionFlagged>(When(then, new FlagForDispatcher(DispatcherAttentionReasons.Ambiguous, "目录单位已退回", "system")));
        Assert.Equal("目录单位已退回", other.Detail);
    }

    [Fact]
    public void A_flag_needs_a_known_reason_code() =>
        Invalid(Given(Registered()), new FlagForDispatcher("whatever", null, "system"), "reasonCode");

    [Fact]
    public void Flagging_a_dispatched_ticket_is_a_conflict() =>
        Assert.Equal("InProgress", Rejected(Given(InProgress), new FlagForDispatcher(DispatcherAttentionReasons.NoCatalogueEntry, null, "system")).State);

    [Fact]
    public void Flagging_is_not_an_action_the_api_offers() =>
        Assert.DoesNotContain(TicketActions.FlagForDispatcher, TicketDecider.AllowedActions(Given(Registered())));

    [Fact]
    public void The_flag_ends_with_the_wait_so_a_returned_ticket_can_be_flagged_again()
    {
        var flagged = new DispatcherAttentionFlagged(TicketId, DispatcherAttentionReasons.NoCatalogueEntry, "无目录", "system", T0.AddMinutes(1));
        var dispatched = Given(Registered(), flagged, Dispatched());
        Assert.Null(dispatched.DispatcherFlag);
        var returned = Then(dispatched, [SignedFor(),
            new ReturnRequested(TicketId, MainTask, "gov-01", "非本单位职责", null, "handler3", T0.AddHours(2)),
            new ReturnApproved(TicketId, MainTask, "gov-01", null, T0.AddDays(2), false, "disp1", T0.AddHours(3))]);
        Assert.Single(When(returned, new FlagForDispatcher(DispatcherAttentionReasons.NoCatalogueEntry, null, "system")));
    }
}
