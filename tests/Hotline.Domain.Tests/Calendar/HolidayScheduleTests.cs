using Hotline.Domain.Calendar;
using Xunit;
using static Hotline.Domain.Tests.Calendar.CalendarTestData;

namespace Hotline.Domain.Tests.Calendar;

public class HolidayScheduleTests
{
    [Fact]
    public void Official_holds_2025_and_2026()
    {
        Assert.Equal([2025, 2026], HolidaySchedule.Official.Years);
        Assert.True(HolidaySchedule.Official.HasYear(2025));
        Assert.True(HolidaySchedule.Official.HasYear(2026));
        Assert.False(HolidaySchedule.Official.HasYear(2027));
    }

    [Fact]
    public void Official_seed_has_the_notice_day_counts()
    {
        Assert.True(HolidaySchedule.Official.TryGetYear(2025, out var y2025));
        Assert.Equal(1 + 8 + 3 + 5 + 3 + 8, y2025.OffDays.Count);
        Assert.Equal(5, y2025.MakeUpWorkingDays.Count);
        Assert.True(HolidaySchedule.Official.TryGetYear(2026, out var y2026));
        Assert.Equal(3 + 9 + 3 + 5 + 3 + 3 + 7, y2026.OffDays.Count);
        Assert.Equal(6, y2026.MakeUpWorkingDays.Count);
        Assert.All(
            y2025.MakeUpWorkingDays.Concat(y2026.MakeUpWorkingDays),
            d => Assert.False(WorkingCalendar.IsMondayToFriday(d)));
    }

    [Fact]
    public void WithYear_returns_a_new_schedule_and_leaves_the_old_one_alone()
    {
        var original = HolidaySchedule.Official;
        var y2027 = HolidayCnImporter.Parse(HolidayCn2027);

        var updated = original.WithYear(y2027);

        Assert.Equal([2025, 2026, 2027], updated.Years);
        Assert.False(original.HasYear(2027));
        Assert.Equal([2026, 2027], updated.WithoutYear(2025).Years);
    }

    [Fact]
    public void WithYear_replaces_a_year_already_loaded()
    {
        var replacement = new YearSchedule(2025, [Day("2025-01-01")], []);

        var updated = HolidaySchedule.Official.WithYear(replacement);

        Assert.True(updated.TryGetYear(2025, out var y));
        Assert.Single(y.OffDays);
        Assert.True(new WorkingCalendar(updated).IsWorkingDay(Day("2025-10-08")));
    }

    [Fact]
    public void YearSchedule_rejects_dates_of_another_year_and_days_both_off_and_working()
    {
        Assert.Throws<ArgumentException>(() => new YearSchedule(2027, [Day("2026-12-31")], []));
        Assert.Throws<ArgumentException>(() => new YearSchedule(2027, [Day("2027-02-13")], [Day("2027-02-13")]));
    }
}
