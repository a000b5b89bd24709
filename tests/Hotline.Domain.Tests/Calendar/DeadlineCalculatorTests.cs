using Hotline.Domain.Calendar;
using Xunit;
using static Hotline.Domain.Tests.Calendar.CalendarTestData;

namespace Hotline.Domain.Tests.Calendar;

public class DeadlineCalculatorTests
{
    private readonly DeadlineCalculator _calculator = new(TimeLimitRules.Default, Official);

    [Fact]
    public void Default_rules_cover_every_type_urgency_and_kind()
    {
        Assert.Empty(TimeLimitRules.Default.Validate());
    }

    [Theory]
    [InlineData(TicketTypes.Consultation, 2)]
    [InlineData(TicketTypes.Help, 10)]
    [InlineData(TicketTypes.Suggestion, 10)]
    [InlineData(TicketTypes.Complaint, 15)]
    [InlineData(TicketTypes.Report, 15)]
    [InlineData(TicketTypes.Praise, 10)]
    [InlineData(TicketTypes.Other, 10)]
    public void Normal_reply_limits_per_type(string type, int days)
    {
        Assert.Equal(new TimeLimit(days, TimeUnit.WorkingDays), _calculator.Limit(TimeLimitKind.Reply, type, Urgencies.Normal));
    }

    [Theory]
    [InlineData(TicketTypes.Consultation)]
    [InlineData(TicketTypes.Complaint)]
    [InlineData(TicketTypes.Other)]
    public void Urgency_overrides_the_type_for_the_reply(string type)
    {
        Assert.Equal(new TimeLimit(0, TimeUnit.WorkingDays), _calculator.Limit(TimeLimitKind.Reply, type, Urgencies.Urgent));
        Assert.Equal(new TimeLimit(24, TimeUnit.NaturalHours), _calculator.Limit(TimeLimitKind.Reply, type, Urgencies.VeryUrgent));
    }

    [Fact]
    public void Complaint_reply_started_before_national_day_2025()
    {
        var deadline = _calculator.Due(
            TimeLimitKind.Reply, TicketTypes.Complaint, Urgencies.Normal, At("2025-09-26T10:00:00+08:00"));

        AssertInstant("2025-10-24T00:00:00+08:00", deadline.DueAt);
        Assert.StartsWith("Reply 投诉/一般 = 15 working day(s)", deadline.Basis, StringComparison.Ordinal);
    }

    [Fact]
    public void Urgent_reply_is_due_at_24_00_of_the_registering_day_even_on_a_holiday()
    {
        var deadline = _calculator.Due(
            TimeLimitKind.Reply, TicketTypes.Help, Urgencies.Urgent, At("2025-10-03T15:00:00+08:00"));

        AssertInstant("2025-10-04T00:00:00+08:00", deadline.DueAt);
    }

    [Fact]
    public void Urgent_reply_uses_the_shanghai_day_of_the_registration()
    {
        // 17:00 UTC on 10-03 is 01:00 on 10-04 in Shanghai.
        var deadline = _calculator.Due(
            TimeLimitKind.Reply, TicketTypes.Help, Urgencies.Urgent, At("2025-10-03T17:00:00Z"));

        AssertInstant("2025-10-05T00:00:00+08:00", deadline.DueAt);
    }

    [Fact]
    public void Very_urgent_reply_is_24_natural_hours()
    {
        var deadline = _calculator.Due(
            TimeLimitKind.Reply, TicketTypes.Complaint, Urgencies.VeryUrgent, At("2025-10-01T10:30:00+08:00"));

        AssertInstant("2025-10-02T10:30:00+08:00", deadline.DueAt);
    }

    [Theory]
    [InlineData(Urgencies.VeryUrgent, "2025-09-26T19:00:00+08:00")]
    [InlineData(Urgencies.Urgent, "2025-09-26T20:00:00+08:00")]
    [InlineData(Urgencies.Normal, "2025-09-29T00:00:00+08:00")] // Friday start; Sunday 09-28 is a make-up working day
    public void Dispatch_limits_by_urgency(string urgency, string expected)
    {
        var deadline = _calculator.Due(TimeLimitKind.Dispatch, TicketTypes.Complaint, urgency, At("2025-09-26T18:00:00+08:00"));

        AssertInstant(expected, deadline.DueAt);
    }

