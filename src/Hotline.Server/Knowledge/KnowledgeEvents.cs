using Hotline.Domain.Common;

namespace Hotline.Server.Knowledge;

// One stream per item ("kb-{id}"); the synonym table is the stream "kb-synonyms".

/// <summary>A unit (or the office) proposes the first text of an item or a new version of it.</summary>
[EventType("V1.KnowledgeProposed")]
public sealed record KnowledgeProposed(Guid ItemId, int Revision, string Kind, string Title, string Body, IReadOnlyList<string> Keywords, string OwnerUnitId,
    DateOnly? ValidFrom, DateOnly? ValidTo, DateOnly? ReviewBy, string By, DateTimeOffset At);

[EventType("V1.KnowledgeApproved")]
public sealed record KnowledgeApproved(Guid ItemId, int Revision, string By, DateTimeOffset At);

[EventType("V1.KnowledgeRejected")]
public sealed record KnowledgeRejected(Guid ItemId, int Revision, string Reason, string By, DateTimeOffset At);

[EventType("V1.KnowledgeRetired")]
public sealed record KnowledgeRetired(Guid ItemId, string Reason, string By, DateTimeOffset At);

/// <summary>The owner unit was reminded that the item expired or is due for review.</summary>
[EventType("V1.KnowledgeReminderSent")]
public sealed record KnowledgeReminderSent(Guid ItemId, int Revision, string Reason, DateOnly On, DateTimeOffset At);

[EventType("V1.KnowledgeSynonymsSet")]
public sealed record KnowledgeSynonymsSet(IReadOnlyList<IReadOnlyList<string>> Groups, string By, DateTimeOffset At);

public static class KnowledgeEventTypes
{
    public static IReadOnlyList<Type> All { get; } =
        [typeof(KnowledgeProposed), typeof(KnowledgeApproved), typeof(KnowledgeRejected), typeof(KnowledgeRetired), typeof(KnowledgeReminderSent), typeof(KnowledgeSynonymsSet)];
}
