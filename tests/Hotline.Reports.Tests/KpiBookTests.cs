using Hotline.Reports.Facts;
using Hotline.Reports.Kpi;

namespace Hotline.Reports.Tests;

public class KpiBookTests
{
    private static readonly DateTimeOffset T0 = new(2025, 5, 12, 9, 0, 0, TimeSpan.FromHours(8));
    private static readonly DateTimeOffset Cutoff = T0.AddDays(7);

    private static TicketFact Ticket(string n, Action<Builder>? f = null)
    {
        var b = new Builder { T = new TicketFact { Number = n, RegisteredAt = T0, Channel = "电话", Type = TicketType.Complaint, CategoryCode = "010101", Category1 = "城乡建设", Category2 = "住房", Category3 = "房屋质量", District = "清江区", Summary = "x", CallerPhoneHash = "h" + n } };
        f?.Invoke(b);
        return b.T;
    }

    private sealed class Builder
    {
        public required TicketFact T { get; set; }
    }

    [Fact]
    public void Call_kpis_match_hand_computed_values_and_exclude_short_abandons()
    {
        CallFact[] calls =
        [
            new(T0, true, 10, 100, 30, false),
            new(T0, true, 18, 200, 60, false),
            new(T0, true, 40, 300, 90, false),
            new(T0, false, 60, 0, 0, true),
            new(T0, false, 2, 0, 0, true), // short abandon: not offered
        ];
        var i = KpiInput.ForCalls(calls);

        Assert.Equal(4, KpiBook.CallsOffered.Of(i).Value);
        Assert.Equal(0.75, KpiBook.AnswerRate.Of(i).Value);
        Assert.Equal(0.25, KpiBook.ServiceLevel15.Of(i).Value);
        Assert.Equal(0.5, KpiBook.ServiceLevel20.Of(i).Value);
        Assert.Equal(0.25, KpiBook.AbandonRate.Of(i).Value);
        Assert.Equal(68.0 / 3, KpiBook.AverageWait.Of(i).Value!.Value, 9);
        Assert.Equal(200, KpiBook.AverageTalk.Of(i).Value);
        Assert.Equal(60, KpiBook.AverageWrapUp.Of(i).Value);

        var noExclusion = i with { Options = new KpiOptions { ShortAbandonSeconds = 0 } };
        Assert.Equal(0.6, KpiBook.AnswerRate.Of(noExclusion).Value);
    }

    [Fact]
    public void Zero_denominators_give_no_value_not_zero_or_nan()
    {
        var empty = new KpiInput([], [], Cutoff, 7, KpiOptions.Default);
        foreach (var k in KpiBook.All.Where(k => k.Unit != KpiUnit.Count))
        {
            var v = k.Of(empty);
            Assert.True(v.Value is null, $"{k.Name} should have no value on empty input but was {v.Value}");
            Assert.Equal(0, v.Denominator);
        }

        Assert.Equal(0, KpiBook.TicketsTotal.Of(empty).Value);
    }

