using System.Globalization;
using Hotline.Reports.Facts;
using Hotline.Reports.Kpi;

namespace Hotline.Reports.Analysis;

/// <summary>The 分析与建议 sheet: short Chinese paragraphs for leadership, every claim with its number.</summary>
public static class Narrative
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static IReadOnlyList<string> Write(WeeklyReport r)
    {
        var lines = new List<string>();
        var p = r.Period;
        var calls = r.Kpi(KpiBook.CallsOffered);
        var answer = r.Kpi(KpiBook.AnswerRate);
        var total = r.Kpi(KpiBook.TicketsTotal);
        var daily = r.Kpi(KpiBook.DailyAverage);
        var spot = r.Kpi(KpiBook.OnTheSpotRate);
        var target = KpiBook.AnswerRate.Threshold!.Good;

        lines.Add("一、总体情况");
        lines.Add($"{p}，{r.Facts.CityName}12345热线共受理人工来电{N(calls.Current.Value)}个（环比{Change(calls.Current.Value, calls.Previous.Value)}），"
                  + $"接通率{Pct(answer.Current.Value)}（目标≥{Pct(target)}，{(answer.Current.Value >= target ? "达标" : "未达标")}），"
                  + $"15秒接通率{Pct(r.Kpi(KpiBook.ServiceLevel15).Current.Value)}，呼损率{Pct(r.Kpi(KpiBook.AbandonRate).Current.Value)}，"
                  + $"平均等待{N1(r.Kpi(KpiBook.AverageWait).Current.Value)}秒。"
                  + $"共登记工单{N(total.Current.Value)}件（环比{Change(total.Current.Value, total.Previous.Value)}，同比{Change(total.Current.Value, total.LastYear.Value)}），"
                  + $"日均{N1(daily.Current.Value)}件，直接办结率{Pct(spot.Current.Value)}。");

        if (r.Channels.Count > 0)
        {
            lines.Add("渠道分布：" + string.Join("，", r.Channels.Take(4).Select(c => $"{c.Name}{N(c.Current)}件（{Pct(Share(c.Current, total.Current.Value))}）")) + "。");
        }

        lines.Add("二、诉求类型");
        var types = r.Types.Where(t => t.Counts.Current > 0).OrderByDescending(t => t.Counts.Current).ToList();
        var complaints = r.Types.Where(t => t.Type is TicketType.Complaint or TicketType.Report).Sum(t => t.Counts.Current);
        lines.Add("本期" + string.Join("，", types.Select(t => $"{t.Type.Name()}{N(t.Counts.Current)}件（{Pct(Share(t.Counts.Current, total.Current.Value))}，环比{Change(t.Counts.Current, t.Counts.Previous)}）"))
                  + $"；投诉举报合计{N(complaints)}件，占{Pct(Share(complaints, total.Current.Value))}。");

        lines.Add("三、事项分类与热点");
        if (r.Categories1.Count > 0)
        {
            lines.Add("诉求量居前的一级分类为" + string.Join("、", r.Categories1.Take(5).Select(c => $"{c.Name}（{N(c.Current)}件，较前四周均值{Change(c.Current, c.Baseline)}）")) + "。");
        }

        var risingCats = r.Rising.Where(x => x.Alert && x.Kind == RisingKind.Category).ToList();
        var risingTerms = r.Rising.Where(x => x.Alert && x.Kind == RisingKind.Term).ToList();
        lines.Add(risingCats.Count == 0
            ? "与前四周相比，各二级分类未出现统计上显著的异常上升。"
            : "异常上升的分类：" + string.Join("；", risingCats.Select(Describe)) + "。");
        var falling = r.Categories2.Where(c => c.Counts.Baseline >= 10).OrderBy(c => c.Counts.Current / c.Counts.Baseline!.Value).FirstOrDefault();
        if (falling is not null && falling.Counts.Current < falling.Counts.Baseline)
        {
            lines.Add($"下降最明显的是{falling.Category1}/{falling.Category2}：本期{N(falling.Counts.Current)}件，前四周均值{N1(falling.Counts.Baseline)}件（{Change(falling.Counts.Current, falling.Counts.Baseline)}）。");
        }

        if (r.HotTerms.Count > 0)
        {
            lines.Add("热点问题集中在" + string.Join("、", r.HotTerms.Take(5).Select(t => $"“{t.Term.Term}”（{t.Term.Documents}件{(t.Term.Category is null ? "" : "，主要涉及" + t.Term.Category)}）")) + "。");
        }

        lines.Add(risingTerms.Count == 0 ? "热词未出现显著异常上升。" : "新出现或显著上升的热词：" + string.Join("；", risingTerms.Select(Describe)) + "。");

        lines.Add("四、区域分布");
        if (r.Districts.Count > 0)
        {
            var top = r.Districts[0];
            var dense = r.Districts.Where(d => d.Per10k is not null).OrderByDescending(d => d.Per10k).FirstOrDefault();
            var up = r.Districts.Where(d => d.Counts.Previous >= 10).OrderByDescending(d => d.Counts.WeekOnWeek).FirstOrDefault();
            lines.Add($"工单量最多的是{top.District}（{N(top.Counts.Current)}件，占{Pct(Share(top.Counts.Current, total.Current.Value))}）"
                      + (dense is null ? "" : $"；每万人工单量最高的是{dense.District}（{N1(dense.Per10k)}件/万人）")
                      + (up is null ? "" : $"；环比变化最大的是{up.District}（{Change(up.Counts.Current, up.Counts.Previous)}）") + "。");
        }

        lines.Add("五、部门办理");
        var all = KpiInput.ForTickets(r.Tickets, r.Facts.Cutoff, r.Options.Kpi);
        lines.Add($"本期派单{N(KpiBook.Dispatched.Of(all).Value)}件，按时签收率{Pct(KpiBook.OnTimeSignFor.Of(all).Value)}，按期办结率{Pct(KpiBook.OnTimeCompletion.Of(all).Value)}，"
                  + $"办结率{Pct(KpiBook.CompletionRate.Of(all).Value)}，退回率{Pct(KpiBook.ReturnRate.Of(all).Value)}，重办率{Pct(KpiBook.ReHandlingRate.Of(all).Value)}，"
                  + $"回访率{Pct(KpiBook.CallbackRate.Of(all).Value)}，超期{N(KpiBook.Overdue.Of(all).Value)}件。");
        if (r.Units.BlackList.Count > 0)
        {
            lines.Add("各组排名靠后的单位：" + string.Join("；", r.Units.BlackList.Select(u =>
                $"{u.Unit.Name}（{u.Unit.PeerGroup.Name()}组第{u.Rank}/{u.RankedInGroup}名，得分{N1(u.Score)}，按期办结率{Pct(u[KpiBook.OnTimeCompletion].Value)}，满意率{Pct(u[KpiBook.SatisfactionRate].Value)}）")) + "。");
        }

        if (r.Units.RedList.Count > 0)
        {
            lines.Add("表现较好的单位：" + string.Join("、", r.Units.RedList.Select(u => $"{u.Unit.Name}（{N1(u.Score)}分）")) + "。");
        }

        lines.Add("六、满意度");
        var sat = r.Kpi(KpiBook.SatisfactionRate);
        lines.Add($"有效回访{N(sat.Current.Denominator)}件，满意率{Pct(sat.Current.Value)}（上期{Pct(sat.Previous.Value)}）"
                  + (r.UnsatisfiedReasons.Count == 0 ? "。" : "，不满意的主要原因：" + string.Join("、", r.UnsatisfiedReasons.Take(3).Select(x => $"{x.Reason}{x.Count}件")) + "。"));

        lines.Add("七、预警与督办");
        lines.Add(r.Clusters.Count == 0
            ? $"未发现{r.Options.Clusters.Window.TotalHours:0}小时内同一地点≥{r.Options.Clusters.MinTickets}件的聚集性诉求。"
            : $"发现聚集性诉求{r.Clusters.Count}处：" + string.Join("；", r.Clusters.Take(5).Select(c => $"{c.Place}（{c.Count}件，{c.First:MM-dd HH:mm}至{c.Last:MM-dd HH:mm}，{c.MainCategory}）")) + "。");
        lines.Add($"同一来电人本期来电≥{r.Options.Clusters.RepeatCallerMinContacts}次的重复来电{r.RepeatCallers.Count}人。"
                  + $"超期工单{r.OverdueTickets.Count(t => t.IsOverdue)}件，督办" + string.Join("、", r.Supervision.Select(s => $"{s.Level.Name()}{s.Count}件")) + "。");

        lines.Add("八、工作建议");
        var n = 1;
        foreach (var x in risingCats.Concat(risingTerms).Take(5))
        {
            lines.Add($"{n++}. 针对“{x.Name}”异常上升（本期{x.Current}件，为前四周均值的{x.Ratio:0.0}倍），建议责任单位排查原因，必要时发布政策解读或专项答复口径。");
        }

        foreach (var c in r.Clusters.Take(3))
        {
            lines.Add($"{n++}. {c.Place}短时间内集中反映{c.Count}件（{c.MainCategory}），建议属地{c.District}组织现场核查并向来电人统一答复。");
        }

        foreach (var u in r.Units.BlackList.Take(3))
        {
            lines.Add($"{n++}. 对{u.Unit.Name}加强催办督办，重点提升按期办结率（{Pct(u[KpiBook.OnTimeCompletion].Value)}）和满意率（{Pct(u[KpiBook.SatisfactionRate].Value)}）。");
        }

        if (answer.Current.Value < target)
        {
            lines.Add($"{n++}. 接通率{Pct(answer.Current.Value)}低于{Pct(target)}目标，建议在来电高峰时段增加坐席排班，并开启长等待回拨。");
        }

        if (n == 1)
        {
            lines.Add("1. 本期各项指标平稳，建议保持现有工作节奏，持续关注季节性诉求。");
        }

        return lines;
    }

    internal static string Describe(RisingItem x) =>
        $"{x.Name}（本期{x.Current}件，前四周均值{x.Baseline:0.0}件，{x.Ratio:0.0}倍，z={x.Z:0.0}，p={P(x.PValue)}）";

    internal static string P(double p) => p < 0.0001 ? p.ToString("0.0E+0", Inv) : p.ToString("0.0000", Inv);

    private static double? Share(double part, double? whole) => whole is > 0 ? part / whole : null;

    private static string Pct(double? v) => v is { } x ? (x * 100).ToString("0.0", Inv) + "%" : "—";

    private static string N(double? v) => v is { } x ? x.ToString("#,##0", Inv) : "—";

    private static string N1(double? v) => v is { } x ? x.ToString("0.0", Inv) : "—";

    private static string Change(double? current, double? before)
    {
        if (current is null || before is not > 0)
        {
            return "无可比数据";
        }

        var c = (current.Value - before.Value) / before.Value;
        return Math.Abs(c) < 0.0005 ? "持平" : (c > 0 ? "上升" : "下降") + Pct(Math.Abs(c));
    }
}
