using Hotline.Domain.Common;

namespace Hotline.Server.Open311;

/// <summary>What a GeoReport client sent beside the ticket ("open311-{ticketId}"): position, media, its ids.</summary>
[EventType("V1.Open311RequestReceived")]
public sealed record Open311RequestReceived(Guid TicketId, string ApiKeyId, double? Latitude, double? Longitude, string? AddressString, string? AddressId, string? Email, string? DeviceId, string? AccountId,
    string? MediaUrl, IReadOnlyDictionary<string, string> Attributes, DateTimeOffset At);
