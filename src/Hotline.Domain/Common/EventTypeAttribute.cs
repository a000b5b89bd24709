namespace Hotline.Domain.Common;

/// <summary>The stable stored name of an event type, independent of the CLR name (e.g. "V1.TicketRegistered").</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class EventTypeAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
