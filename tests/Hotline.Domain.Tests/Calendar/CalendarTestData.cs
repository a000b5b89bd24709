using System.Globalization;
using Hotline.Domain.Calendar;
using Xunit;

namespace Hotline.Domain.Tests.Calendar;

internal static class CalendarTestData
{
    /// <summary>A made-up 2027 notice in holiday-cn format (元旦 01-01..01-03, 春节 02-06..02-12, make-up 02-13).</summary>
    public const string HolidayCn2027 = """
        {
          "$schema": "https://raw.githubusercontent.com/NateScarlet/holiday-cn/master/schema.json",
          "$id": "https://raw.githubusercontent.com/NateScarlet/holiday-cn/master/2027.json",
          "year": 2027,
          "papers": ["https://www.gov.cn/example"],
          "days": [
            { "name": "元旦", "date": "2027-01-01", "isOffDay": true },
            { "name": "元旦", "date": "2027-01-02", "isOffDay": true },
            { "name": "元旦", "date": "2027-01-03", "isOffDay": true },
            { "name": "春节", "date": "2027-02-06", "isOffDay": true },
            { "name": "春节", "date": "2027-02-07", "isOffDay": true },
            { "name": "春节", "date": "2027-02-08", "isOffDay": true },
            { "name": "春节", "date": "2027-02-09", "isOffDay": true },
            { "name": "春节", "date": "2027-02-10", "isOffDay": true },
            { "name": "春节", "date": "2027-02-11", "isOffDay": true },
            { "name": "春节", "date": "2027-02-12", "isOffDay": true },
            { "name": "春节", "date": "2027-02-13", "isOffDay": false }
          ]
        }
        """;

    public static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

    public static DateOnly Day(string text) => DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static WorkingCalendar Official { get; } = new(HolidaySchedule.Official);

    public static void AssertInstant(string expected, DateTimeOffset actual)
    {
        Assert.Equal(At(expected), actual);
        Assert.Equal(ChinaTime.Offset, actual.Offset);
    }
}
