using Hotline.Domain.Calendar;
using Xunit;
using static Hotline.Domain.Tests.Calendar.CalendarTestData;

namespace Hotline.Domain.Tests.Calendar;

public class HolidayAlertTests
{
    [Theory]
    [InlineData("2025-06-01", false)]
    [InlineData("2025-11-01", false)] // 2026 is loaded
    [InlineData("2026-10-31", false)]
    [InlineData("2026-11-01", true)] // 2027 missing
    [InlineData("2026-12-31", true)]
    [InlineData("2027-01-10", true)] // the current year itself is missing
    public void Alert_from_november_when_next_year_is_missing(string today, bool expected)
    {
        Assert.Equal(expected, HolidayAlert.NeedsAlert(Day(today), HolidaySchedule.Official));
    }

    [Fact]
    public void Importing_next_year_clears_the_alert()
    {
        var schedule = HolidaySchedule.Official.WithYear(HolidayCnImporter.Parse(HolidayCn2027));

        Assert.False(HolidayAlert.NeedsAlert(Day("2026-11-01"), schedule));
        Assert.Equal([2027], HolidayAlert.MissingYears(Day("2026-11-01"), HolidaySchedule.Official));
        Assert.Equal([2027, 2028], HolidayAlert.MissingYears(Day("2027-11-01"), HolidaySchedule.Empty));
    }
}
