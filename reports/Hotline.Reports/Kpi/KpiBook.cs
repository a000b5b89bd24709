using Hotline.Reports.Facts;

namespace Hotline.Reports.Kpi;

public enum KpiUnit
{
    Count,
    Percent,
    Seconds,
    Hours,
}

/// <summary>Colour bands for conditional formatting: good / warning / bad.</summary>
public sealed record KpiThreshold(double Good, double Bad, bool HigherIsBetter)
{
    public string Describe(KpiUnit unit)
    {
        string F(double v) => unit == KpiUnit.Percent ? $"{v:0.#%}" : $"{v:0.#}";
        return HigherIsBetter
            ? $"≥{F(Good)} 绿；<{F(Bad)} 红；其间 黄"
            : $"≤{F(Good)} 绿；>{F(Bad)} 红；其间 黄";
    }
}

/// <summary>A computed KPI: the value and the numbers it came from (shown next to it where useful).</summary>
public sealed record KpiValue(double? Value, double Numerator, double? Denominator)
{
    public static KpiValue Count(double n) => new(n, n, null);

    public static KpiValue Ratio(double numerator, double denominator) =>
        new(denominator > 0 ? numerator / denominator : null, numerator, denominator);
}

/// <summary>What a KPI is computed over: one scope (whole city, one unit, one district) of one period.</summary>
public sealed record KpiInput(
    IReadOnlyList<TicketFact> Tickets,
    IReadOnlyList<CallFact> Calls,
    DateTimeOffset Cutoff,
    int Days,
    KpiOptions Options)
{
    /// <summary>Knowledge-base publications of the scope and period (for 知识库更新数).</summary>
    public IReadOnlyList<KnowledgeUpdateFact> Knowledge { get; init; } = [];

    public static KpiInput ForTickets(IReadOnlyList<TicketFact> tickets, DateTimeOffset cutoff, KpiOptions? options = null) =>
        new(tickets, [], cutoff, 7, options ?? KpiOptions.Default);

    public static KpiInput ForCalls(IReadOnlyList<CallFact> calls, KpiOptions? options = null) =>
        new([], calls, DateTimeOffset.MaxValue, 7, options ?? KpiOptions.Default);
}

public sealed record KpiOptions
{
    public static KpiOptions Default { get; } = new();

    /// <summary>Abandons after less than this wait are not counted as offered (0 disables the exclusion).</summary>
    public double ShortAbandonSeconds { get; init; } = 5;
}

/// <summary>
/// One KPI, defined once: its Chinese name, numerator, denominator and exclusions as text (the 指标说明 sheet
/// prints exactly these) and the function that computes it.
/// </summary>
public sealed record KpiDefinition(
    string Id,
    string Name,
    string Numerator,
    string Denominator,
    string Exclusions,
    KpiUnit Unit,
    KpiThreshold? Threshold,
    Func<KpiInput, KpiValue> Compute)
{
    public bool HigherIsBetter => Threshold?.HigherIsBetter ?? true;

    public KpiValue Of(KpiInput input) => Compute(input);
}

/// <summary>The KPI catalogue. Add a KPI here and it appears in 指标说明 and can be weighted in unit scores.</summary>
public static class KpiBook
{
    private const string ShortAbandon = "等待不足 N 秒（默认 5 秒，可配置）即挂机的短放弃呼叫";

    // ---- calls --------------------------------------------------------------------------------------------
    public static KpiDefinition CallsOffered { get; } = new(
        "calls.offered", "呼入量", "进入人工队列的呼叫数", "—", ShortAbandon, KpiUnit.Count, null,
        i => KpiValue.Count(Offered(i).Count()));

    public static KpiDefinition CallsAnswered { get; } = new(
        "calls.answered", "接通量", "坐席接起的呼叫数", "—", "无", KpiUnit.Count, null,
        i => KpiValue.Count(i.Calls.Count(c => c.Answered)));

