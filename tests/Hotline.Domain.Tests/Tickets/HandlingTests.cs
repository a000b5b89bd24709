using Xunit;
using Hotline.Domain.Tickets;
using static Hotline.Domain.Tests.Tickets.TicketSpec;

namespace Hotline.Domain.Tests.Tickets;

public sealed class DispatchTests
{
    [Fact]
    public void Dispatch_to_the_suggested_unit_with_co_handlers_gives_each_its_own_task_and_timers()
    {
        var given = Given(Registered());
        var events = When(given, new DispatchTicket(MainTask, "gov-01", null, "disp1") { CoUnitIds = ["cgj", "zjj"] }, now: T0.AddHours(1));
        Assert.Equal(3, events.Count);
        var main = Assert.IsType<TicketDispatched>(events[0]);
        Assert.Equal(TaskRoles.Main, main.Role);
        Assert.Equal(T0.AddHours(3), main.SignDueAt);
        Assert.Equal(T0.AddHours(1).AddDays(2), main.ReturnDueAt);
        Assert.Equal("2026.1", main.CatalogueVersion);
        Assert.Null(main.OverrideReason);
        Assert.All(events.Skip(1).Cast<TicketDispatched>(), co => Assert.Equal(TaskRoles.CoHandler, co.Role));
        Assert.Equal(3, events.Cast<TicketDispatched>().Select(x => x.TaskId).Distinct().Count());
        var then = Then(given, events);
        Assert.Equal(TicketState.Dispatched, then.State);
        Assert.Equal(MainTask, then.MainTask!.TaskId);
    }

    [Fact]
    public void Overriding_the_catalogue_needs_a_reason_and_records_it()
    {
        Invalid(Given(Registered()), new DispatchTicket(MainTask, "zjj", null, "disp1"), "overrideReason");
        var e = Only<TicketDispatched>(When(Given(Registered()), new DispatchTicket(MainTask, "zjj", null, "disp1") { OverrideReason = "属住建职责" }));
        Assert.Equal("gov-01", e.SuggestedUnitId);
        Assert.Equal("属住建职责", e.OverrideReason);
    }

    [Fact]
    public void Unknown_or_repeated_units_are_field_errors()
    {
        Invalid(Given(Registered()), new DispatchTicket(MainTask, "nowhere", null, "disp1"), "unitId");
        Invalid(Given(Registered()), new DispatchTicket(MainTask, "gov-01", null, "disp1") { CoUnitIds = ["gov-01"] }, "coUnitIds[0]");
    }

    [Fact]
    public void Dispatching_twice_is_a_conflict_naming_the_allowed_actions()
    {
        var e = Rejected(Given(Registered(), Dispatched()), new DispatchTicket(MainTask, "gov-01", null, "disp1"));
        Assert.Equal("Dispatched", e.State);
        Assert.Contains(TicketActions.SignFor, e.Allowed);
    }

    [Fact]
    public void A_co_handler_signs_and_replies_without_moving_the_ticket()
    {
        var co = Guid.NewGuid();
        var given = Given([.. InProgress, Dispatched(co, "cgj", TaskRoles.CoHandler)]);
        var signed = Then(given, When(given, new SignForTask("cgj", "handler2")));
        Assert.Equal(TaskState.InProgress, signed.TaskOf(co)!.State);
        var replied = Then(signed, When(signed, new SubmitReply("cgj", "explained", "协办意见", "handler2")));
        Assert.Equal(TaskState.Replied, replied.TaskOf(co)!.State);
        Assert.Equal(TicketState.InProgress, replied.State);
    }
}

public sealed class SubDispatchTests
{
    [Fact]
    public void A_unit_sub_dispatches_below_itself_with_timers_no_longer_than_its_own()
    {
        var given = Given(InProgress);
        var e = Only<TaskSubDispatched>(When(given, new SubDispatchTask(SubTask, "gov-01", "town-0101", "请核实", "handler3"), now: T0.AddDays(6)));
        Assert.Equal(MainTask, e.ParentTaskId);
        Assert.Equal(given.MainTask!.ReplyDueAt, e.ReplyDueAt); // +10 days would pass the parent's deadline
        var then = Then(given, [e]);
        var sub = then.TaskOf(SubTask)!;
        Assert.Equal(1, sub.Level);
        Assert.Equal(TaskRoles.Sub, sub.Role);
        Assert.Equal(MainTask, then.MainTask!.TaskId); // the main task stays the main task
    }

