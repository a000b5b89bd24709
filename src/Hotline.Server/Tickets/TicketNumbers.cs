using System.Globalization;
using Hotline.Domain.Common;
using Hotline.EventStore;
using Hotline.Server.Storage;

namespace Hotline.Server.Tickets;

[EventType("V1.TicketNumberAssigned")]
public sealed record TicketNumberAssigned(Guid TicketId, DateTimeOffset At);

/// <summary>
/// Human-readable ticket numbers unique per day (20261122-000123). Each day is a stream; the number is the
/// revision of the ticket's entry in it. The entry's id comes from the ticket id, so a retry gets the same number.
/// </summary>
public sealed class TicketNumbers(IEventStore store, EventSerializer serializer)
{
    public async Task<string> AssignAsync(Guid ticketId, DateTimeOffset now, CancellationToken ct)
    {
        var day = TimeZones.ToLocal(now).ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var data = serializer.ToEventData(new TicketNumberAssigned(ticketId, now), DeterministicId.From("ticket-number", ticketId.ToString()), new EventMetadata("system", ticketId, null, now));
        var result = await store.AppendAsync($"ticketnumbers-{day}", ExpectedRevision.Any, [data], ct);
        return $"{day}-{result.NextExpectedRevision + 1:D6}";
    }
}

public static class TimeZones
{
    public static TimeZoneInfo China { get; } = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");

    public static DateTimeOffset ToLocal(DateTimeOffset at) => TimeZoneInfo.ConvertTime(at, China);
}
