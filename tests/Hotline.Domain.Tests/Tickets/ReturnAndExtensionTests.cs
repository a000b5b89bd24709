using Xunit;
using Hotline.Domain.Tickets;
using static Hotline.Domain.Tests.Tickets.TicketSpec;

namespace Hotline.Domain.Tests.Tickets;

public sealed class ReturnTests
{
    private static ReturnRequested Asked(Guid? task = null, string unit = "gov-01") => new(TicketId, task ?? MainTask, unit, "不属于本单位职责", "《物业管理条例》第五条", "handler3", T0.AddHours(1));

    [Fact]
    public void A_unit_asks_to_return_its_task_within_the_window()
    {
        var given = Given(Registered(), Dispatched());
        var e = Only<ReturnRequested>(When(given, new RequestReturn("gov-01", "不属于本单位职责", "《物业管理条例》", "handler3")));
        Assert.Equal(MainTask, e.TaskId);
        Assert.Equal("《物业管理条例》", e.LegalBasis);
        var then = Then(given, [e]);
        Assert.NotNull(then.MainTask!.PendingReturn);
        Assert.Equal(TicketState.Dispatched, then.State);
        Assert.Contains(TicketActions.DecideReturn, TicketDecider.AllowedActions(then));
    }

    [Fact]
    public void A_return_after_the_window_is_refused() =>
        Assert.Contains("退回时限", Rejected(Given(InProgress), new RequestReturn("gov-01", "不属于本单位", null, "handler3"), now: T0.AddDays(3)).Message, StringComparison.Ordinal);

    [Fact]
    public void A_return_needs_a_reason() => Invalid(Given(InProgress), new RequestReturn("gov-01", "", null, "handler3"), "reason");

    [Fact]
    public void A_unit_without_an_open_task_cannot_ask() => Rejected(Given(InProgress), new RequestReturn("zjj", "x", null, "handler1"));

    [Fact]
    public void A_second_request_while_one_is_pending_is_a_conflict() => Rejected(Given([.. InProgress, Asked()]), new RequestReturn("gov-01", "x", null, "handler3"));

    [Fact]
    public void Approving_the_main_task_return_sends_the_ticket_back_for_re_dispatch()
    {
        var given = Given([.. InProgress, Asked()]);
        var e = Only<ReturnApproved>(When(given, new DecideReturn(null, true, "同意退回", null, "disp1"), now: T0.AddHours(2)));
        Assert.Equal(T0.AddHours(2).AddDays(1), e.DispatchDueAt);
        var then = Then(given, [e]);
        Assert.Equal(TicketState.Registered, then.State);
        Assert.Equal(TaskState.Returned, then.MainTask!.State);
        Assert.Equal(T0.AddHours(2).AddDays(1), then.DispatchDueAt);
        Assert.Contains(TicketActions.Dispatch, TicketDecider.AllowedActions(then));
    }

    [Fact]
    public void Re_dispatch_after_an_approved_return_makes_a_new_main_task()
    {
        var given = Given([.. InProgress, Asked(), new ReturnApproved(TicketId, MainTask, "gov-01", null, T0.AddDays(1), false, "disp1", T0.AddHours(2))]);
        var next = Guid.NewGuid();
        var then = Then(given, When(given, new DispatchTicket(next, "zjj", null, "disp1") { OverrideReason = "属住建职责" }, now: T0.AddHours(3)));
        Assert.Equal(TicketState.Dispatched, then.State);
        Assert.Equal(next, then.MainTask!.TaskId);
        Assert.Equal("zjj", then.MainTask.UnitId);
        Assert.Equal(2, then.Tasks.Count);
    }

    [Fact]
    public void Rejecting_keeps_the_task_with_the_unit_and_its_timers()
    {
        var given = Given([.. InProgress, Asked()]);
        var e = Only<ReturnRejected>(When(given, new DecideReturn(null, false, "属于你单位职责", null, "disp1")));
        var then = Then(given, [e]);
        Assert.Equal(TicketState.InProgress, then.State);
        Assert.Null(then.MainTask!.PendingReturn);
        Assert.Equal(given.MainTask!.ReplyDueAt, then.MainTask.ReplyDueAt);
    }

    [Fact]
    public void Rejecting_needs_a_comment() => Invalid(Given([.. InProgress, Asked()]), new DecideReturn(null, false, null, null, "disp1"), "comment");

    [Fact]
    public void Deciding_without_a_pending_request_is_a_conflict() => Rejected(Given(InProgress), new DecideReturn(null, true, null, null, "disp1"));

