using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hotline.EventStore;

/// <summary>How <see cref="EventMetadata"/> is stored beside each event (camelCase JSON, same in every store).</summary>
internal static class EventStoreJson
{
    public static string SerializeMetadata(EventMetadata metadata) =>
        JsonSerializer.Serialize(metadata, MetadataJsonContext.Default.EventMetadata);

    public static EventMetadata DeserializeMetadata(string json) =>
        JsonSerializer.Deserialize(json, MetadataJsonContext.Default.EventMetadata)
        ?? throw new InvalidOperationException("Stored event metadata is null.");

    public static string DataToText(ReadOnlyMemory<byte> data) => Encoding.UTF8.GetString(data.Span);

    public static ReadOnlyMemory<byte> TextToData(string text) => Encoding.UTF8.GetBytes(text);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(EventMetadata))]
internal sealed partial class MetadataJsonContext : JsonSerializerContext;