    [Fact]
    public void Ticket_kpis_match_hand_computed_values()
    {
        var d = T0.AddHours(1);
        TicketFact[] tickets =
        [
            Ticket("1", b => b.T = b.T with { AnsweredOnTheSpot = true, Type = TicketType.Consultation, ClosedAt = T0, Satisfaction = Satisfaction.Satisfied }),
            // Dispatched, signed on time, replied on time, called back satisfied, closed.
            Ticket("2", b => b.T = b.T with { MainUnitId = "U", DispatchedAt = d, SignForDeadline = d.AddHours(2), SignedForAt = d.AddHours(1), ReplyDeadline = d.AddDays(3), RepliedAt = d.AddDays(1), CalledBackAt = d.AddDays(2), Satisfaction = Satisfaction.BasicallySatisfied, ClosedAt = d.AddDays(2) }),
            // Signed late, replied late, returned once, extended once, re-handled, unsatisfied, overdue.
            Ticket("3", b => b.T = b.T with { MainUnitId = "U", DispatchedAt = d, SignForDeadline = d.AddHours(2), SignedForAt = d.AddHours(5), ReplyDeadline = d.AddDays(1), RepliedAt = d.AddDays(2), ReturnCount = 1, ExtensionCount = 1, ReHandlingCount = 1, CalledBackAt = d.AddDays(3), Satisfaction = Satisfaction.Unsatisfied, IsOverdue = true }),
            // Not yet signed, sign-for deadline after the cut-off; reply not due: excluded from the on-time rates.
            Ticket("4", b => b.T = b.T with { MainUnitId = "U", DispatchedAt = Cutoff.AddHours(-1), SignForDeadline = Cutoff.AddHours(1), ReplyDeadline = Cutoff.AddDays(5) }),
            // Anonymous, replied, never called back: excluded from the callback rate.
            Ticket("5", b => b.T = b.T with { CallerPhoneHash = null, MainUnitId = "U", DispatchedAt = d, SignForDeadline = d.AddHours(2), SignedForAt = d.AddHours(1), ReplyDeadline = d.AddDays(3), RepliedAt = d.AddDays(1) }),
        ];
        var i = KpiInput.ForTickets(tickets, Cutoff);

        Assert.Equal(5, KpiBook.TicketsTotal.Of(i).Value);
        Assert.Equal(0.2, KpiBook.OnTheSpotRate.Of(i).Value);
        Assert.Equal(4, KpiBook.Dispatched.Of(i).Value);
        Assert.Equal(new KpiValue(2.0 / 3, 2, 3), KpiBook.OnTimeSignFor.Of(i));      // 2,3,5 due; 3 late
        Assert.Equal(new KpiValue(0.25, 1, 4), KpiBook.ReturnRate.Of(i));
        Assert.Equal(new KpiValue(0.25, 1, 4), KpiBook.CompletionRate.Of(i));       // only 2 closed
        Assert.Equal(new KpiValue(2.0 / 3, 2, 3), KpiBook.OnTimeCompletion.Of(i));   // 2,3,5 due; 3 late
        Assert.Equal(1, KpiBook.Extensions.Of(i).Value);
        Assert.Equal(1, KpiBook.Overdue.Of(i).Value);
        Assert.Equal(new KpiValue(1, 2, 2), KpiBook.CallbackRate.Of(i));             // 2,3 replied with phone; 5 anonymous
        Assert.Equal(new KpiValue(2.0 / 3, 2, 3), KpiBook.SatisfactionRate.Of(i));   // 1,2 satisfied; 3 not
        Assert.Equal(new KpiValue(1.0 / 3, 1, 3), KpiBook.ReHandlingRate.Of(i));     // replied: 2,3,5
    }

    [Fact]
    public void Unit_score_uses_configurable_weights_and_ranks_within_peer_group()
    {
        var d = T0.AddHours(1);
        TicketFact Good(string n, string unit) => Ticket(n, b => b.T = b.T with { MainUnitId = unit, DispatchedAt = d, SignForDeadline = d.AddHours(2), SignedForAt = d.AddHours(1), ReplyDeadline = d.AddDays(3), RepliedAt = d.AddDays(1), Satisfaction = Satisfaction.Satisfied, ClosedAt = d.AddDays(2) });
        TicketFact Bad(string n, string unit) => Ticket(n, b => b.T = b.T with { MainUnitId = unit, DispatchedAt = d, SignForDeadline = d.AddHours(2), SignedForAt = d.AddHours(9), ReplyDeadline = d.AddDays(1), RepliedAt = d.AddDays(2), Satisfaction = Satisfaction.Unsatisfied });
        UnitFact[] units = [new("A", "甲区", PeerGroup.District), new("B", "乙区", PeerGroup.District), new("C", "丙局", PeerGroup.CityDepartment), new("S", "小单位", PeerGroup.District)];
        var tickets = new List<TicketFact>();
        for (var k = 0; k < 5; k++)
        {
            tickets.Add(Good("a" + k, "A"));
            tickets.Add(Bad("b" + k, "B"));
            tickets.Add(Good("c" + k, "C"));
        }

        tickets.Add(Good("s", "S"));
        var options = new UnitScoreOptions { Weights = new Dictionary<string, double> { [KpiBook.SatisfactionRate.Id] = 1 }, ListSize = 1 };

        var ranking = UnitScores.Rank(tickets, units, Cutoff, 7, options);
        var a = ranking.Units.Single(u => u.Unit.Id == "A");
        var b = ranking.Units.Single(u => u.Unit.Id == "B");
        var c = ranking.Units.Single(u => u.Unit.Id == "C");
        var s = ranking.Units.Single(u => u.Unit.Id == "S");

        Assert.Equal(100, a.Score);
        Assert.Equal(0, b.Score);
        Assert.Equal((1, 2), (a.Rank!.Value, a.RankedInGroup));
        Assert.Equal(2, b.Rank);
        Assert.Equal(1, c.Rank); // alone in its own peer group
        Assert.Null(s.Rank);     // below MinTicketsToRank
        Assert.Equal(["A"], ranking.RedList.Select(u => u.Unit.Id));
        Assert.Equal(["B"], ranking.BlackList.Select(u => u.Unit.Id));

        // Lower-is-better KPIs enter as (1 − rate): B returned nothing, so a return-rate-only score is 100.
        var byReturns = UnitScores.Rank(tickets, units, Cutoff, 7, options with { Weights = new Dictionary<string, double> { [KpiBook.ReturnRate.Id] = 1 } });
        Assert.Equal(100, byReturns.Units.Single(u => u.Unit.Id == "B").Score);
    }