    [Fact]
    public void A_subtask_returns_up_one_level_to_the_unit_that_sub_dispatched_it()
    {
        var given = Given([.. InProgress, SubDispatched(), Asked(SubTask, "town-0101")]);
        // the office does not decide a subtask's return; the parent unit does
        Rejected(given, new DecideReturn(null, true, null, null, "disp1"));
        var e = Only<ReturnApproved>(When(given, new DecideReturn(null, true, "收回", "gov-01", "handler3")));
        Assert.Null(e.DispatchDueAt);
        var then = Then(given, [e]);
        Assert.Equal(TaskState.Returned, then.TaskOf(SubTask)!.State);
        Assert.Equal(TaskState.InProgress, then.MainTask!.State);
        Assert.Equal(TicketState.InProgress, then.State);
    }

    [Fact]
    public void A_returned_main_task_takes_its_open_subtasks_with_it()
    {
        var given = Given([.. InProgress, SubDispatched(), Asked()]);
        var then = Then(given, When(given, new DecideReturn(MainTask, true, null, null, "disp1")));
        Assert.Equal(TaskState.Returned, then.TaskOf(SubTask)!.State);
    }
}

public sealed class ExtensionTests
{
    private static ExtensionRequested Asked(int days = 5) => new(TicketId, MainTask, "gov-01", days, "需现场勘查", "handler3", T0.AddDays(1));

    [Fact]
    public void A_unit_asks_for_an_extension_before_the_deadline()
    {
        var given = Given(InProgress);
        var e = Only<ExtensionRequested>(When(given, new RequestExtension("gov-01", 5, "需现场勘查", "handler3")));
        Assert.Equal(5, e.Days);
        Assert.Equal(5, Then(given, [e]).MainTask!.PendingExtension!.Days);
    }

    [Fact]
    public void An_extension_after_the_deadline_is_refused() =>
        Assert.Contains("办理时限", Rejected(Given(InProgress), new RequestExtension("gov-01", 5, "x", "handler3"), now: T0.AddDays(16)).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(null)]
    public void Days_must_be_within_the_configured_range(int? days) => Invalid(Given(InProgress), new RequestExtension("gov-01", days, "x", "handler3"), "days");

    [Fact]
    public void An_extension_before_sign_for_is_a_conflict() => Rejected(Given(Registered(), Dispatched()), new RequestExtension("gov-01", 3, "x", "handler3"));

    [Fact]
    public void Approval_moves_the_reply_deadline()
    {
        var given = Given([.. InProgress, Asked()]);
        var e = Only<ExtensionApproved>(When(given, new DecideExtension(null, true, null, "同意", null, "disp1")));
        Assert.Equal(given.MainTask!.ReplyDueAt.AddDays(5), e.ReplyDueAt);
        var then = Then(given, [e]);
        Assert.Equal(e.ReplyDueAt, then.MainTask!.ReplyDueAt);
        Assert.Equal(1, then.MainTask.ExtensionCount);
        Assert.Null(then.MainTask.PendingExtension);
    }

    [Fact]
    public void The_office_may_grant_fewer_days_than_asked_but_not_more()
    {
        var given = Given([.. InProgress, Asked(5)]);
        Assert.Equal(3, Only<ExtensionApproved>(When(given, new DecideExtension(null, true, 3, null, null, "disp1"))).Days);
        Invalid(given, new DecideExtension(null, true, 6, null, null, "disp1"), "days");
    }

    [Fact]
    public void Rejection_keeps_the_deadline()
    {
        var given = Given([.. InProgress, Asked()]);
        var then = Then(given, [Only<ExtensionRejected>(When(given, new DecideExtension(null, false, null, "理由不充分", null, "disp1")))]);
        Assert.Equal(given.MainTask!.ReplyDueAt, then.MainTask!.ReplyDueAt);
        Assert.Null(then.MainTask.PendingExtension);
    }

    [Fact]
    public void Rejection_needs_a_comment() => Invalid(Given([.. InProgress, Asked()]), new DecideExtension(null, false, null, "", null, "disp1"), "comment");

    [Fact]
    public void At_most_the_configured_number_of_extensions()
    {
        var approved = new ExtensionApproved(TicketId, MainTask, "gov-01", 1, T0.AddDays(16), false, null, "disp1", T0.AddDays(1));
        var given = Given([.. InProgress, Asked(1), approved, Asked(1), approved with { ReplyDueAt = T0.AddDays(17) }]);
        Assert.Contains("最多延期", Rejected(given, new RequestExtension("gov-01", 1, "x", "handler3")).Message, StringComparison.Ordinal);
    }
}