    [Fact]
    public void Only_below_the_own_unit() => Invalid(Given(InProgress), new SubDispatchTask(SubTask, "gov-01", "cgj", null, "handler3"), "unitId");

    [Fact]
    public void Not_before_sign_for() => Rejected(Given(Registered(), Dispatched()), new SubDispatchTask(SubTask, "gov-01", "town-0101", null, "handler3"));

    [Fact]
    public void The_subtask_signs_and_replies_up_to_its_parent_without_moving_the_ticket()
    {
        var given = Given([.. InProgress, SubDispatched()]);
        var signed = Then(given, When(given, new SignForTask("town-0101", "town1")));
        var then = Then(signed, When(signed, new SubmitReply("town-0101", "resolved", "已清理", "town1")));
        Assert.Equal(TaskState.Replied, then.TaskOf(SubTask)!.State);
        Assert.Equal(TicketState.InProgress, then.State);
    }
}

public sealed class WorkOnTaskTests
{
    [Fact]
    public void Sign_for_moves_the_ticket_to_in_progress()
    {
        var given = Given(Registered(), Dispatched());
        var then = Then(given, When(given, new SignForTask("gov-01", "handler3")));
        Assert.Equal(TicketState.InProgress, then.State);
    }

    [Fact]
    public void Sign_for_by_another_unit_is_a_conflict() => Rejected(Given(Registered(), Dispatched()), new SignForTask("zjj", "handler1"));

    [Fact]
    public void Progress_notes_by_the_unit_or_the_office()
    {
        var given = Given(InProgress);
        Assert.Equal(MainTask, Only<ProgressNoted>(When(given, new AddProgressNote("gov-01", "已联系物业", "handler3"))).TaskId);
        Assert.Null(Only<ProgressNoted>(When(given, new AddProgressNote(null, "来电人补充材料", "agent1"))).TaskId);
        Invalid(given, new AddProgressNote("gov-01", "", "handler3"), "text");
        Rejected(given, new AddProgressNote("zjj", "x", "handler1"));
    }

    [Fact]
    public void First_contact_is_recorded_once()
    {
        var given = Given(InProgress);
        var e = Only<CitizenContacted>(When(given, new RecordFirstContact("gov-01", T0.AddMinutes(30), "handler3")));
        var then = Then(given, [e]);
        Assert.Equal(T0.AddMinutes(30), then.MainTask!.FirstContactAt);
        Rejected(then, new RecordFirstContact("gov-01", null, "handler3"));
        Invalid(given, new RecordFirstContact("gov-01", T0.AddDays(-1), "handler3"), "contactedAt");
    }

    [Fact]
    public void A_reply_carries_a_result_code_and_unresolved_needs_a_reason()
    {
        var given = Given(InProgress);
        var then = Then(given, When(given, new SubmitReply("gov-01", "resolved", "已处理", "handler3")));
        Assert.Equal(TicketState.Replied, then.State);
        Invalid(given, new SubmitReply("gov-01", "unresolved", "无法处理", "handler3"), "unresolvedReason");
        Invalid(given, new SubmitReply("gov-01", "done", "x", "handler3"), "result");
        Assert.Equal("权属不清", Only<ReplySubmitted>(When(given, new SubmitReply("gov-01", "unresolved", "无法处理", "handler3") { UnresolvedReason = "权属不清" })).UnresolvedReason);
    }

    [Fact]
    public void Reply_before_sign_for_is_a_conflict() => Rejected(Given(Registered(), Dispatched()), new SubmitReply("gov-01", "resolved", "x", "handler3"));
}

public sealed class ReviewCallbackCloseTests
{
    private static ITicketEvent[] RepliedStory => [.. InProgress, Replied()];

    [Fact]
    public void Review_accepts()
    {
        var given = Given(RepliedStory);
        var then = Then(given, When(given, new ReviewReply(true, null, "disp1")));
        Assert.Equal(TicketState.ReplyAccepted, then.State);
        Assert.Equal(TaskState.Done, then.MainTask!.State);
    }