    [Fact]
    public void Dispatch_timeliness_and_average_dispatch_time_match_hand_computed_values()
    {
        TicketFact D(string n, double deadlineH, double? sentH) => Ticket(n, b => b.T = b.T with
        {
            MainUnitId = "U", DispatchDeadline = T0.AddHours(deadlineH), DispatchedAt = sentH is { } h ? T0.AddHours(h) : null,
        });
        TicketFact[] tickets =
        [
            D("1", 2, 1),            // on time, 1 h
            D("2", 2, 3),            // late, 3 h
            D("3", 1, null),         // not sent, deadline passed → due and late
            D("4", 24 * 30, null),   // not sent, deadline after the cut-off → excluded
            D("5", 24, 2),           // on time, 2 h
            Ticket("6", b => b.T = b.T with { AnsweredOnTheSpot = true, KnowledgeItemId = "kb1" }), // on the spot → excluded
            Ticket("7", b => b.T = b.T with { AnsweredOnTheSpot = true }),
            Ticket("8", b => b.T = b.T with { MainUnitId = "U", DispatchedAt = T0.AddHours(4) }),   // no deadline → excluded from 及时率
        ];
        var i = KpiInput.ForTickets(tickets, Cutoff);

        Assert.Equal(new KpiValue(2.0 / 4, 2, 4), KpiBook.DispatchOnTime.Of(i));       // due: 1,2,3,5; on time: 1,5
        Assert.Equal(new KpiValue(10.0 / 4, 10, 4), KpiBook.AverageDispatchHours.Of(i)); // sent: 1+3+2+4 h over 4
        Assert.Equal(new KpiValue(0.5, 1, 2), KpiBook.KnowledgeUse.Of(i));              // 6 cited kb1, 7 did not
    }

    [Fact]
    public void Three_rates_resolution_falls_back_to_rating_only_when_not_asked()
    {
        TicketFact R(string n, Satisfaction? s, bool? resolved) => Ticket(n, b => b.T = b.T with { Satisfaction = s, Resolved = resolved });
        TicketFact[] tickets =
        [
            R("1", Satisfaction.Satisfied, true),
            R("2", Satisfaction.BasicallySatisfied, false),   // rated well, but says not solved → not resolved
            R("3", Satisfaction.Unsatisfied, null),           // not asked, unsatisfied → not resolved
            R("4", Satisfaction.BasicallySatisfied, null),    // not asked, rated well → resolved
            R("5", null, null),                               // no valid callback → excluded
        ];
        var i = KpiInput.ForTickets(tickets, Cutoff);

        Assert.Equal(new KpiValue(2.0 / 4, 2, 4), KpiBook.ResolutionRate.Of(i));
        Assert.Equal(new KpiValue(3.0 / 4, 3, 4), KpiBook.SatisfactionRate.Of(i));
        Assert.Equal(["tickets.onTimeSignFor", "tickets.resolution", "tickets.satisfaction"], KpiBook.ThreeRates.Select(k => k.Id));
    }

