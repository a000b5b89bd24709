namespace Hotline.Reports.Facts;

/// <summary>诉求类型.</summary>
public enum TicketType
{
    Consultation,
    HelpRequest,
    Complaint,
    Report,
    Suggestion,
    Praise,
    Other,
}

/// <summary>紧急程度.</summary>
public enum Urgency
{
    Normal,
    Urgent,
    VeryUrgent,
}

/// <summary>回访评价.</summary>
public enum Satisfaction
{
    Satisfied,
    BasicallySatisfied,
    Unsatisfied,
}

/// <summary>办理结果 the main unit gave in its reply (the server's reply result codes resolved / explained / unresolved).</summary>
public enum ReplyResult
{
    /// <summary>已解决 (resolved).</summary>
    Resolved,

    /// <summary>已解释说明 (explained: the request cannot or need not be met, the unit explained why).</summary>
    Explained,

    /// <summary>未解决 (unresolved, with a reason).</summary>
    Unresolved,
}

/// <summary>督办级别 (a layer on top of the ticket state).</summary>
public enum SupervisionLevel
{
    None,
    Ordinary,
    YellowCard,
    RedCard,
}

/// <summary>Peer group a unit is ranked in.</summary>
public enum PeerGroup
{
    District,
    Town,
    CityDepartment,
}

/// <summary>The Chinese names used in every sheet; kept in one place.</summary>
public static class Zh
{
    public static IReadOnlyList<TicketType> AllTypes { get; } = Enum.GetValues<TicketType>();

    public static string Name(this TicketType type) => type switch
    {
        TicketType.Consultation => "咨询",
        TicketType.HelpRequest => "求助",
        TicketType.Complaint => "投诉",
        TicketType.Report => "举报",
        TicketType.Suggestion => "建议",
        TicketType.Praise => "表扬",
        _ => "其他",
    };

    public static string Name(this Urgency urgency) => urgency switch
    {
        Urgency.Urgent => "紧急",
        Urgency.VeryUrgent => "特急",
        _ => "一般",
    };

    public static string Name(this Satisfaction satisfaction) => satisfaction switch
    {
        Satisfaction.Satisfied => "满意",
        Satisfaction.BasicallySatisfied => "基本满意",
        _ => "不满意",
    };

    public static string Name(this ReplyResult result) => result switch
    {
        ReplyResult.Resolved => "已解决",
        ReplyResult.Explained => "已解释说明",
        _ => "未解决",
    };

    public static string Name(this SupervisionLevel level) => level switch
    {
        SupervisionLevel.Ordinary => "普通督办",
        SupervisionLevel.YellowCard => "黄牌督办",
        SupervisionLevel.RedCard => "红牌督办",
        _ => "无",
    };

    public static string Name(this PeerGroup group) => group switch
    {
        PeerGroup.District => "区",
        PeerGroup.Town => "街镇",
        _ => "市直部门",
    };
}