    public static KpiDefinition AnswerRate { get; } = new(
        "calls.answerRate", "接通率", "坐席接起的呼叫数", "进入人工队列的呼叫数", ShortAbandon, KpiUnit.Percent,
        new KpiThreshold(0.95, 0.90, true),
        i => KpiValue.Ratio(Offered(i).Count(c => c.Answered), Offered(i).Count()));

    public static KpiDefinition ServiceLevel15 { get; } = new(
        "calls.sl15", "15秒接通率", "等待≤15秒即接起的呼叫数", "进入人工队列的呼叫数", ShortAbandon, KpiUnit.Percent,
        new KpiThreshold(0.80, 0.60, true),
        i => KpiValue.Ratio(Offered(i).Count(c => c.Answered && c.WaitSeconds <= 15), Offered(i).Count()));

    public static KpiDefinition ServiceLevel20 { get; } = new(
        "calls.sl20", "20秒接通率", "等待≤20秒即接起的呼叫数", "进入人工队列的呼叫数", ShortAbandon, KpiUnit.Percent,
        new KpiThreshold(0.85, 0.70, true),
        i => KpiValue.Ratio(Offered(i).Count(c => c.Answered && c.WaitSeconds <= 20), Offered(i).Count()));

    public static KpiDefinition AbandonRate { get; } = new(
        "calls.abandonRate", "呼损率", "排队中放弃的呼叫数", "进入人工队列的呼叫数", ShortAbandon, KpiUnit.Percent,
        new KpiThreshold(0.05, 0.10, false),
        i => KpiValue.Ratio(Offered(i).Count(c => c.Abandoned), Offered(i).Count()));

    public static KpiDefinition AverageWait { get; } = new(
        "calls.avgWait", "平均等待时长", "已接通呼叫的排队等待秒数之和", "已接通呼叫数", "放弃的呼叫（其等待不计入）", KpiUnit.Seconds,
        new KpiThreshold(15, 30, false),
        i => Average(i.Calls.Where(c => c.Answered), c => c.WaitSeconds));

    public static KpiDefinition AverageTalk { get; } = new(
        "calls.avgTalk", "平均通话时长", "已接通呼叫的通话秒数之和", "已接通呼叫数", "未接通呼叫", KpiUnit.Seconds, null,
        i => Average(i.Calls.Where(c => c.Answered), c => c.TalkSeconds));

    public static KpiDefinition AverageWrapUp { get; } = new(
        "calls.avgWrapUp", "平均话后处理时长", "已接通呼叫的话后处理秒数之和", "已接通呼叫数", "未接通呼叫", KpiUnit.Seconds, null,
        i => Average(i.Calls.Where(c => c.Answered), c => c.WrapUpSeconds));

    // ---- tickets ------------------------------------------------------------------------------------------
    public static KpiDefinition TicketsTotal { get; } = new(
        "tickets.total", "工单总量", "统计期内登记的工单数（各渠道、各类型）", "—", "无（并单后的被并工单由服务端不输出）", KpiUnit.Count, null,
        i => KpiValue.Count(i.Tickets.Count));

    public static KpiDefinition DailyAverage { get; } = new(
        "tickets.daily", "日均工单量", "统计期内登记的工单数", "统计期天数", "无", KpiUnit.Count, null,
        i => KpiValue.Ratio(i.Tickets.Count, i.Days));

    public static KpiDefinition OnTheSpot { get; } = new(
        "tickets.onTheSpot", "直接办结量", "受理时当场答复办结的工单数", "—", "无", KpiUnit.Count, null,
        i => KpiValue.Count(i.Tickets.Count(t => t.AnsweredOnTheSpot)));

    public static KpiDefinition Dispatched { get; } = new(
        "tickets.dispatched", "派单量", "已派发给承办单位（主办）的工单数", "—", "直接办结的工单", KpiUnit.Count, null,
        i => KpiValue.Count(Dispatch(i).Count()));

