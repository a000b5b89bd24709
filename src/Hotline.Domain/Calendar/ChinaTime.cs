namespace Hotline.Domain.Calendar;

/// <summary>
/// The hotline's civil clock: Asia/Shanghai (UTC+8, no daylight saving since 1991). Every "day" in
/// this folder is a day of this clock, whatever offset the caller's instant carries.
/// </summary>
public static class ChinaTime
{
    public static readonly TimeSpan Offset = TimeSpan.FromHours(8);

    /// <summary>The system's Asia/Shanghai zone; a fixed UTC+8 zone if the host has no tz database.</summary>
    public static TimeZoneInfo Zone { get; } = Load();

    /// <summary>The instant expressed on the Shanghai clock.</summary>
    public static DateTimeOffset ToLocal(DateTimeOffset instant) => TimeZoneInfo.ConvertTime(instant, Zone);

    /// <summary>The Shanghai calendar date of an instant.</summary>
    public static DateOnly DateOf(DateTimeOffset instant) => DateOnly.FromDateTime(ToLocal(instant).DateTime);

    /// <summary>00:00 of <paramref name="date"/> in Shanghai.</summary>
    public static DateTimeOffset StartOfDay(DateOnly date)
    {
        var local = date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        return new DateTimeOffset(local, Zone.GetUtcOffset(local));
    }

    /// <summary>24:00 of <paramref name="date"/>, represented as 00:00 of the next day.</summary>
    public static DateTimeOffset EndOfDay(DateOnly date) => StartOfDay(date.AddDays(1));

    private static TimeZoneInfo Load()
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return TimeZoneInfo.CreateCustomTimeZone("Asia/Shanghai", Offset, "China Standard Time", "China Standard Time");
        }
    }
}
