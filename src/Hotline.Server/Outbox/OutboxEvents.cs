using Hotline.Domain.Common;

namespace Hotline.Server.Outbox;

// Outbox ("outbox-{id}"): one outbound notification, queued then delivered once.

/// <summary>
/// RefId is what the message belongs to: the ticket (citizen notices, 催办/督办 of a unit), the draft (acknowledgements),
/// the knowledge item (owner reminders).
/// </summary>
[EventType("V1.MessageQueued")]
public sealed record MessageQueued(Guid MessageId, string Channel, string To, string Kind, string Text, Guid? RefId, DateTimeOffset At);

[EventType("V1.MessageDelivered")]
public sealed record MessageDelivered(Guid MessageId, int Attempt, string? GatewayReference, DateTimeOffset At);

[EventType("V1.MessageAttemptFailed")]
public sealed record MessageAttemptFailed(Guid MessageId, int Attempt, string Error, DateTimeOffset At);

public static class OutboxEventTypes
{
    public static IReadOnlyList<Type> All { get; } = [typeof(MessageQueued), typeof(MessageDelivered), typeof(MessageAttemptFailed)];
}

/// <summary>The channels messages go out on (the gateway routes by it).</summary>
public static class OutboxChannels
{
    public const string Sms = "短信";
    public const string Mail = "邮件";

    /// <summary>To a unit (the "to" is the unit id): the gateway maps it to the unit's duty phones.</summary>
    public const string Unit = "单位通知";
}