    [Fact]
    public void Resolution_rate_uses_the_reply_result_confirmed_by_the_callback()
    {
        TicketFact R(string n, ReplyResult? reply, Satisfaction? s, bool? resolved = null) =>
            Ticket(n, b => b.T = b.T with { ReplyResult = reply, Satisfaction = s, Resolved = resolved, RepliedAt = reply is null ? null : T0.AddDays(1) });
        TicketFact[] tickets =
        [
            R("1", ReplyResult.Resolved, Satisfaction.Satisfied),             // unit: resolved, citizen satisfied → resolved
            R("2", ReplyResult.Resolved, Satisfaction.BasicallySatisfied),    // resolved, basically satisfied → resolved
            R("3", ReplyResult.Resolved, Satisfaction.Unsatisfied),           // unit says resolved, citizen unsatisfied → not
            R("4", ReplyResult.Explained, Satisfaction.Satisfied),            // explained (not solved), even if satisfied → not
            R("5", ReplyResult.Unresolved, Satisfaction.BasicallySatisfied),  // unresolved → not
            R("6", ReplyResult.Explained, Satisfaction.Satisfied, true),      // the citizen was asked and said solved → resolved
            R("7", ReplyResult.Resolved, Satisfaction.Satisfied, false),      // asked and said not solved → not
            R("8", null, Satisfaction.Satisfied),                             // on-the-spot answer, no reply result: rating → resolved
            R("9", ReplyResult.Resolved, null),                               // no valid callback → excluded
        ];
        var i = KpiInput.ForTickets(tickets, Cutoff);

        // numerator: 1, 2, 6, 8 = 4; denominator: 1–8 = 8
        Assert.Equal(new KpiValue(4.0 / 8, 4, 8), KpiBook.ResolutionRate.Of(i));
        Assert.Equal(new KpiValue(7.0 / 8, 7, 8), KpiBook.SatisfactionRate.Of(i));
        Assert.Contains("已解决", KpiBook.ResolutionRate.Numerator, StringComparison.Ordinal);
    }

    [Fact]
    public void Knowledge_updates_count_distinct_items_per_owner_unit()
    {
        KnowledgeUpdateFact[] kb =
        [
            new("k1", "A", T0, true), new("k1", "A", T0.AddDays(1), false), // same item twice → once
            new("k2", "A", T0, false), new("k3", "B", T0, true),
        ];
        var all = KpiInput.ForTickets([], Cutoff) with { Knowledge = kb };
        Assert.Equal(3, KpiBook.KnowledgeUpdates.Of(all).Value);

        UnitFact[] units = [new("A", "甲局", PeerGroup.CityDepartment), new("B", "乙局", PeerGroup.CityDepartment)];
        var ranking = UnitScores.Rank([], units, Cutoff, 7, knowledge: kb);
        Assert.Equal(2, ranking.Units.Single(u => u.Unit.Id == "A")[KpiBook.KnowledgeUpdates].Value);
        Assert.Equal(1, ranking.Units.Single(u => u.Unit.Id == "B")[KpiBook.KnowledgeUpdates].Value);
    }

    [Fact]
    public void Unit_score_weights_are_validated_and_counts_cannot_be_weighted()
    {
        Assert.Throws<ArgumentException>(() => new UnitScoreOptions { Weights = new Dictionary<string, double> { ["no.such"] = 1 } }.Validate());
        Assert.Throws<ArgumentException>(() => new UnitScoreOptions { Weights = new Dictionary<string, double> { [KpiBook.KnowledgeUpdates.Id] = 1 } }.Validate());
        Assert.Throws<ArgumentException>(() => new UnitScoreOptions { Weights = new Dictionary<string, double> { [KpiBook.SatisfactionRate.Id] = -1 } }.Validate());
        UnitScoreOptions.Default.Validate();
    }

    [Fact]
    public void Every_kpi_has_its_definition_written_down()
    {
        Assert.Equal(KpiBook.All.Count, KpiBook.All.Select(k => k.Id).Distinct().Count());
        Assert.All(KpiBook.All, k =>
        {
            Assert.False(string.IsNullOrWhiteSpace(k.Name));
            Assert.False(string.IsNullOrWhiteSpace(k.Numerator));
            Assert.False(string.IsNullOrWhiteSpace(k.Denominator));
            Assert.False(string.IsNullOrWhiteSpace(k.Exclusions));
        });
    }
}