    [Fact]
    public void Sign_for_is_two_natural_hours_across_midnight()
    {
        var deadline = _calculator.Due(
            TimeLimitKind.SignFor, TicketTypes.Consultation, Urgencies.Normal, At("2025-10-01T23:00:00+08:00"));

        AssertInstant("2025-10-02T01:00:00+08:00", deadline.DueAt);
    }

    [Fact]
    public void Return_window_is_two_working_days()
    {
        var deadline = _calculator.Due(
            TimeLimitKind.ReturnWindow, TicketTypes.Help, Urgencies.Normal, At("2025-09-30T16:00:00+08:00"));

        AssertInstant("2025-10-11T00:00:00+08:00", deadline.DueAt);
    }

    [Fact]
    public void A_city_override_changes_only_what_it_names()
    {
        var options = new TimeLimitOptions
        {
            Cities =
            {
                ["suzhou"] = [TimeLimitRule.For(TimeLimitKind.Reply, TicketTypes.Consultation, TimeLimitRule.Any, 3, TimeUnit.WorkingDays)],
            },
        };

        var suzhou = new DeadlineCalculator(options.ForCity("Suzhou"), Official);
        var other = new DeadlineCalculator(options.ForCity("wuxi"), Official);

        Assert.Equal(new TimeLimit(3, TimeUnit.WorkingDays), suzhou.Limit(TimeLimitKind.Reply, TicketTypes.Consultation, Urgencies.Normal));
        Assert.Equal(new TimeLimit(0, TimeUnit.WorkingDays), suzhou.Limit(TimeLimitKind.Reply, TicketTypes.Consultation, Urgencies.Urgent));
        Assert.Equal(new TimeLimit(15, TimeUnit.WorkingDays), suzhou.Limit(TimeLimitKind.Reply, TicketTypes.Complaint, Urgencies.Normal));
        Assert.Equal(new TimeLimit(2, TimeUnit.WorkingDays), other.Limit(TimeLimitKind.Reply, TicketTypes.Consultation, Urgencies.Normal));
    }

    [Fact]
    public void An_exact_row_beats_the_urgency_wildcard()
    {
        var rules = TimeLimitRules.Default.With(
            [TimeLimitRule.For(TimeLimitKind.Reply, TicketTypes.Complaint, Urgencies.Urgent, 1, TimeUnit.WorkingDays)]);

        Assert.Equal(new TimeLimit(1, TimeUnit.WorkingDays), rules.Find(TimeLimitKind.Reply, TicketTypes.Complaint, Urgencies.Urgent));
        Assert.Equal(new TimeLimit(0, TimeUnit.WorkingDays), rules.Find(TimeLimitKind.Reply, TicketTypes.Report, Urgencies.Urgent));
    }

    [Fact]
    public void Invalid_rules_are_refused_with_the_reason()
    {
        var typo = TimeLimitRules.Default.With(
            [TimeLimitRule.For(TimeLimitKind.Reply, "咨洵", TimeLimitRule.Any, 3, TimeUnit.WorkingDays)]);
        var zeroHours = TimeLimitRules.Default.With(
            [TimeLimitRule.For(TimeLimitKind.SignFor, TimeLimitRule.Any, TimeLimitRule.Any, 0, TimeUnit.NaturalHours)]);
        var incomplete = new TimeLimitRules
        {
            Rules = [.. TimeLimitRules.Default.Rules.Where(r => r.Kind != TimeLimitKind.SignFor)],
        };

        var e = Assert.Throws<ArgumentException>(() => new DeadlineCalculator(typo, Official));
        Assert.Contains("unknown ticket type '咨洵'", e.Message, StringComparison.Ordinal);
        Assert.Contains(zeroHours.Validate(), p => p.Contains("Amount", StringComparison.Ordinal));
        Assert.Equal(TicketTypes.All.Count * Urgencies.All.Count, incomplete.Validate().Count);
    }

    [Fact]
    public void Unknown_type_or_urgency_is_an_argument_error()
    {
        var start = At("2025-03-03T10:00:00+08:00");

        Assert.Throws<ArgumentException>(() => _calculator.Due(TimeLimitKind.Reply, "投拆", Urgencies.Normal, start));
        Assert.Throws<ArgumentException>(() => _calculator.Due(TimeLimitKind.Reply, TicketTypes.Complaint, "急", start));
    }
}
