using Hotline.Domain.Common;

namespace Hotline.Server.Channels;

// Drafts ("draft-{id}"): an SMS or a mail that an agent turns into a ticket.

[EventType("V1.DraftReceived")]
public sealed record DraftReceived(Guid DraftId, string Channel, string SourceId, string From, string? Subject, string Text, DateTimeOffset RespondBy, DateTimeOffset At);

[EventType("V1.DraftCompleted")]
public sealed record DraftCompleted(Guid DraftId, Guid TicketId, string TicketNumber, string By, DateTimeOffset At);

[EventType("V1.DraftDiscarded")]
public sealed record DraftDiscarded(Guid DraftId, string Reason, string By, DateTimeOffset At);

/// <summary>The channel's response limit passed without the response (SMS: the acknowledgement; mail: a ticket or a discard). Written once per draft.</summary>
[EventType("V1.DraftResponseOverdue")]
public sealed record DraftResponseOverdue(Guid DraftId, string Channel, DateTimeOffset RespondBy, DateTimeOffset At);

// Public intake ("appeal-{ticketId}"): what the citizen sent beside the ticket (photos) and the rating.

/// <summary>Photos: the stored file names; Attachments: the same photos with type, size and SHA-256 (absent in events written before it existed).</summary>
[EventType("V1.PublicAppealSubmitted")]
public sealed record PublicAppealSubmitted(Guid TicketId, string Channel, string Phone, IReadOnlyList<string> Photos, string? PartnerId, string? ExternalId, DateTimeOffset At,
    IReadOnlyList<AppealPhoto>? Attachments = null);

[EventType("V1.OutcomeRated")]
public sealed record OutcomeRated(Guid TicketId, string Satisfaction, string? Comment, DateTimeOffset At);

public static class ChannelEventTypes
{
    public static IReadOnlyList<Type> All { get; } =
    [
        typeof(DraftReceived), typeof(DraftCompleted), typeof(DraftDiscarded), typeof(DraftResponseOverdue),
        typeof(PublicAppealSubmitted), typeof(OutcomeRated),
    ];
}
