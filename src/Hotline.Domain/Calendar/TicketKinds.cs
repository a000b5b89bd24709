namespace Hotline.Domain.Calendar;

/// <summary>Ticket types (工单类型) as stored on the ticket and used as keys of the time-limit table.</summary>
public static class TicketTypes
{
    public const string Consultation = "咨询";
    public const string Help = "求助";
    public const string Complaint = "投诉";
    public const string Report = "举报";
    public const string Suggestion = "建议";
    public const string Praise = "表扬";
    public const string Other = "其他";

    public static IReadOnlyList<string> All { get; } =
        [Consultation, Help, Complaint, Report, Suggestion, Praise, Other];

    public static bool IsKnown(string? type) => type is not null && All.Contains(type, StringComparer.Ordinal);
}

/// <summary>Urgency levels (紧急程度).</summary>
public static class Urgencies
{
    public const string Normal = "一般";
    public const string Urgent = "紧急";
    public const string VeryUrgent = "特急";

    public static IReadOnlyList<string> All { get; } = [Normal, Urgent, VeryUrgent];

    public static bool IsKnown(string? urgency) => urgency is not null && All.Contains(urgency, StringComparer.Ordinal);
}
