using System.Globalization;
using System.Text.Json;

namespace Hotline.Telephony.Kamailio;

/// <summary>One JSON event as kamailio.cfg sends it over evapi (see the evapi_relay calls there).</summary>
public sealed record KamailioEvent(
    string Event,
    string CallId,
    DateTimeOffset At,
    IReadOnlyDictionary<string, string> Fields)
{
    public string? this[string name] => Fields.TryGetValue(name, out var v) && v.Length > 0 ? v : null;

    public int? Code(string name) => this[name] is { } s && long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? (int)v : null;

    /// <summary>The delivery sequence number kamailio.cfg gives every event (null from an older cfg or a fake peer).</summary>
    public long? Seq => Number("seq");

    /// <summary>Kamailio's start time: sequence numbers restart when it changes.</summary>
    public long? Boot => Number("boot");

    public long? Number(string name) => this[name] is { } s && long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;

    /// <summary>Parses an evapi payload; null when it is not an event of ours (no "event" or "callid").</summary>
    public static KamailioEvent? Parse(string json, DateTimeOffset now)
    {
        using var doc = JsonDocument.Parse(json);
        if (doc.RootElement.ValueKind != JsonValueKind.Object) return null;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            fields[p.Name] = p.Value.ValueKind switch
            {
                JsonValueKind.String => p.Value.GetString() ?? "",
                JsonValueKind.Number => p.Value.GetRawText(),
                JsonValueKind.True => "1",
                JsonValueKind.False => "0",
                _ => "",
            };
        }
        if (!fields.TryGetValue("event", out var name) || name.Length == 0) return null;
        if (name == "replayed") return new KamailioEvent(name, "", now, fields); // the marker after a replay: no call
        if (!fields.TryGetValue("callid", out var callId) || callId.Length == 0) return null;
        var at = now;
        if (fields.TryGetValue("ts", out var ts) && double.TryParse(ts, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
        {
            at = DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(seconds * 1000));
        }
        return new KamailioEvent(name, callId, at, fields);
    }
}
