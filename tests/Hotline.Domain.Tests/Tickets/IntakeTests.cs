using Xunit;
using Hotline.Domain.Tickets;
using static Hotline.Domain.Tests.Tickets.TicketSpec;

namespace Hotline.Domain.Tests.Tickets;

/// <summary>受理 and the ways a ticket ends at intake: 直接办结, 不予受理, 转警, 并单.</summary>
public sealed class RegisterTests
{
    private static RegisterTicket Command(string? phone = "13912345678", bool anonymous = false, bool confidential = false) =>
        new(TicketId, "20261123-000001", "电话", "投诉", "一般", "010201", "010101", "湖滨路 88 号", "楼道垃圾无人清理", "王建华", phone, confidential, "call-1", "agent1")
        {
            Anonymous = anonymous,
            CallIds = ["call-1", "call-2"],
            RepeatOf = [new RepeatOfTicket(Guid.NewGuid(), "20261120-000007", T0.AddDays(-3))],
            ContactsLast30Days = 4,
        };

    [Fact]
    public void Registration_records_every_element_and_the_dispatch_deadline()
    {
        var e = Only<TicketRegistered>(When(Ticket.Initial, Command(confidential: true), now: T0));
        Assert.Equal(T0.AddDays(1), e.DispatchDueAt);
        Assert.True(e.Confidential);
        Assert.Equal("2026.1", e.CategoryVersion);
        var t = Then(Ticket.Initial, [e]);
        Assert.Equal(TicketState.Registered, t.State);
        Assert.Equal(["call-1", "call-2"], t.CallIds);
        Assert.Single(t.RepeatOf);
        Assert.Equal(4, t.ContactsLast30Days);
    }

    [Fact]
    public void An_anonymous_caller_needs_no_phone_and_keeps_no_name()
    {
        var e = Only<TicketRegistered>(When(Ticket.Initial, Command(phone: null, anonymous: true)));
        Assert.True(e.Anonymous);
        Assert.Equal("", e.CallerName);
    }

    [Fact]
    public void Missing_mandatory_elements_are_field_errors()
    {
        var e = Assert.Throws<Hotline.Domain.Common.DomainValidationException>(() =>
            When(Ticket.Initial, new RegisterTicket(TicketId, "n", "传真", null, "一般", "99", "77", null, " ", null, "123", false, null, "agent1")));
        Assert.Superset(new HashSet<string> { "channel", "type", "categoryCode", "areaCode", "content", "callerPhone" }, e.Errors.Keys.ToHashSet());
    }

    [Fact]
    public void Registering_twice_is_a_conflict() => Rejected(Given(Registered()), Command());
}

public sealed class IntakeEndingTests
{
    [Fact]
    public void Answered_directly_citing_the_knowledge_item_closes_the_ticket()
    {
        var given = Given(Registered());
        var then = Then(given, When(given, new AnswerDirectly("按政策可办理", "kb-0042", "agent1")));
        Assert.Equal(TicketState.Closed, then.State);
        Assert.Equal("kb-0042", then.KnowledgeItemId);
        Assert.Equal(CloseKinds.AnsweredDirectly, then.CloseKind);
    }

    [Fact]
    public void Out_of_scope_records_the_reason_code_and_the_channel_told()
    {
        var given = Given(Registered());
        var e = Only<TicketOutOfScope>(When(given, new RejectOutOfScope("litigation", "请向人民法院起诉", null, "agent1")));
        var then = Then(given, [e]);
        Assert.Equal(TicketState.Closed, then.State);
        Assert.Equal("litigation", then.OutOfScopeReasonCode);
        Assert.Equal("请向人民法院起诉", then.ReferredTo);
    }

    [Fact]
    public void Out_of_scope_needs_a_known_code_and_the_channel() =>
        Invalid(Given(Registered()), new RejectOutOfScope("boring", null, null, "agent1"), "reasonCode");

    [Fact]
    public void Out_of_scope_after_dispatch_is_a_conflict() =>
        Assert.Equal("Dispatched", Rejected(Given(Registered(), Dispatched()), new RejectOutOfScope("other", "x", null, "agent1")).State);

    [Fact]
    public void Emergency_transfer_keeps_the_transfer_record()
    {
        var given = Given(Registered());
        var then = Then(given, When(given, new TransferToEmergency("119", "闻到燃气味，已三方转接 119", "call-1", T0.AddMinutes(2), "agent1")));
        Assert.Equal(TicketState.Closed, then.State);
        Assert.Equal("119", then.Emergency!.Line);
        Assert.Equal(CloseKinds.Emergency, then.CloseKind);
        Assert.Equal("转119", then.CloseReason);
    }

    [Fact]
    public void Emergency_transfer_only_to_the_emergency_lines() => Invalid(Given(Registered()), new TransferToEmergency("12345", "x", null, null, "agent1"), "line");

    [Fact]
    public void Merge_closes_the_duplicate_into_an_open_master()
    {
        var master = Guid.NewGuid();
        var given = Given(Registered());
        var then = Then(given, When(given, new MergeIntoMaster(master, "20261120-000007", true, "同一诉求", "disp1")));
        Assert.Equal(TicketState.Closed, then.State);
        Assert.Equal(master, then.MergedInto);
        Assert.Equal(CloseKinds.Merged, then.CloseKind);
        Assert.Empty(TicketDecider.AllowedActions(then)); // a merged ticket cannot be reopened
    }

    [Fact]
    public void Merge_into_itself_or_a_closed_master_is_refused()
    {
        Invalid(Given(Registered()), new MergeIntoMaster(TicketId, "x", true, null, "disp1"), "masterId");
        Invalid(Given(Registered()), new MergeIntoMaster(Guid.NewGuid(), "x", false, null, "disp1"), "masterId");
    }

    [Fact]
    public void Merge_after_dispatch_is_a_conflict() => Rejected(Given(InProgress), new MergeIntoMaster(Guid.NewGuid(), "x", true, null, "disp1"));

    [Fact]
    public void The_master_takes_the_duplicates_content_once()
    {
        var dup = Guid.NewGuid();
        var given = Given(InProgress);
        var e = Only<DuplicateAttached>(When(given, new AttachDuplicate(dup, "20261123-000009", "又来电反映", "disp1")));
        var then = Then(given, [e]);
        Assert.Equal("又来电反映", Assert.Single(then.Duplicates).Content);
        Assert.Equal(TicketState.InProgress, then.State);
        Rejected(then, new AttachDuplicate(dup, "20261123-000009", "又来电反映", "disp1"));
    }
}
