using Hotline.Domain.Calendar;
using Xunit;
using static Hotline.Domain.Tests.Calendar.CalendarTestData;

namespace Hotline.Domain.Tests.Calendar;

public class HolidayCnImporterTests
{
    [Fact]
    public void Parses_the_holiday_cn_format()
    {
        var year = HolidayCnImporter.Parse(HolidayCn2027);

        Assert.Equal(2027, year.Year);
        Assert.Equal(10, year.OffDays.Count);
        Assert.Contains(Day("2027-01-01"), year.OffDays);
        Assert.Equal([Day("2027-02-13")], year.MakeUpWorkingDays);
        Assert.True(year.IsWorkingDay(Day("2027-02-13")));
        Assert.False(year.IsWorkingDay(Day("2027-02-08")));
        Assert.True(year.IsWorkingDay(Day("2027-02-15")));
    }

    [Fact]
    public void Missing_year_is_reported()
    {
        var e = Assert.Throws<CalendarImportException>(() => HolidayCnImporter.Parse(
            """{"days":[{"name":"元旦","date":"2027-01-01","isOffDay":true}]}"""));

        Assert.Contains(new CalendarImportError("year", "missing"), e.Errors);
    }

    [Fact]
    public void Year_must_be_an_integer()
    {
        var e = Assert.Throws<CalendarImportException>(() => HolidayCnImporter.Parse(
            """{"year":"2027","days":[{"name":"元旦","date":"2027-01-01","isOffDay":true}]}"""));

        var error = Assert.Single(e.Errors);
        Assert.Equal("year", error.Field);
        Assert.Contains("integer", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_date_outside_year_and_duplicate_are_all_reported_with_their_field()
    {
        var e = Assert.Throws<CalendarImportException>(() => HolidayCnImporter.Parse(
            """
            {"year":2027,"days":[
              {"name":"元旦","date":"2026-12-31","isOffDay":true},
              {"name":"春节","date":"2027-02-30","isOffDay":true},
              {"name":"元旦","date":"2027-01-01","isOffDay":true},
              {"name":"元旦","date":"2027-01-01","isOffDay":true},
              {"name":"春节","date":"27/02/2027","isOffDay":true}
            ]}
            """));

        Assert.Equal(["days[0].date", "days[1].date", "days[3].date", "days[4].date"], e.Errors.Select(x => x.Field));
        Assert.Contains("outside the year 2027", e.Errors[0].Reason, StringComparison.Ordinal);
        Assert.Contains("bad date", e.Errors[1].Reason, StringComparison.Ordinal);
        Assert.Contains("duplicate date 2027-01-01 (first at days[2])", e.Errors[2].Reason, StringComparison.Ordinal);
        Assert.Contains("bad date", e.Errors[3].Reason, StringComparison.Ordinal);
        Assert.Contains("days[1].date", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_or_non_boolean_isOffDay_is_reported()
    {
        var e = Assert.Throws<CalendarImportException>(() => HolidayCnImporter.Parse(
            """{"year":2027,"days":[{"date":"2027-01-01"},{"date":"2027-01-02","isOffDay":"yes"}]}"""));

        Assert.Equal(["days[0].isOffDay", "days[1].isOffDay"], e.Errors.Select(x => x.Field));
    }

    [Fact]
    public void A_make_up_working_day_on_a_weekday_is_rejected()
    {
        // 2027-02-15 is a Monday: it is a working day anyway, so "isOffDay": false there is a data error.
        var e = Assert.Throws<CalendarImportException>(() => HolidayCnImporter.Parse(
            """{"year":2027,"days":[{"date":"2027-02-15","isOffDay":false}]}"""));

        Assert.Equal("days[0].isOffDay", Assert.Single(e.Errors).Field);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    public void Malformed_documents_are_reported_at_the_root(string json)
    {
        var e = Assert.Throws<CalendarImportException>(() => HolidayCnImporter.Parse(json));

        Assert.Equal("$", Assert.Single(e.Errors).Field);
    }

    [Fact]
    public void Missing_or_empty_days_are_reported()
    {
        var missing = Assert.Throws<CalendarImportException>(() => HolidayCnImporter.Parse("""{"year":2027}"""));
        var empty = Assert.Throws<CalendarImportException>(() => HolidayCnImporter.Parse("""{"year":2027,"days":[]}"""));

        Assert.Equal(new CalendarImportError("days", "missing"), Assert.Single(missing.Errors));
        Assert.Equal("days", Assert.Single(empty.Errors).Field);
    }
}