    [Fact]
    public void Review_rework_counts_and_sets_a_new_deadline()
    {
        var given = Given(RepliedStory);
        var e = Only<ReworkOrdered>(When(given, new ReviewReply(false, "未说明整改期限", "disp1"), now: T0.AddDays(2)));
        Assert.Equal(T0.AddDays(12), e.ReplyDueAt);
        var then = Then(given, [e]);
        Assert.Equal(TicketState.InProgress, then.State);
        Assert.Equal(1, then.ReworkCount);
        Assert.Equal(T0.AddDays(12), then.MainTask!.ReplyDueAt);
        Invalid(given, new ReviewReply(false, null, "disp1"), "comment");
    }

    [Fact]
    public void Review_before_a_reply_is_a_conflict() => Rejected(Given(InProgress), new ReviewReply(true, null, "disp1"));

    [Fact]
    public void Callback_satisfied_closes()
    {
        var given = Given(AwaitingCallback);
        var then = Then(given, When(given, new RecordCallback("基本满意", null, "cb1")));
        Assert.Equal(TicketState.Closed, then.State);
        Assert.Equal("回访基本满意", then.CloseReason);
    }

    [Fact]
    public void Callback_unsatisfied_needs_a_reason_and_orders_rework_and_the_latest_evaluation_counts()
    {
        var given = Given(AwaitingCallback);
        Invalid(given, new RecordCallback("不满意", null, "cb1"), "comment");
        var then = Then(given, When(given, new RecordCallback("不满意", "没有解决", "cb1")));
        Assert.Equal(TicketState.InProgress, then.State);
        Assert.Equal(1, then.ReworkCount);
        var again = Then(then, [Replied(), new ReplyAccepted(TicketId, MainTask, null, "disp1", T0.AddDays(6)), new CallbackScheduled(TicketId, "system", T0.AddDays(7))]);
        var closed = Then(again, When(again, new RecordCallback("满意", null, "cb1")));
        Assert.Equal("满意", closed.Callback!.Satisfaction);
        Assert.Equal(2, closed.Callbacks.Count);
    }

    [Fact]
    public void The_satisfaction_scale_is_configurable()
    {
        var rules = new TicketRules { Satisfactions = ["非常满意", "满意", "一般", "不满意", "非常不满意"], Unsatisfied = ["不满意", "非常不满意"] };
        var given = Given(AwaitingCallback);
        Invalid(given, new RecordCallback("基本满意", null, "cb1"), "satisfaction", context: With(rules));
        Assert.Equal(TicketState.InProgress, Then(given, When(given, new RecordCallback("非常不满意", "x", "cb1"), context: With(rules))).State);
        Assert.Equal(TicketState.Closed, Then(given, When(given, new RecordCallback("不满意", "x", "cb1"), context: With(rules with { ReworkOnUnsatisfied = false }))).State);
    }

    [Fact]
    public void Callback_before_the_callback_is_scheduled_is_a_conflict() => Rejected(Given(RepliedStory), new RecordCallback("满意", null, "cb1"));

    [Fact]
    public void Close_needs_a_reason_and_an_accepted_reply()
    {
        var accepted = Given([.. RepliedStory, new ReplyAccepted(TicketId, MainTask, null, "disp1", T0.AddDays(2))]);
        Assert.Equal(TicketState.Closed, Then(accepted, When(accepted, new CloseTicket("不需回访", "disp1"))).State);
        Invalid(accepted, new CloseTicket(" ", "disp1"), "reason");
        Rejected(Given(InProgress), new CloseTicket("x", "disp1"));
    }

    [Fact]
    public void A_reviewer_reopens_a_closed_ticket_back_to_its_main_unit()
    {
        var given = Given(ClosedAfterCallback);
        var e = Only<TicketReopened>(When(given, new ReopenTicket("市民再次反映", "disp1"), now: T0.AddDays(5)));
        var then = Then(given, [e]);
        Assert.Equal(TicketState.InProgress, then.State);
        Assert.Equal(TaskState.InProgress, then.MainTask!.State);
        Assert.Equal(T0.AddDays(15), then.MainTask.ReplyDueAt);
        Assert.Equal(1, then.ReopenCount);
        Invalid(given, new ReopenTicket("", "disp1"), "reason");
    }

    [Fact]
    public void Reopen_of_an_open_ticket_is_a_conflict() => Rejected(Given(InProgress), new ReopenTicket("x", "disp1"));
}