    public static KpiDefinition OnTheSpotRate { get; } = new(
        "tickets.onTheSpotRate", "直接办结率", "直接办结的工单数", "统计期内登记的工单数", "无", KpiUnit.Percent,
        new KpiThreshold(0.60, 0.40, true),
        i => KpiValue.Ratio(i.Tickets.Count(t => t.AnsweredOnTheSpot), i.Tickets.Count));

    public static KpiDefinition OnTimeSignFor { get; } = new(
        "tickets.onTimeSignFor", "按时签收率（响应率）", "在签收期限内签收的派单工单数", "已签收或签收期限已到的派单工单数",
        "截至统计时点尚未签收且未到签收期限的工单；没有签收期限的工单", KpiUnit.Percent,
        new KpiThreshold(0.98, 0.90, true),
        i =>
        {
            var due = Dispatch(i).Where(t => t.SignForDeadline is not null && (t.SignedForAt is not null || t.SignForDeadline <= i.Cutoff)).ToList();
            return KpiValue.Ratio(due.Count(t => t.SignedForAt is not null && t.SignedForAt <= t.SignForDeadline), due.Count);
        });

    public static KpiDefinition DispatchOnTime { get; } = new(
        "tickets.dispatchOnTime", "派单及时率", "在派单时限内派出的工单数", "已派单或派单时限已到的工单数",
        "直接办结的工单；截至统计时点未派单且未到派单时限的工单；没有派单时限的工单", KpiUnit.Percent,
        new KpiThreshold(0.95, 0.85, true),
        i =>
        {
            var due = i.Tickets.Where(t => !t.AnsweredOnTheSpot && t.DispatchDeadline is not null
                && ((t.DispatchedAt is not null && t.DispatchedAt <= i.Cutoff) || t.DispatchDeadline <= i.Cutoff)).ToList();
            return KpiValue.Ratio(due.Count(t => t.DispatchedAt is not null && t.DispatchedAt <= i.Cutoff && t.DispatchedAt <= t.DispatchDeadline), due.Count);
        });

    public static KpiDefinition AverageDispatchHours { get; } = new(
        "tickets.avgDispatchHours", "平均派单时长", "派单工单从登记到派出的小时数之和", "截至统计时点已派出的工单数", "直接办结的工单；尚未派出的工单", KpiUnit.Hours,
        new KpiThreshold(2, 8, false),
        i =>
        {
            var sent = Dispatch(i).Where(t => t.DispatchedAt is not null && t.DispatchedAt <= i.Cutoff).ToList();
            return KpiValue.Ratio(sent.Sum(t => (t.DispatchedAt!.Value - t.RegisteredAt).TotalHours), sent.Count);
        });

    public static KpiDefinition KnowledgeUse { get; } = new(
        "tickets.knowledgeUse", "知识库引用率", "直接办结时引用了知识条目的工单数", "直接办结的工单数", "派单工单", KpiUnit.Percent,
        new KpiThreshold(0.70, 0.50, true),
        i =>
        {
            var spot = i.Tickets.Where(t => t.AnsweredOnTheSpot).ToList();
            return KpiValue.Ratio(spot.Count(t => t.KnowledgeItemId is not null), spot.Count);
        });

    public static KpiDefinition KnowledgeUpdates { get; } = new(
        "knowledge.updates", "知识库更新数", "统计期内发布（新增或修订后重新发布）的知识条目数，按条目的责任单位归属", "—",
        "未通过审核的修改；已废止的条目；同一条目期内多次发布只计一次", KpiUnit.Count, null,
        i => KpiValue.Count(i.Knowledge.Select(k => k.ItemId).Distinct(StringComparer.Ordinal).Count()));

    public static KpiDefinition ReturnRate { get; } = new(
        "tickets.returnRate", "退回率", "被承办单位申请退回过（≥1次）的派单工单数", "派单工单数", "直接办结的工单", KpiUnit.Percent,
        new KpiThreshold(0.05, 0.10, false),
        i => KpiValue.Ratio(Dispatch(i).Count(t => t.ReturnCount > 0), Dispatch(i).Count()));

