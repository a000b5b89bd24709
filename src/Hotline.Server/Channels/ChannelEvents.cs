using Hotline.Domain.Common;

namespace Hotline.Server.Channels;

// Drafts ("draft-{id}"): an SMS or a mail that an agent turns into a ticket.

[EventType("V1.DraftReceived")]
public sealed record DraftReceived(Guid DraftId, string Channel, string SourceId, string From, string? Subject, string Text, DateTimeOffset RespondBy, DateTimeOffset At);

[EventType("V1.DraftCompleted")]
public sealed record DraftCompleted(Guid DraftId, Guid TicketId, string TicketNumber, string By, DateTimeOffset At);

[EventType("V1.DraftDiscarded")]
public sealed record DraftDiscarded(Guid DraftId, string Reason, string By, DateTimeOffset At);

// Outbox ("outbox-{id}"): one outbound notification, queued then delivered once.

/// <summary>RefId is the ticket (notices) or the draft (acknowledgements) the message belongs to.</summary>
[EventType("V1.MessageQueued")]
public sealed record MessageQueued(Guid MessageId, string Channel, string To, string Kind, string Text, Guid? RefId, DateTimeOffset At);

[EventType("V1.MessageDelivered")]
public sealed record MessageDelivered(Guid MessageId, int Attempt, string? GatewayReference, DateTimeOffset At);

[EventType("V1.MessageAttemptFailed")]
public sealed record MessageAttemptFailed(Guid MessageId, int Attempt, string Error, DateTimeOffset At);

// Public intake ("appeal-{ticketId}"): what the citizen sent beside the ticket (photos) and the rating.

[EventType("V1.PublicAppealSubmitted")]
public sealed record PublicAppealSubmitted(Guid TicketId, string Channel, string Phone, IReadOnlyList<string> Photos, string? PartnerId, string? ExternalId, DateTimeOffset At);

[EventType("V1.OutcomeRated")]
public sealed record OutcomeRated(Guid TicketId, string Satisfaction, string? Comment, DateTimeOffset At);

public static class ChannelEventTypes
{
    public static IReadOnlyList<Type> All { get; } =
    [
        typeof(DraftReceived), typeof(DraftCompleted), typeof(DraftDiscarded),
        typeof(MessageQueued), typeof(MessageDelivered), typeof(MessageAttemptFailed),
        typeof(PublicAppealSubmitted), typeof(OutcomeRated),
    ];
}
