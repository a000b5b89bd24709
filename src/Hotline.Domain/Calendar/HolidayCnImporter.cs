using System.Globalization;
using System.Text.Json;

namespace Hotline.Domain.Calendar;

/// <summary>One validation problem of an import: the JSON field (e.g. <c>days[3].date</c>) and why.</summary>
public sealed record CalendarImportError(string Field, string Reason)
{
    public override string ToString() => $"{Field}: {Reason}";
}

/// <summary>An imported holiday notice was rejected; <see cref="Errors"/> lists every problem found.</summary>
public sealed class CalendarImportException : Exception
{
    public CalendarImportException(IReadOnlyList<CalendarImportError> errors)
        : base(Describe(errors))
    {
        Errors = errors;
    }

    public CalendarImportException()
        : this([])
    {
    }

    public CalendarImportException(string message)
        : this([new CalendarImportError("$", message)])
    {
    }

    public CalendarImportException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [new CalendarImportError("$", message)];
    }

    public IReadOnlyList<CalendarImportError> Errors { get; }

    private static string Describe(IReadOnlyList<CalendarImportError> errors) =>
        errors.Count == 0
            ? "The holiday notice is invalid."
            : "The holiday notice is invalid: " + string.Join("; ", errors);
}

/// <summary>
/// Reads one year in the format of the widely used <c>holiday-cn</c> data set
/// (<c>{"year":2027,"days":[{"name":"元旦","date":"2027-01-01","isOffDay":true}]}</c>;
/// <c>isOffDay:false</c> marks a make-up working day). Unknown fields (<c>$schema</c>, <c>papers</c>) are ignored.
/// </summary>
public static class HolidayCnImporter
{
    public static YearSchedule Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new CalendarImportException([new CalendarImportError("$", $"not valid JSON ({e.Message})")]);
        }

        using (document)
        {
            return Read(document.RootElement);
        }
    }

    private static YearSchedule Read(JsonElement root)
    {
        var errors = new List<CalendarImportError>();
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new CalendarImportException([new CalendarImportError("$", "must be a JSON object")]);
        }

        int? year = null;
        if (!root.TryGetProperty("year", out var yearElement))
        {
            errors.Add(new("year", "missing"));
        }
        else if (yearElement.ValueKind != JsonValueKind.Number || !yearElement.TryGetInt32(out var y))
        {
            errors.Add(new("year", $"must be an integer, got {yearElement.GetRawText()}"));
        }
        else if (y is < 1900 or > 9998)
        {
            errors.Add(new("year", $"{y} is out of range"));
        }
        else
        {
            year = y;
        }

        var off = new List<DateOnly>();
        var work = new List<DateOnly>();
        if (!root.TryGetProperty("days", out var days))
        {
            errors.Add(new("days", "missing"));
        }
        else if (days.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new("days", "must be an array"));
        }
        else if (days.GetArrayLength() == 0)
        {
            errors.Add(new("days", "is empty; a notice always has off days"));
        }
        else
        {
            ReadDays(days, year, off, work, errors);
        }

        if (errors.Count > 0 || year is null)
        {
            throw new CalendarImportException(errors);
        }

        return new YearSchedule(year.Value, off, work);
    }

    private static void ReadDays(
        JsonElement days, int? year, List<DateOnly> off, List<DateOnly> work, List<CalendarImportError> errors)
    {
        var seen = new Dictionary<DateOnly, int>();
        var index = 0;
        foreach (var day in days.EnumerateArray())
        {
            var field = $"days[{index}]";
            var i = index++;
            if (day.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new(field, "must be an object"));
                continue;
            }

            DateOnly? date = null;
            if (!day.TryGetProperty("date", out var dateElement))
            {
                errors.Add(new($"{field}.date", "missing"));
            }
            else if (dateElement.ValueKind != JsonValueKind.String
                || !DateOnly.TryParseExact(
                    dateElement.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
            {
                errors.Add(new($"{field}.date", $"bad date {dateElement.GetRawText()}, expected yyyy-MM-dd"));
            }
            else if (year is not null && d.Year != year)
            {
                errors.Add(new($"{field}.date", $"{d:yyyy-MM-dd} is outside the year {year}"));
            }
            else if (seen.TryGetValue(d, out var first))
            {
                errors.Add(new($"{field}.date", $"duplicate date {d:yyyy-MM-dd} (first at days[{first}])"));
            }
            else
            {
                seen.Add(d, i);
                date = d;
            }

            bool? isOffDay = null;
            if (!day.TryGetProperty("isOffDay", out var offElement))
            {
                errors.Add(new($"{field}.isOffDay", "missing"));
            }
            else if (offElement.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                errors.Add(new($"{field}.isOffDay", $"must be true or false, got {offElement.GetRawText()}"));
            }
            else
            {
                isOffDay = offElement.GetBoolean();
            }

            if (date is not { } valid || isOffDay is not { } isOff)
            {
                continue;
            }

            if (isOff)
            {
                off.Add(valid);
            }
            else if (WorkingCalendar.IsMondayToFriday(valid))
            {
                errors.Add(new(
                    $"{field}.isOffDay",
                    $"{valid:yyyy-MM-dd} is a {valid.DayOfWeek}; a make-up working day falls on a weekend"));
            }
            else
            {
                work.Add(valid);
            }
        }
    }
}
