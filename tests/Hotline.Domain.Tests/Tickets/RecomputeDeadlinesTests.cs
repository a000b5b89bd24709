using Xunit;
using Hotline.Domain.Calendar;
using Hotline.Domain.Tests.Calendar;
using Hotline.Domain.Tickets;
using static Hotline.Domain.Tests.Tickets.TicketSpec;

namespace Hotline.Domain.Tests.Tickets;

/// <summary>
/// Provisional deadlines (a year without an imported notice counts Monday–Friday) computed again when the notice
/// arrives: <see cref="RecomputeDeadlines"/> → <see cref="DeadlinesRecomputed"/> with old and new per deadline, only
/// when something changes. The policy here is the real calendar and the default rules table.
/// </summary>
public sealed class RecomputeDeadlinesTests
{
    /// <summary>The deadline policy the server uses (CalendarDeadlines), on a chosen schedule.</summary>
    private sealed class CalendarPolicy(HolidaySchedule schedule) : IDeadlinePolicy
    {
        private readonly DeadlineCalculator _calculator = new(TimeLimitRules.Default, new WorkingCalendar(schedule));
        public Deadline Due(TimeLimitKind kind, string type, string urgency, DateTimeOffset start) => _calculator.Due(kind, type, urgency, start);
        public Deadline Extend(DateTimeOffset currentDue, int workingDays) => _calculator.Calendar.AddWorkingDays(currentDue.AddTicks(-1), workingDays);
    }

    private static readonly TicketContext Without2027 = Context with { Deadlines = new CalendarPolicy(HolidaySchedule.Official) };
    private static readonly TicketContext With2027 = Context with { Deadlines = new CalendarPolicy(HolidaySchedule.Official.WithYear(HolidayCnImporter.Parse(CalendarTestData.HolidayCn2027))) };

    private static readonly DateTimeOffset Monday = new(2027, 1, 25, 10, 0, 0, TimeSpan.FromHours(8));

    private static DateTimeOffset Local(int month, int day) => new(2027, month, day, 0, 0, 0, TimeSpan.FromHours(8));

    /// <summary>A 投诉 registered and dispatched on Monday 2027-01-25, decided on the calendar that lacks 2027.</summary>
    private static Ticket DispatchedBefore2027WasImported()
    {
        var registered = TicketDecider.Decide(Ticket.Initial, new RegisterTicket(TicketId, "20270125-000001", "电话", "投诉", "一般", "010201", "010101", "湖滨路 88 号",
            "小区门口占道经营", "王建华", "13912345678", false, null, "agent1"), Monday, Without2027);
        var state = Then(Ticket.Initial, registered);
        return Then(state, TicketDecider.Decide(state, new DispatchTicket(MainTask, "gov-01", null, "disp1"), Monday, Without2027));
    }

    [Fact]
    public void A_reply_deadline_across_the_2027_spring_festival_moves_when_2027_is_imported()
    {
        var given = DispatchedBefore2027WasImported();
        var task = given.MainTask!;
        // Monday–Friday fallback: 15 working days after Mon Jan 25 → Mon Feb 15, 24:00.
        Assert.Equal(Local(2, 16), task.ReplyDueAt);
        Assert.True(task.Provisional);
        Assert.True(task.ReplyDueProvisional);

        var e = Only<DeadlinesRecomputed>(When(given, new RecomputeDeadlines("2027 年节假日安排已导入", "system"), Monday.AddDays(3), With2027));
        var reply = Assert.Single(e.Changes, c => c.Kind == DeadlineKinds.Reply);
        Assert.Equal(new DeadlineChange(MainTask, DeadlineKinds.Reply, Local(2, 16), Local(2, 20), true, false), reply);
        // 春节 Feb 6–12 off, make-up Saturday Feb 13: Jan 26–29, Feb 1–5, Feb 13, Feb 15–19 → Fri Feb 19, 24:00.

        var then = Then(given, [e]);
        Assert.Equal(Local(2, 20), then.MainTask!.ReplyDueAt);
        Assert.False(then.MainTask.ReplyDueProvisional);
        Assert.False(then.MainTask.Provisional);
        Assert.Equal("2027 年节假日安排已导入", e.Reason);
    }

    [Fact]
    public void Recomputing_again_decides_nothing()
    {
        var given = DispatchedBefore2027WasImported();
        var once = Then(given, When(given, new RecomputeDeadlines(null, "system"), Monday.AddDays(3), With2027));
        Assert.Empty(When(once, new RecomputeDeadlines(null, "system"), Monday.AddDays(4), With2027));
    }

    [Fact]
    public void Before_the_year_is_imported_nothing_changes()
    {
        var given = DispatchedBefore2027WasImported();
        Assert.Empty(When(given, new RecomputeDeadlines(null, "system"), Monday.AddDays(1), Without2027));
    }

