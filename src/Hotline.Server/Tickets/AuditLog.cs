using System.Globalization;
using System.Security.Claims;
using Hotline.Domain.Common;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Auth;
using Hotline.Server.Storage;

namespace Hotline.Server.Tickets;

/// <summary>One read of a caller's unmasked personal data: who, when, which ticket, why.</summary>
[EventType("V1.PersonalDataRead")]
public sealed record PersonalDataRead(string UserId, IReadOnlyList<string> Roles, Guid? TicketId, string? TicketNumber, string What, string Why, string? Query, DateTimeOffset At);

/// <summary>
/// The audit trail of personal-data reads. Each read is an event in the day's stream <c>audit-yyyyMMdd</c> (Shanghai
/// day) in the event store, so it is as durable as the tickets and cannot be edited through the API.
/// </summary>
public sealed class AuditLog(IEventStore store, EventSerializer serializer, TimeProvider time, ILogger<AuditLog> logger)
{
    public static string StreamOf(DateOnly day) => "audit-" + day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>The reason a reader gives (header <c>X-Access-Reason</c>, percent-encoded UTF-8 since headers are ASCII), or the default.</summary>
    public static string Why(HttpContext http, string fallback)
    {
        string given;
        try { given = Uri.UnescapeDataString(http.Request.Headers["X-Access-Reason"].ToString()); }
        catch (UriFormatException) { return fallback; }
        return string.IsNullOrWhiteSpace(given) || given.Length > 200 || given.Any(char.IsControl) ? fallback : given.Trim();
    }

    /// <summary>Records a read when the reader sees personal data unmasked (hotline office roles). A write failure fails the read.</summary>
    public async Task RecordAsync(ClaimsPrincipal reader, Ticket? ticket, string what, string why, string? query, CancellationToken ct)
    {
        if (!TicketViews.SeesPersonalData(reader)) return;
        var now = time.GetUtcNow();
        var roles = reader.FindAll(ClaimTypes.Role).Select(c => c.Value).ToList();
        var read = new PersonalDataRead(reader.UserId(), roles, ticket?.Id, ticket?.Number, what, why, query, now);
        var day = DateOnly.FromDateTime(TimeZones.ToLocal(now).DateTime);
        await store.AppendAsync(StreamOf(day), ExpectedRevision.Any, [serializer.ToEventData(read, Guid.CreateVersion7(), new EventMetadata(read.UserId, null, null, now))], ct);
        logger.LogDebug("Personal data read by {User} on {Ticket}: {What}", read.UserId, read.TicketNumber, what);
    }

    public async Task<IReadOnlyList<PersonalDataRead>> QueryAsync(DateOnly from, DateOnly to, string? userId, Guid? ticketId, CancellationToken ct)
    {
        var rows = new List<PersonalDataRead>();
        for (var day = from; day <= to; day = day.AddDays(1))
            await foreach (var e in store.ReadStreamAsync(StreamOf(day), 0, ct))
                if (serializer.Deserialize(e) is PersonalDataRead r && (userId is null || r.UserId == userId) && (ticketId is null || r.TicketId == ticketId))
                    rows.Add(r);
        return rows;
    }
}
