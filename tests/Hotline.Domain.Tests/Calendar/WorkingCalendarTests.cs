using Hotline.Domain.Calendar;
using Xunit;
using static Hotline.Domain.Tests.Calendar.CalendarTestData;

namespace Hotline.Domain.Tests.Calendar;

public class WorkingCalendarTests
{
    [Theory]
    [InlineData("2025-09-28", true)] // Sunday, make-up working day before 国庆
    [InlineData("2025-09-30", true)] // Tuesday
    [InlineData("2025-10-01", false)] // Wednesday, 国庆
    [InlineData("2025-10-08", false)] // Wednesday, 国庆
    [InlineData("2025-10-09", true)]
    [InlineData("2025-10-11", true)] // Saturday, make-up working day
    [InlineData("2025-10-12", false)] // Sunday
    [InlineData("2025-05-31", false)] // Saturday, 端午
    [InlineData("2025-06-02", false)] // Monday, 端午
    [InlineData("2025-06-03", true)]
    [InlineData("2026-01-02", false)] // Friday, 元旦
    [InlineData("2026-01-04", true)] // Sunday, make-up working day
    [InlineData("2026-02-14", true)] // Saturday, make-up working day before 春节
    [InlineData("2026-02-16", false)] // Monday, 春节
    [InlineData("2026-02-23", false)] // Monday, 春节
    [InlineData("2026-02-24", true)]
    [InlineData("2026-02-28", true)] // Saturday, make-up working day after 春节
    [InlineData("2026-03-01", false)] // Sunday
    [InlineData("2027-01-01", true)] // Friday in a year without a notice: Mon–Fri fallback
    [InlineData("2027-01-02", false)] // Saturday, fallback
    public void Working_days_follow_the_notice(string date, bool working)
    {
        Assert.Equal(working, Official.IsWorkingDay(Day(date)));
    }

    [Fact]
    public void Fifteen_working_days_before_national_day_2025_skip_the_holiday_and_count_both_make_up_days()
    {
        // 09-26 Fri start (not counted); 09-28 Sun (1), 09-29 (2), 09-30 (3); 10-01..10-08 off;
        // 10-09 (4), 10-10 (5), 10-11 Sat (6), 10-13..10-17 (7..11), 10-20..10-23 (12..15).
        var deadline = Official.AddWorkingDays(At("2025-09-26T10:00:00+08:00"), 15);

        AssertInstant("2025-10-24T00:00:00+08:00", deadline.DueAt);
        Assert.False(deadline.Provisional);
        Assert.Contains("last day 2025-10-23", deadline.Basis, StringComparison.Ordinal);
    }

    [Fact]
    public void Make_up_sunday_counts_right_after_the_start()
    {
        // 09-26 Fri start; 09-27 Sat no; 09-28 Sun make-up (1); 09-29 Mon (2).
        var deadline = Official.AddWorkingDays(At("2025-09-26T10:00:00+08:00"), 2);

        AssertInstant("2025-09-30T00:00:00+08:00", deadline.DueAt);
    }

    [Theory]
    [InlineData(2, "2025-10-11T00:00:00+08:00")] // 10-09, 10-10
    [InlineData(3, "2025-10-12T00:00:00+08:00")] // + 10-11 Saturday make-up
    [InlineData(4, "2025-10-14T00:00:00+08:00")] // + 10-13 Monday
    public void Starting_on_the_eve_of_national_day(int days, string expected)
    {
        var deadline = Official.AddWorkingDays(At("2025-09-30T16:00:00+08:00"), days);

        AssertInstant(expected, deadline.DueAt);
    }

    [Theory]
    [InlineData(1, "2026-02-15T00:00:00+08:00")] // 02-14 Saturday make-up
    [InlineData(2, "2026-02-25T00:00:00+08:00")] // 02-15..02-23 off, 02-24
    [InlineData(10, "2026-03-06T00:00:00+08:00")] // 02-24..02-27, 02-28 Sat make-up, 03-02..03-05
    public void Spring_festival_2026(int days, string expected)
    {
        var deadline = Official.AddWorkingDays(At("2026-02-13T09:00:00+08:00"), days);

        AssertInstant(expected, deadline.DueAt);
        Assert.False(deadline.Provisional);
    }

    [Theory]
    [InlineData("2025-03-03T00:00:00+08:00")]
    [InlineData("2025-03-03T12:00:00+08:00")]
    [InlineData("2025-03-03T23:59:59+08:00")]
    public void The_start_day_is_not_counted_whatever_the_time(string start)
    {
        // Monday 03-03 start: 03-04 is day 1, 03-05 day 2.
        AssertInstant("2025-03-05T00:00:00+08:00", Official.AddWorkingDays(At(start), 1).DueAt);
        AssertInstant("2025-03-06T00:00:00+08:00", Official.AddWorkingDays(At(start), 2).DueAt);
    }

    [Theory]
    [InlineData("2025-03-07T15:00:00+08:00")] // Friday
    [InlineData("2025-03-08T10:00:00+08:00")] // Saturday
    [InlineData("2025-03-09T22:00:00+08:00")] // Sunday
    public void Friday_and_weekend_starts_end_on_monday(string start)
    {
        AssertInstant("2025-03-11T00:00:00+08:00", Official.AddWorkingDays(At(start), 1).DueAt);
    }

