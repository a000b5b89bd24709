namespace Hotline.Reports.Facts;

/// <summary>
/// One ticket as the server's <c>WeeklyFacts</c> projection sees it at the report's cut-off.
/// Instants are <see cref="DateTimeOffset"/>; dates are taken in <see cref="WeeklyFacts.UtcOffset"/>.
/// <see cref="Summary"/> must already be masked by the caller; the writer masks it again
/// (<see cref="Masking.Text"/>) and masks <see cref="CallerPhone"/> before writing.
/// </summary>
public sealed record TicketFact
{
    public required string Number { get; init; }
    public required DateTimeOffset RegisteredAt { get; init; }

    /// <summary>电话, 网站, 微信, APP, 短信, 信箱, … (free text, grouped as given).</summary>
    public required string Channel { get; init; }

    public required TicketType Type { get; init; }

    /// <summary>Three-level category code, 2+2+2 digits (e.g. 020301).</summary>
    public required string CategoryCode { get; init; }

    public required string Category1 { get; init; }
    public required string Category2 { get; init; }
    public required string Category3 { get; init; }
    public required string District { get; init; }
    public string Town { get; init; } = "";
    public Urgency Urgency { get; init; }
    public required string Summary { get; init; }

    /// <summary>Optional raw caller number; only ever written masked (138****5678).</summary>
    public string? CallerPhone { get; init; }

    /// <summary>Stable hash of the caller's number, for repeat-caller detection; null when anonymous.</summary>
    public string? CallerPhoneHash { get; init; }

    /// <summary>Normalised address or object (小区, 路段, 商户) for cluster detection; null when unknown.</summary>
    public string? PlaceKey { get; init; }

    /// <summary>主办单位 id (<see cref="UnitFact.Id"/>); null when answered on the spot.</summary>
    public string? MainUnitId { get; init; }

    public bool AnsweredOnTheSpot { get; init; }

    /// <summary>The knowledge-base item the agent answered from (直接办结 with a 知识库 reference); null when none.</summary>
    public string? KnowledgeItemId { get; init; }

    /// <summary>Dispatch time limit (派单时限: e.g. 1 h 特急, 2 h 紧急, 1 working day) as set by the server's rules; null when unknown.</summary>
    public DateTimeOffset? DispatchDeadline { get; init; }

    public DateTimeOffset? DispatchedAt { get; init; }
    public DateTimeOffset? SignedForAt { get; init; }
    public DateTimeOffset? SignForDeadline { get; init; }
    public DateTimeOffset? RepliedAt { get; init; }

    /// <summary>办理结果 of the main unit's latest reply (reply result code resolved / explained / unresolved); null when not replied or answered on the spot.</summary>
    public ReplyResult? ReplyResult { get; init; }
    public DateTimeOffset? ReplyDeadline { get; init; }
    public int ReturnCount { get; init; }
    public int ExtensionCount { get; init; }
    public int ReHandlingCount { get; init; }
    public DateTimeOffset? ClosedAt { get; init; }

    /// <summary>When the callback reached the citizen; null when no callback was made or reached.</summary>
    public DateTimeOffset? CalledBackAt { get; init; }

    /// <summary>Null when there was no valid callback (not reached, declined to rate).</summary>
    public Satisfaction? Satisfaction { get; init; }

    public string? UnsatisfiedReason { get; init; }

    /// <summary>Whether the citizen said at the callback that the problem was solved; null when not asked (see 解决率).</summary>
    public bool? Resolved { get; init; }
    public SupervisionLevel Supervision { get; init; }

    /// <summary>As decided by the server's timers (it knows working days and extensions).</summary>
    public bool IsOverdue { get; init; }

    public IReadOnlyList<string> Tags { get; init; } = [];
}

/// <summary>One call offered to agents (after the IVR).</summary>
public sealed record CallFact(
    DateTimeOffset OfferedAt,
    bool Answered,
    double WaitSeconds,
    double TalkSeconds,
    double WrapUpSeconds,
    bool Abandoned);

/// <summary>A handling unit (承办单位) and the peer group it is ranked in.</summary>
public sealed record UnitFact(string Id, string Name, PeerGroup PeerGroup, int? Residents = null, string? District = null);

/// <summary>A knowledge-base item published (new or revised) by its owner unit at <see cref="PublishedAt"/>.</summary>
public sealed record KnowledgeUpdateFact(string ItemId, string OwnerUnitId, DateTimeOffset PublishedAt, bool IsNew);