    [Fact]
    public void Deadlines_that_keep_their_date_record_that_they_are_no_longer_provisional()
    {
        var given = DispatchedBefore2027WasImported();
        var e = Only<DeadlinesRecomputed>(When(given, new RecomputeDeadlines(null, "system"), Monday.AddDays(1), With2027));
        // The return window (2 working days → Wed Jan 27) is the same on both calendars; only its flag changes.
        var window = Assert.Single(e.Changes, c => c.Kind == DeadlineKinds.ReturnWindow);
        Assert.Equal(window.OldDueAt, window.NewDueAt);
        Assert.False(window.NewProvisional);
    }

    [Fact]
    public void An_approved_extension_is_applied_again_on_the_recomputed_deadline()
    {
        var given = DispatchedBefore2027WasImported();
        given = Then(given, [new TaskSignedFor(TicketId, MainTask, "gov-01", "handler3", Monday.AddHours(1))]);
        given = Then(given, TicketDecider.Decide(given, new RequestExtension("gov-01", 3, "需现场核查", "handler3"), Monday.AddDays(1), Without2027));
        given = Then(given, TicketDecider.Decide(given, new DecideExtension(null, true, null, null, null, "disp1"), Monday.AddDays(1), Without2027));
        Assert.Equal(Local(2, 19), given.MainTask!.ReplyDueAt); // Feb 15 + 3 working days (Mon–Fri) → Thu Feb 18, 24:00

        var e = Only<DeadlinesRecomputed>(When(given, new RecomputeDeadlines(null, "system"), Monday.AddDays(3), With2027));
        var reply = Assert.Single(e.Changes, c => c.Kind == DeadlineKinds.Reply);
        Assert.Equal(Local(2, 25), reply.NewDueAt); // Feb 19 + 3 working days → Wed Feb 24, 24:00
    }

    [Fact]
    public void A_waiting_tickets_dispatch_deadline_is_recomputed()
    {
        // 一般 dispatch = 1 working day: registered Thu 2026-12-31 → Fri 2027-01-01 (Mon–Fri), which 元旦 2027 makes Mon Jan 4.
        var at = new DateTimeOffset(2026, 12, 31, 15, 0, 0, TimeSpan.FromHours(8));
        var given = Then(Ticket.Initial, TicketDecider.Decide(Ticket.Initial, new RegisterTicket(TicketId, "20261231-000001", "电话", "咨询", "一般", "010201", "010101", "",
            "咨询元旦办事时间", "李女士", "13812345678", false, null, "agent1"), at, Without2027));
        Assert.True(given.DispatchDueProvisional);
        Assert.Equal(Local(1, 2), given.DispatchDueAt);

        var e = Only<DeadlinesRecomputed>(When(given, new RecomputeDeadlines(null, "system"), at.AddHours(1), With2027));
        Assert.Equal(new DeadlineChange(null, DeadlineKinds.Dispatch, Local(1, 2), Local(1, 5), true, false), Assert.Single(e.Changes));
        var then = Then(given, [e]);
        Assert.Equal(Local(1, 5), then.DispatchDueAt);
        Assert.False(then.DispatchDueProvisional);
    }

    [Fact]
    public void A_closed_ticket_has_nothing_to_recompute() =>
        Assert.Empty(When(Given(ClosedAfterCallback), new RecomputeDeadlines(null, "system")));

    [Fact]
    public void Deadlines_that_were_never_provisional_are_left_alone() =>
        Assert.Empty(When(Given(InProgress), new RecomputeDeadlines(null, "system")));

    [Fact]
    public void Recomputing_is_not_an_action_the_api_offers() =>
        Assert.DoesNotContain(TicketActions.RecomputeDeadlines, TicketDecider.AllowedActions(Given(InProgress)));

    [Fact]
    public void A_capped_subtask_follows_its_parents_recomputed_deadline()
    {
        var given = DispatchedBefore2027WasImported();
        given = Then(given, [new TaskSignedFor(TicketId, MainTask, "gov-01", "handler3", Monday.AddHours(1))]);
        // Sub-dispatched two days later: its own 15 days would end after the parent's, so it gets the parent's deadline.
        given = Then(given, TicketDecider.Decide(given, new SubDispatchTask(SubTask, "gov-01", "town-0101", null, "handler3"), Monday.AddDays(2), Without2027));
        Assert.Equal(Local(2, 16), given.TaskOf(SubTask)!.ReplyDueAt);

        var e = Only<DeadlinesRecomputed>(When(given, new RecomputeDeadlines(null, "system"), Monday.AddDays(3), With2027));
        Assert.Equal(Local(2, 20), Assert.Single(e.Changes, c => c.TaskId == SubTask && c.Kind == DeadlineKinds.Reply).NewDueAt);
    }
}