    [Fact]
    public void The_start_day_is_the_shanghai_date_not_the_utc_date()
    {
        // 2025-10-10T16:30Z is 2025-10-11 00:30 in Shanghai: the start day is the make-up Saturday (not counted),
        // so day 1 is Monday 10-13. Counting from the UTC date (10-10) would wrongly give 10-11.
        var deadline = Official.AddWorkingDays(At("2025-10-10T16:30:00Z"), 1);

        AssertInstant("2025-10-14T00:00:00+08:00", deadline.DueAt);
    }

    [Theory]
    [InlineData(1, "2026-01-05T00:00:00+08:00")] // 01-01..01-03 off, 01-04 Sunday make-up
    [InlineData(2, "2026-01-06T00:00:00+08:00")] // + 01-05 Monday
    public void Year_boundary_2025_to_2026(int days, string expected)
    {
        var deadline = Official.AddWorkingDays(At("2025-12-31T10:00:00+08:00"), days);

        AssertInstant(expected, deadline.DueAt);
        Assert.False(deadline.Provisional);
    }

    [Fact]
    public void Zero_working_days_means_24_00_of_the_start_day()
    {
        var deadline = Official.AddWorkingDays(At("2025-10-03T15:00:00+08:00"), 0);

        AssertInstant("2025-10-04T00:00:00+08:00", deadline.DueAt);
        Assert.False(deadline.Provisional);
    }

    [Fact]
    public void A_missing_year_falls_back_to_monday_to_friday_and_is_provisional_until_imported()
    {
        var start = At("2026-12-31T10:00:00+08:00"); // Thursday

        // Without 2027: 2027-01-01 Friday (1), 01-04 Monday (2).
        var provisional = Official.AddWorkingDays(start, 2);
        AssertInstant("2027-01-05T00:00:00+08:00", provisional.DueAt);
        Assert.True(provisional.Provisional);
        Assert.Contains("2027", provisional.Basis, StringComparison.Ordinal);
        Assert.Contains("PROVISIONAL", provisional.Basis, StringComparison.Ordinal);

        // With the 2027 notice: 01-01..01-03 off, so 01-04 (1), 01-05 (2).
        var calendar = new WorkingCalendar(HolidaySchedule.Official.WithYear(HolidayCnImporter.Parse(HolidayCn2027)));
        var final = calendar.AddWorkingDays(start, 2);
        AssertInstant("2027-01-06T00:00:00+08:00", final.DueAt);
        Assert.False(final.Provisional);
        Assert.DoesNotContain("PROVISIONAL", final.Basis, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_days_actually_examined_make_a_deadline_provisional()
    {
        // Wednesday 12-30 + 1 = Thursday 12-31: ends at 2027-01-01 00:00, but no 2027 day was looked at.
        var deadline = Official.AddWorkingDays(At("2026-12-30T10:00:00+08:00"), 1);

        AssertInstant("2027-01-01T00:00:00+08:00", deadline.DueAt);
        Assert.False(deadline.Provisional);
    }

    [Fact]
    public void Working_days_between_excludes_from_and_includes_to()
    {
        Assert.Equal(15, Official.WorkingDaysBetween(Day("2025-09-26"), Day("2025-10-23")));
        Assert.Equal(-15, Official.WorkingDaysBetween(Day("2025-10-23"), Day("2025-09-26")));
        Assert.Equal(0, Official.WorkingDaysBetween(Day("2025-10-01"), Day("2025-10-08")));
        Assert.Equal(0, Official.WorkingDaysBetween(Day("2025-10-09"), Day("2025-10-09")));
        Assert.Equal(2, Official.WorkingDaysBetween(Day("2025-12-31"), Day("2026-01-05")));
    }

    [Fact]
    public void Working_days_between_reports_provisional_ranges()
    {
        Assert.False(Official.IsProvisional(Day("2026-12-30"), Day("2026-12-31")));
        Assert.True(Official.IsProvisional(Day("2026-12-31"), Day("2027-01-01")));
        Assert.True(Official.IsProvisional(Day("2027-01-01"), Day("2026-12-31")));
        Assert.False(Official.IsProvisional(Day("2026-12-31"), Day("2026-12-31")));
    }

    [Fact]
    public void Natural_hours_ignore_holidays_and_nights()
    {
        var deadline = Official.AddNaturalHours(At("2025-10-01T10:00:00+08:00"), 24);

        AssertInstant("2025-10-02T10:00:00+08:00", deadline.DueAt);
        Assert.False(deadline.Provisional);
    }

    [Fact]
    public void Natural_hours_are_returned_on_the_shanghai_clock()
    {
        var deadline = Official.AddNaturalHours(At("2025-10-01T02:00:00Z"), 2);

        AssertInstant("2025-10-01T12:00:00+08:00", deadline.DueAt);
    }

    [Fact]
    public void Negative_amounts_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Official.AddWorkingDays(At("2025-10-01T10:00:00+08:00"), -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Official.AddNaturalHours(At("2025-10-01T10:00:00+08:00"), -1));
    }
}
