using System.Collections.Immutable;

namespace Hotline.Server.Knowledge;

public static class KnowledgeKinds
{
    public static IReadOnlyList<string> All { get; } = ["政策法规", "办事指南", "常见问答", "单位职责"];
}

public sealed record KnowledgeText(int Revision, string Kind, string Title, string Body, IReadOnlyList<string> Keywords, string OwnerUnitId,
    DateOnly? ValidFrom, DateOnly? ValidTo, DateOnly? ReviewBy, string ProposedBy, DateTimeOffset ProposedAt);

/// <summary>One knowledge item folded from its stream: the published text, a pending proposal, the history of decisions.</summary>
public sealed record KnowledgeItem
{
    public static KnowledgeItem Initial { get; } = new();

    public Guid Id { get; init; }
    public long Version { get; init; }
    public KnowledgeText? Published { get; init; }
    public DateTimeOffset? PublishedAt { get; init; }
    public string? PublishedBy { get; init; }
    public KnowledgeText? Pending { get; init; }
    public string? LastRejection { get; init; }
    public bool Retired { get; init; }
    public int Revisions { get; init; }
    public ImmutableList<string> Reminders { get; init; } = [];

    /// <summary>The owner: of the published text, else of the proposal.</summary>
    public string OwnerUnitId => Published?.OwnerUnitId ?? Pending?.OwnerUnitId ?? "";

    public string Status(DateOnly today) =>
        Retired ? "已下线"
        : Published is null ? (Pending is not null ? "待审核" : "已驳回")
        : Published.ValidTo is { } to && to < today ? "已过期"
        : Published.ValidFrom is { } from && from > today ? "未生效"
        : "已发布";

    /// <summary>What an agent may find: published, not retired, within its validity.</summary>
    public bool Searchable(DateOnly today) => Status(today) == "已发布";

    public static KnowledgeItem Evolve(KnowledgeItem s, object e)
    {
        var next = e switch
        {
            KnowledgeProposed p => s with
            {
                Id = p.ItemId,
                Revisions = p.Revision,
                Pending = new KnowledgeText(p.Revision, p.Kind, p.Title, p.Body, p.Keywords, p.OwnerUnitId, p.ValidFrom, p.ValidTo, p.ReviewBy, p.By, p.At),
            },
            KnowledgeApproved a when s.Pending?.Revision == a.Revision => s with { Published = s.Pending, Pending = null, PublishedAt = a.At, PublishedBy = a.By, LastRejection = null, Retired = false },
            KnowledgeRejected r when s.Pending?.Revision == r.Revision => s with { Pending = null, LastRejection = r.Reason },
            KnowledgeRetired => s with { Retired = true, Pending = null },
            KnowledgeReminderSent m => s with { Reminders = s.Reminders.Add($"{m.Reason}:{m.Revision}:{m.On:yyyy-MM-dd}") },
            _ => s,
        };
        return next with { Version = s.Version + 1 };
    }
}