    public static KpiDefinition CompletionRate { get; } = new(
        "tickets.completionRate", "办结率", "截至统计时点已办结的派单工单数", "派单工单数", "直接办结的工单（另见直接办结率）", KpiUnit.Percent,
        new KpiThreshold(0.90, 0.70, true),
        i => KpiValue.Ratio(Dispatch(i).Count(t => t.ClosedAt is not null && t.ClosedAt <= i.Cutoff), Dispatch(i).Count()));

    public static KpiDefinition OnTimeCompletion { get; } = new(
        "tickets.onTimeCompletion", "按期办结率", "在答复期限（含批准的延期）内答复的派单工单数", "已答复或答复期限已到的派单工单数",
        "截至统计时点尚未答复且未到答复期限的工单；没有答复期限的工单", KpiUnit.Percent,
        new KpiThreshold(0.95, 0.85, true),
        i =>
        {
            var due = Dispatch(i).Where(t => t.ReplyDeadline is not null && ((t.RepliedAt is not null && t.RepliedAt <= i.Cutoff) || t.ReplyDeadline <= i.Cutoff)).ToList();
            return KpiValue.Ratio(due.Count(t => t.RepliedAt is not null && t.RepliedAt <= i.Cutoff && t.RepliedAt <= t.ReplyDeadline), due.Count);
        });

    public static KpiDefinition Extensions { get; } = new(
        "tickets.extensions", "延期次数", "派单工单获批延期的次数之和", "—", "未获批的延期申请", KpiUnit.Count,
        null,
        i => KpiValue.Count(Dispatch(i).Sum(t => t.ExtensionCount)));

    public static KpiDefinition Overdue { get; } = new(
        "tickets.overdue", "超期件数", "服务端计时判定为超期的工单数", "—", "无", KpiUnit.Count,
        null,
        i => KpiValue.Count(i.Tickets.Count(t => t.IsOverdue)));

    public static KpiDefinition CallbackRate { get; } = new(
        "tickets.callbackRate", "回访率", "已回访（联系上市民）的工单数", "截至统计时点已答复的派单工单数",
        "匿名工单（无来电号码）；直接办结的工单", KpiUnit.Percent,
        new KpiThreshold(0.95, 0.85, true),
        i =>
        {
            var replied = Replied(i).Where(t => t.CallerPhoneHash is not null || t.CallerPhone is not null).ToList();
            return KpiValue.Ratio(replied.Count(t => t.CalledBackAt is not null), replied.Count);
        });

    public static KpiDefinition SatisfactionRate { get; } = new(
        "tickets.satisfaction", "满意率", "回访评价为“满意”或“基本满意”的工单数", "有效回访工单数（有评价结果）",
        "未回访、未联系上或拒绝评价的工单", KpiUnit.Percent,
        new KpiThreshold(0.90, 0.80, true),
        i =>
        {
            var rated = i.Tickets.Where(t => t.Satisfaction is not null).ToList();
            return KpiValue.Ratio(rated.Count(t => t.Satisfaction != Satisfaction.Unsatisfied), rated.Count);
        });

    public static KpiDefinition ResolutionRate { get; } = new(
        "tickets.resolution", "解决率",
        "有效回访中问题已解决的工单数：回访时询问了“是否解决”的，以市民回答为准；未询问的派单工单，以承办单位答复的办理结果为“已解决”且回访评价不为“不满意”为准"
        + "（答复“已解释说明”“未解决”不计入）；无答复结果的工单（直接办结），评价为满意或基本满意视为已解决",
        "有效回访工单数（有评价结果）", "未回访、未联系上或拒绝评价的工单", KpiUnit.Percent,
        new KpiThreshold(0.85, 0.70, true),
        i =>
        {
            var rated = i.Tickets.Where(t => t.Satisfaction is not null).ToList();
            return KpiValue.Ratio(rated.Count(IsResolved), rated.Count);
        });

