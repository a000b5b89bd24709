using System.Reflection;
using System.Text.Json;
using Hotline.Domain.Common;
using Hotline.EventStore;

namespace Hotline.Server.Storage;

/// <summary>Maps events to their stable stored type names and JSON, and back.</summary>
public sealed class EventSerializer
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly Dictionary<string, Type> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<Type, string> _byType = [];

    public EventSerializer(IEnumerable<Type> eventTypes)
    {
        foreach (var type in eventTypes)
        {
            var name = type.GetCustomAttribute<EventTypeAttribute>()?.Name
                ?? throw new InvalidOperationException($"{type.Name} has no [EventType] name.");
            _byName.Add(name, type);
            _byType.Add(type, name);
        }
    }

    public string NameOf(Type type) => _byType.TryGetValue(type, out var name) ? name : throw new InvalidOperationException($"{type.Name} is not a registered event type.");

    public bool IsKnown(string name) => _byName.ContainsKey(name);

    public EventData ToEventData(object @event, Guid eventId, EventMetadata metadata) =>
        new(eventId, NameOf(@event.GetType()), JsonSerializer.SerializeToUtf8Bytes(@event, @event.GetType(), Json), metadata);

    public object? Deserialize(RecordedEvent recorded) =>
        _byName.TryGetValue(recorded.Type, out var type) ? JsonSerializer.Deserialize(recorded.Data.Span, type, Json) : null;
}
