using System.Globalization;
using System.Text.Json;

namespace Hotline.Telephony.Webhook;

/// <summary>A body that is not a valid event; <see cref="Field"/> names the JSON property at fault.</summary>
public sealed class WebhookFormatException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

/// <summary>
/// Reads the documented JSON event (flat object, camelCase; see the README) into a <see cref="CallEvent"/>.
/// Unknown properties are ignored so platforms can send extra data.
/// </summary>
public static class WebhookEventParser
{
    public static readonly IReadOnlyList<string> Types =
    [
        "call.offered", "call.ringing", "call.answered", "call.held", "call.resumed", "call.transferred",
        "call.ended", "call.abandoned", "call.failed", "call.dtmf",
    ];

    public static CallEvent Parse(ReadOnlySpan<byte> body, string source)
    {
        JsonDocument doc;
        try
        {
            var reader = new Utf8JsonReader(body);
            doc = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw new WebhookFormatException("$", $"The body is not valid JSON: {ex.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new WebhookFormatException("$", "The body must be a JSON object.");
            }
            var type = Required(root, "type");
            var eventId = Required(root, "eventId");
            if (eventId.Length > 200)
            {
                throw new WebhookFormatException("eventId", "eventId must be at most 200 characters.");
            }
            var callId = Required(root, "callId");
            var at = Timestamp(root, "occurredAt");

            return type switch
            {
                "call.offered" => new CallOffered(eventId, callId, at, source,
                    CallerNumber: Required(root, "callerNumber"),
                    DialledNumber: Required(root, "dialledNumber"),
                    Trunk: Optional(root, "trunk"),
                    IvrPath: Optional(root, "ivrPath"),
                    RequestedSkill: Optional(root, "skill"),
                    Elderly: Flag(root, "elderly"),
                    Vip: Flag(root, "vip"),
                    CallerName: Optional(root, "callerName")),
                "call.ringing" => new CallRinging(eventId, callId, at, source, Required(root, "agentId"), Optional(root, "agentEndpoint")),
                "call.answered" => new CallAnswered(eventId, callId, at, source, Required(root, "agentId")),
                "call.held" => new CallHeld(eventId, callId, at, source),
                "call.resumed" => new CallResumed(eventId, callId, at, source),
                "call.transferred" => new CallTransferred(eventId, callId, at, source, Required(root, "target"),
                    Optional(root, "reason"), Optional(root, "agentId")),
                "call.ended" => new CallEnded(eventId, callId, at, source, EndedBy(root), Optional(root, "cause")),
                "call.abandoned" => new CallAbandoned(eventId, callId, at, source, Optional(root, "queue"), Optional(root, "reason")),
                "call.failed" => new CallFailed(eventId, callId, at, source, Optional(root, "agentId"), Required(root, "cause")),
                "call.dtmf" => new DtmfReceived(eventId, callId, at, source, Required(root, "digits")),
                _ => throw new WebhookFormatException("type", $"Unknown type '{type}'; expected one of {string.Join(", ", Types)}."),
            };
        }
    }

    private static string Required(JsonElement root, string name) =>
        Optional(root, name) ?? throw new WebhookFormatException(name, $"{name} is required.");

    private static string? Optional(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            throw new WebhookFormatException(name, $"{name} must be a string.");
        }
        var s = value.GetString();
        return string.IsNullOrWhiteSpace(s) ? null : s;
    }

    private static bool Flag(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return false;
        }
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new WebhookFormatException(name, $"{name} must be true or false."),
        };
    }

    private static DateTimeOffset Timestamp(JsonElement root, string name)
    {
        var s = Required(root, name);
        if (!DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at)
            || !s.Contains('T', StringComparison.Ordinal))
        {
            throw new WebhookFormatException(name, $"{name} must be an ISO-8601 date-time with offset, e.g. 2025-03-01T10:15:30+08:00.");
        }
        return at;
    }

    private static CallEndedBy EndedBy(JsonElement root) => Optional(root, "endedBy") switch
    {
        null or "unknown" => CallEndedBy.Unknown,
        "caller" => CallEndedBy.Caller,
        "agent" => CallEndedBy.Agent,
        "system" => CallEndedBy.System,
        var other => throw new WebhookFormatException("endedBy", $"endedBy '{other}' must be caller, agent, system or unknown."),
    };
}