    /// <summary>
    /// The numerator test of 解决率 for a ticket with a valid callback: the citizen's answer when asked; otherwise the
    /// main unit's reply result (已解决) confirmed by a rating other than 不满意; without a reply result (on-the-spot
    /// answers) the rating alone.
    /// </summary>
    public static bool IsResolved(TicketFact t)
    {
        ArgumentNullException.ThrowIfNull(t);
        return t.Resolved
            ?? (t.ReplyResult is { } reply
                ? reply == ReplyResult.Resolved && t.Satisfaction != Satisfaction.Unsatisfied
                : t.Satisfaction is not null and not Satisfaction.Unsatisfied);
    }

    public static KpiDefinition ReHandlingRate { get; } = new(
        "tickets.reHandlingRate", "重办率", "被要求重办过（≥1次）的工单数", "截至统计时点已答复的派单工单数", "直接办结的工单", KpiUnit.Percent,
        new KpiThreshold(0.05, 0.10, false),
        i =>
        {
            var replied = Replied(i).ToList();
            return KpiValue.Ratio(replied.Count(t => t.ReHandlingCount > 0), replied.Count);
        });

    public static IReadOnlyList<KpiDefinition> CallKpis { get; } =
        [CallsOffered, CallsAnswered, AnswerRate, ServiceLevel15, ServiceLevel20, AbandonRate, AverageWait, AverageTalk, AverageWrapUp];

    public static IReadOnlyList<KpiDefinition> TicketKpis { get; } =
    [
        TicketsTotal, DailyAverage, OnTheSpot, Dispatched, OnTheSpotRate, KnowledgeUse, DispatchOnTime, AverageDispatchHours,
        OnTimeSignFor, ReturnRate, CompletionRate, OnTimeCompletion, Extensions, Overdue, CallbackRate, ResolutionRate, SatisfactionRate,
        ReHandlingRate, KnowledgeUpdates,
    ];

    /// <summary>三率: response (按时签收), resolution and satisfaction — the three rates cities rank units by.</summary>
    public static IReadOnlyList<KpiDefinition> ThreeRates { get; } = [OnTimeSignFor, ResolutionRate, SatisfactionRate];

    /// <summary>The columns of the department table, in order.</summary>
    public static IReadOnlyList<KpiDefinition> UnitKpis { get; } =
    [
        Dispatched, OnTimeSignFor, ReturnRate, CompletionRate, OnTimeCompletion, Extensions, Overdue, CallbackRate, ResolutionRate,
        SatisfactionRate, ReHandlingRate, KnowledgeUpdates,
    ];

    public static IReadOnlyList<KpiDefinition> All { get; } =
    [
        CallsOffered, CallsAnswered, AnswerRate, ServiceLevel15, ServiceLevel20, AbandonRate, AverageWait, AverageTalk, AverageWrapUp,
        TicketsTotal, DailyAverage, OnTheSpot, Dispatched, OnTheSpotRate, KnowledgeUse, DispatchOnTime, AverageDispatchHours, OnTimeSignFor,
        ReturnRate, CompletionRate, OnTimeCompletion, Extensions, Overdue, CallbackRate, ResolutionRate, SatisfactionRate, ReHandlingRate,
        KnowledgeUpdates,
    ];

    public static KpiDefinition ById(string id) => All.First(k => k.Id == id);

    private static IEnumerable<CallFact> Offered(KpiInput i) =>
        i.Calls.Where(c => !(c.Abandoned && c.WaitSeconds < i.Options.ShortAbandonSeconds));

    private static IEnumerable<TicketFact> Dispatch(KpiInput i) =>
        i.Tickets.Where(t => !t.AnsweredOnTheSpot && t.MainUnitId is not null);

    private static IEnumerable<TicketFact> Replied(KpiInput i) =>
        Dispatch(i).Where(t => t.RepliedAt is not null && t.RepliedAt <= i.Cutoff);

    private static KpiValue Average(IEnumerable<CallFact> calls, Func<CallFact, double> value)
    {
        double sum = 0;
        var n = 0;
        foreach (var c in calls)
        {
            sum += value(c);
            n++;
        }

        return KpiValue.Ratio(sum, n);
    }
}
