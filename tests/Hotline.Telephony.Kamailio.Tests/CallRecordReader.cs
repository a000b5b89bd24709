using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace Hotline.Telephony.Kamailio.Tests;

/// <summary>One stored call record (a "call-{id}" stream event) of the server's SQLite event store.</summary>
public sealed record CallRecord(long Position, string CallId, string Type, JsonObject Data)
{
    public string? Text(string name) =>
        Data.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value?.GetValue<string>();
}

/// <summary>Reads what the real server recorded, read-only, while it runs.</summary>
public static class CallRecordReader
{
    public static IReadOnlyList<CallRecord> Read(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, "hotline-events.db");
        if (!File.Exists(path)) return [];
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT position, stream_id, type, data FROM events WHERE stream_id LIKE 'call-%' ORDER BY position";
        using var reader = cmd.ExecuteReader();
        var list = new List<CallRecord>();
        while (reader.Read())
        {
            var type = reader.GetString(2);
            list.Add(new CallRecord(reader.GetInt64(0), reader.GetString(1)["call-".Length..], type.StartsWith("V1.", StringComparison.Ordinal) ? type[3..] : type,
                JsonNode.Parse(reader.GetString(3)) as JsonObject ?? []));
        }
        return list;
    }
}
