using Hotline.Domain.Calendar;
using Xunit;
using static Hotline.Domain.Tests.Calendar.CalendarTestData;

namespace Hotline.Domain.Tests.Calendar;

public class DeadlineWarningsTests
{
    private readonly DeadlineWarnings _warnings = new(Official);

    [Theory]
    [InlineData("2025-10-22T23:59:59+08:00", WarningColour.Normal)]
    [InlineData("2025-10-23T00:00:00+08:00", WarningColour.Yellow)] // the last working day has begun
    [InlineData("2025-10-24T00:00:00+08:00", WarningColour.Yellow)] // exactly 24:00: still on time
    [InlineData("2025-10-24T00:00:01+08:00", WarningColour.Red)]
    public void One_working_day_before(string now, WarningColour expected)
    {
        var start = At("2025-09-26T10:00:00+08:00");
        var deadline = Official.AddWorkingDays(start, 15); // due 2025-10-24 00:00

        var status = _warnings.Evaluate(deadline, start, At(now), WarningRule.Default);

        Assert.Equal(expected, status.Colour);
        Assert.Equal(deadline.DueAt - At(now), status.Remaining);
        AssertInstant("2025-10-23T00:00:00+08:00", status.YellowFrom);
    }

    [Fact]
    public void Red_has_negative_remaining_time()
    {
        var start = At("2025-09-26T10:00:00+08:00");
        var deadline = Official.AddWorkingDays(start, 15);

        var status = _warnings.Evaluate(deadline, start, At("2025-10-24T10:00:00+08:00"), WarningRule.Default);

        Assert.Equal(WarningColour.Red, status.Colour);
        Assert.Equal(TimeSpan.FromHours(-10), status.Remaining);
    }

    [Fact]
    public void Two_working_days_before()
    {
        var start = At("2025-09-26T10:00:00+08:00");
        var deadline = Official.AddWorkingDays(start, 15); // last day Thu 10-23; 10-22 is the 2nd last

        var status = _warnings.Evaluate(deadline, start, At("2025-10-21T23:00:00+08:00"), WarningRule.DaysBefore(2));

        Assert.Equal(WarningColour.Normal, status.Colour);
        AssertInstant("2025-10-22T00:00:00+08:00", status.YellowFrom);
    }

    [Fact]
    public void The_weekend_before_a_monday_deadline_is_already_yellow()
    {
        var start = At("2025-03-07T15:00:00+08:00"); // Friday
        var deadline = Official.AddWorkingDays(start, 1); // Monday 03-10, due 03-11 00:00

        Assert.Equal(WarningColour.Normal, _warnings.Evaluate(deadline, start, At("2025-03-07T20:00:00+08:00"), WarningRule.Default).Colour);
        Assert.Equal(WarningColour.Yellow, _warnings.Evaluate(deadline, start, At("2025-03-08T09:00:00+08:00"), WarningRule.Default).Colour);
    }

    [Fact]
    public void A_holiday_before_the_last_working_day_is_yellow()
    {
        var start = At("2025-09-30T16:00:00+08:00");
        var deadline = Official.AddWorkingDays(start, 1); // 10-09, due 10-10 00:00

        var status = _warnings.Evaluate(deadline, start, At("2025-10-05T12:00:00+08:00"), WarningRule.Default);

        Assert.Equal(WarningColour.Yellow, status.Colour);
        AssertInstant("2025-10-01T00:00:00+08:00", status.YellowFrom);
    }

    [Fact]
    public void Hour_limits_fall_back_to_the_share_rule()
    {
        var start = At("2025-03-03T10:00:00+08:00");
        var deadline = Official.AddNaturalHours(start, 1);

        var before = _warnings.Evaluate(deadline, start, At("2025-03-03T10:47:59+08:00"), WarningRule.Default);
        var after = _warnings.Evaluate(deadline, start, At("2025-03-03T10:48:00+08:00"), WarningRule.Default);

        Assert.Equal(WarningColour.Normal, before.Colour);
        Assert.Equal(WarningColour.Yellow, after.Colour);
        AssertInstant("2025-03-03T10:48:00+08:00", after.YellowFrom);
    }

    [Fact]
    public void A_same_day_limit_falls_back_to_the_share_rule()
    {
        var start = At("2025-03-03T10:00:00+08:00");
        var deadline = Official.AddWorkingDays(start, 0); // 14 hours, due 03-04 00:00

        var status = _warnings.Evaluate(deadline, start, At("2025-03-03T21:00:00+08:00"), WarningRule.Default);

        Assert.Equal(WarningColour.Normal, status.Colour);
        AssertInstant("2025-03-03T21:12:00+08:00", status.YellowFrom); // 10:00 + 0.8 x 14 h
    }

    [Theory]
    [InlineData(0.8, "2025-03-05T12:00:00+08:00")] // 0.8 x 60 h = 48 h
    [InlineData(0.7, "2025-03-05T06:00:00+08:00")] // 0.7 x 60 h = 42 h
    public void Share_of_the_limit_elapsed(double share, string yellowFrom)
    {
        var start = At("2025-03-03T12:00:00+08:00");
        var deadline = Official.AddWorkingDays(start, 2); // due 03-06 00:00, 60 natural hours later
        var rule = WarningRule.Share(share);

        var justBefore = _warnings.Evaluate(deadline, start, At(yellowFrom).AddSeconds(-1), rule);
        var at = _warnings.Evaluate(deadline, start, At(yellowFrom), rule);

        Assert.Equal(WarningColour.Normal, justBefore.Colour);
        Assert.Equal(WarningColour.Yellow, at.Colour);
        AssertInstant(yellowFrom, at.YellowFrom);
        Assert.Equal(WarningColour.Red, _warnings.Evaluate(deadline, start, At("2025-03-06T00:00:01+08:00"), rule).Colour);
    }

    [Fact]
    public void Invalid_rules_are_rejected()
    {
        var start = At("2025-03-03T12:00:00+08:00");
        var deadline = Official.AddWorkingDays(start, 2);

        Assert.Throws<ArgumentOutOfRangeException>(() => _warnings.Evaluate(deadline, start, start, WarningRule.Share(1.5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => _warnings.Evaluate(deadline, start, start, WarningRule.DaysBefore(0)));
    }
}
