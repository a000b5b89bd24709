using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Spreadsheet;
using Hotline.Reports.Analysis;
using Hotline.Reports.Facts;
using Hotline.Reports.Kpi;
using static Hotline.Reports.Workbook.XCell;

namespace Hotline.Reports.Workbook;

/// <summary>
/// Writes the weekly public-opinion workbook (.xlsx) to a stream. Facts in, workbook out; the only I/O is
/// the given stream. Every part is written once with <see cref="OpenXmlWriter"/> (no DOM is kept per sheet).
/// </summary>
public static class WeeklyWorkbookWriter
{
    public static IReadOnlyList<string> SheetNames { get; } =
        ["总览", "诉求类型", "事项分类", "热点问题", "区域分布", "部门办理", "满意度", "重复与聚集预警", "突发与专项", "督办与超期", "分析与建议", "指标说明", "工单明细"];

    public static void Write(WeeklyFacts facts, Stream output, WeeklyReportOptions? options = null) =>
        Write(WeeklyReport.Build(facts, options), output);

    /// <summary>
    /// Writes the workbook to any writable stream (seekable or not: the zip is written forward-only).
    /// <paramref name="progress"/> gets the sheet being written and the fraction done (the detail sheet reports every
    /// 10,000 rows).
    /// </summary>
    public static void Write(WeeklyReport report, Stream output, IProgress<WorkbookProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(output);
        using (var package = new XlsxPackage(output))
        {
            package.Relate("", XlsxPackage.OfficeDocument, "xl/workbook.xml");
            package.Relate("", XlsxPackage.CoreRel, "docProps/core.xml");
            package.Write("docProps/core.xml", XlsxPackage.CoreType, CoreProperties(report));
            package.Relate(WorkbookPath, XlsxPackage.StylesRel, "styles.xml");
            using (var s = package.Create("xl/styles.xml", XlsxPackage.StylesType))
            {
                Styles.WriteTo(s);
            }

            var shared = new SharedStrings();
            var ctx = new Context(report, package, shared, progress);
            Action[] sheets =
            [
                ctx.Overview, ctx.Types, ctx.Categories, ctx.HotIssues, ctx.Regions, ctx.Units, ctx.Satisfaction,
                ctx.Alerts, ctx.Special, ctx.Supervision, ctx.Narrative, ctx.KpiNotes, ctx.Detail,
            ];
            foreach (var sheet in sheets)
            {
                sheet();
            }

            package.Relate(WorkbookPath, XlsxPackage.SharedStringsRel, "sharedStrings.xml");
            using (var s = package.Create("xl/sharedStrings.xml", XlsxPackage.SharedStringsType))
            {
                shared.WriteTo(s);
            }

            ctx.WriteWorkbook();
        }

        output.Flush();
        progress?.Report(new WorkbookProgress("完成", 1));
    }

    private const string WorkbookPath = "xl/workbook.xml";

    private static string CoreProperties(WeeklyReport r)
    {
        var title = System.Security.SecurityElement.Escape($"{r.Facts.CityName}12345热线{r.Period.Label}度民意分析（{r.Period}）");
        var created = r.Facts.Cutoff.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        return "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
            + "<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
            + "xmlns:dcterms=\"http://purl.org/dc/terms/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
            + $"<dc:title>{title}</dc:title><dc:creator>12345热线</dc:creator><dc:language>zh-CN</dc:language>"
            + $"<dcterms:created xsi:type=\"dcterms:W3CDTF\">{created}</dcterms:created></cp:coreProperties>";
    }

    private sealed class Context(WeeklyReport r, XlsxPackage package, SharedStrings shared, IProgress<WorkbookProgress>? progress)
    {
        private readonly List<(string Name, string Id, string? Filter)> sheets = [];
        private TimeSpan Tz => r.Facts.UtcOffset;
        private string PeriodNote => $"统计周期：{r.Period}（{r.Period.Label}报）；数据截至 {r.Facts.Cutoff.ToOffset(Tz):yyyy-MM-dd HH:mm}；个人信息已脱敏";

        public void WriteWorkbook()
        {
            var wb = new DocumentFormat.OpenXml.Spreadsheet.Workbook();
            wb.AddNamespaceDeclaration("r", "http://schemas.openxmlformats.org/officeDocument/2006/relationships");
            wb.Append(new BookViews(new WorkbookView { ActiveTab = 0 }));
            wb.Append(new Sheets(sheets.Select((s, i) => new Sheet { Name = s.Name, SheetId = (uint)(i + 1), Id = s.Id })));
            var names = sheets.Select((s, i) => (s, i)).Where(x => x.s.Filter is not null)
                .Select(x => new DefinedName($"'{x.s.Name}'!{Absolute(x.s.Filter!)}") { Name = "_xlnm._FilterDatabase", LocalSheetId = (uint)x.i, Hidden = true })
                .ToList();
            if (names.Count > 0)
            {
                wb.Append(new DefinedNames(names));
            }

            wb.Append(new CalculationProperties { CalculationId = 191029 });
            using var s = package.Create(WorkbookPath, XlsxPackage.WorkbookType);
            using var w = OpenXmlWriter.Create(s);
            w.WriteStartDocument();
            w.WriteElement(wb);
        }

        private static string Absolute(string range) =>
            string.Join(":", range.Split(':').Select(p =>
            {
                var col = new string(p.TakeWhile(char.IsLetter).ToArray());
                return $"${col}${p[col.Length..]}";
            }));

        private SheetWriter Sheet(string name, double[] widths, int frozenRows = 3)
        {
            progress?.Report(new WorkbookProgress(name, (double)sheets.Count / SheetNames.Count));
            var path = $"xl/worksheets/sheet{sheets.Count + 1}.xml";
            var sw = new SheetWriter(package.Create(path, XlsxPackage.WorksheetType), path, shared, widths, frozenRows, name);
            sheets.Add((name, package.Relate(WorkbookPath, XlsxPackage.WorksheetRel, path["xl/".Length..]), null));
            return sw;
        }

        private void Done(SheetWriter sw, params ChartSpec[] charts)
        {
            IReadOnlyList<(string Path, string ContentType, string Xml)> parts = [];
            if (charts.Length > 0)
            {
                (sw.DrawingId, parts) = Charts.Add(package, sw.Path, charts);
            }

            if (sw.AutoFilter is not null)
            {
                var i = sheets.FindIndex(s => s.Name == sw.Name);
                sheets[i] = sheets[i] with { Filter = sw.AutoFilter };
            }

            sw.Dispose();
            foreach (var (path, type, xml) in parts)
            {
                package.Write(path, type, xml);
            }
        }

        /// <summary>Fraction done while the detail sheet is written: it is most of the file.</summary>
        public void DetailProgress(int row, int total)
        {
            if (row % 10_000 == 0 && total > 0)
            {
                progress?.Report(new WorkbookProgress("工单明细", (SheetNames.Count - 1 + (double)row / total) / SheetNames.Count));
            }
        }

        private static void Band(SheetWriter sw, string range, string cell, KpiThreshold? t)
        {
            if (t is null)
            {
                return;
            }

            var v = $"ISNUMBER({cell})";
            string G(double x) => x.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            if (t.HigherIsBetter)
            {
                sw.Conditional(new ConditionalRule(range, $"AND({v},{cell}<{G(t.Bad)})", Styles.DxfRed));
                sw.Conditional(new ConditionalRule(range, $"AND({v},{cell}>={G(t.Bad)},{cell}<{G(t.Good)})", Styles.DxfYellow));
                sw.Conditional(new ConditionalRule(range, $"AND({v},{cell}>={G(t.Good)})", Styles.DxfGreen));
            }
            else
            {
                sw.Conditional(new ConditionalRule(range, $"AND({v},{cell}>{G(t.Bad)})", Styles.DxfRed));
                sw.Conditional(new ConditionalRule(range, $"AND({v},{cell}>{G(t.Good)},{cell}<={G(t.Bad)})", Styles.DxfYellow));
                sw.Conditional(new ConditionalRule(range, $"AND({v},{cell}<={G(t.Good)})", Styles.DxfGreen));
            }
        }

        private static XCell Kv(KpiDefinition k, KpiValue v) => k.Unit switch
        {
            KpiUnit.Percent => Pct(v.Value),
            KpiUnit.Seconds or KpiUnit.Hours => N(v.Value, Styles.Decimal),
            _ => N(v.Value, v.Denominator is null ? Styles.Integer : Styles.Decimal),
        };

        private static XCell Chg(double? current, double? before) =>
            N(current is { } c && before is > 0 ? (c - before.Value) / before.Value : null, Styles.Change);

        // ---- 总览 -----------------------------------------------------------------------------------------
        public void Overview()
        {
            var sw = Sheet("总览", [22, 14, 14, 12, 14, 12, 4, 12, 12, 12, 12]);
            sw.Title($"{r.Facts.CityName}12345热线{r.Period.Label}度民意分析 · 总览", PeriodNote);
            sw.Header("指标", "本期", "上期", "环比", "去年同期", "同比");
            var first = sw.RowIndex + 1;
            foreach (var row in r.Overview)
            {
                var k = row.Kpi;
                var ratio = k.Unit == KpiUnit.Percent;
                sw.Row(S(k.Name), Kv(k, row.Current), Kv(k, row.Previous),
                    ratio ? N(Delta(row.Current.Value, row.Previous.Value), Styles.Change) : Chg(row.Current.Value, row.Previous.Value),
                    Kv(k, row.LastYear),
                    ratio ? N(Delta(row.Current.Value, row.LastYear.Value), Styles.Change) : Chg(row.Current.Value, row.LastYear.Value));
                var cell = SheetWriter.Reference(1, sw.RowIndex);
                Band(sw, cell, cell, k.Threshold);
            }

            sw.AutoFilter = $"A3:F{sw.RowIndex}";
            sw.Row(T("注：比率类指标的“环比/同比”为百分点差；其余为相对变化。", Styles.Note));

            sw.Section("渠道分布");
            sw.Header("渠道", "本期", "占比", "上期", "环比", "去年同期");
            var total = r.Tickets.Count;
            foreach (var c in r.Channels)
            {
                sw.Row(S(c.Name), N(c.Current), Pct(total == 0 ? null : c.Current / total), N(c.Previous), Chg(c.Current, c.Previous), N(c.LastYear));
            }

            var onSpot = r.Tickets.Count(t => t.AnsweredOnTheSpot);
            sw.Section("受理方式");
            sw.Header("方式", "件数", "占比");
            sw.Row(S("直接办结"), N(onSpot), Pct(total == 0 ? null : (double)onSpot / total));
            sw.Row(S("派单办理"), N(total - onSpot), Pct(total == 0 ? null : (double)(total - onSpot) / total));

            sw.Section("每日走势");
            sw.Header("日期", "呼入量", "接通量", "工单量", "派单量");
            var d0 = sw.RowIndex + 1;
            foreach (var d in r.Daily)
            {
                sw.Row(S($"{d.Day:MM-dd}（{"日一二三四五六"[(int)d.Day.DayOfWeek]}）"), N(d.CallsOffered), N(d.CallsAnswered), N(d.Tickets), N(d.Dispatched));
            }

            var d1 = sw.RowIndex;
            var cats = r.Daily.Select(d => $"{d.Day:MM-dd}（{"日一二三四五六"[(int)d.Day.DayOfWeek]}）").ToList();
            ChartSeries Ser(int col, string name, Func<DailyRow, double> f) =>
                new(name, $"'总览'!${SheetWriter.Column(col)}${d0 - 1}", sw.Abs(col, d0, d1), r.Daily.Select(f).ToList());
            Done(sw, new ChartSpec(ChartKind.Line, "每日来电与工单走势", sw.Abs(0, d0, d1), cats,
                [Ser(1, "呼入量", d => d.CallsOffered), Ser(2, "接通量", d => d.CallsAnswered), Ser(3, "工单量", d => d.Tickets)],
                7, 2, 17, 22));
            _ = first;
        }

        private static double? Delta(double? a, double? b) => a is { } x && b is { } y ? x - y : null;

        // ---- 诉求类型 ---------------------------------------------------------------------------------------
        public void Types()
        {
            var sw = Sheet("诉求类型", [12, 12, 12, 12, 12, 12, 12, 12]);
            sw.Title("诉求类型分布", PeriodNote);
            sw.Header("诉求类型", "本期", "占比", "上期", "环比", "去年同期", "同比", "满意率");
            var first = sw.RowIndex + 1;
            var total = r.Tickets.Count;
            foreach (var (type, c, sat) in r.Types)
            {
                sw.Row(S(type.Name()), N(c.Current), Pct(total == 0 ? null : c.Current / total), N(c.Previous), Chg(c.Current, c.Previous), N(c.LastYear), Chg(c.Current, c.LastYear), Pct(sat.Value));
            }

            var last = sw.RowIndex;
            sw.AutoFilter = $"A3:H{last}";
            Band(sw, $"H{first}:H{last}", $"H{first}", KpiBook.SatisfactionRate.Threshold);
            Done(sw, new ChartSpec(ChartKind.Pie, "诉求类型占比", sw.Abs(0, first, last), r.Types.Select(t => t.Type.Name()).ToList(),
                [new ChartSeries("本期", "'诉求类型'!$B$3", sw.Abs(1, first, last), r.Types.Select(t => t.Counts.Current).ToList())], 9, 2, 17, 22));
        }

        // ---- 事项分类 ---------------------------------------------------------------------------------------
        public void Categories()
        {
            var sw = Sheet("事项分类", [16, 14, 10, 10, 10, 12, 10, 10, 12, 12, 12]);
            sw.Title("事项分类（一级分类及二级分类 Top " + r.Options.TopCategories + "）", PeriodNote);
            sw.Header("一级分类", "本期", "占比", "上期", "环比", "前四周均值", "较均值", "去年同期", "同比");
            var first = sw.RowIndex + 1;
            var total = r.Tickets.Count;
            foreach (var c in r.Categories1)
            {
                sw.Row(S(c.Name), N(c.Current), Pct(total == 0 ? null : c.Current / total), N(c.Previous), Chg(c.Current, c.Previous), N(c.Baseline, Styles.Decimal), Chg(c.Current, c.Baseline), N(c.LastYear), Chg(c.Current, c.LastYear));
            }

            var last = sw.RowIndex;
            sw.AutoFilter = $"A3:I{last}";
            var chart = new ChartSpec(ChartKind.BarClustered, "一级分类：本期与前四周均值", sw.Abs(0, first, last), r.Categories1.Select(c => c.Name).ToList(),
                [new ChartSeries("本期", "'事项分类'!$B$3", sw.Abs(1, first, last), r.Categories1.Select(c => c.Current).ToList()),
                 new ChartSeries("前四周均值", "'事项分类'!$F$3", sw.Abs(5, first, last), r.Categories1.Select(c => c.Baseline ?? 0).ToList())],
                11, 2, 20, 28);

            sw.Section("二级分类 Top " + r.Options.TopCategories + "（含异常上升检验）");
            sw.Header("一级分类", "二级分类", "分类代码", "本期", "占比", "前四周均值", "倍数", "z 值", "p 值", "去年同期", "异常上升");
            var f2 = sw.RowIndex + 1;
            foreach (var c in r.Categories2)
            {
                sw.Row(S(c.Category1), S(c.Category2), S(c.CodePrefix), N(c.Counts.Current), Pct(c.Share), N(c.Counts.Baseline, Styles.Decimal),
                    N(c.Rising?.Ratio, Styles.Decimal2), N(c.Rising?.Z, Styles.Decimal2), N(c.Rising?.PValue, Styles.Scientific), N(c.Counts.LastYear), S(c.Rising?.Alert == true ? "是" : "否"));
            }

            if (sw.RowIndex >= f2)
            {
                sw.Conditional(new ConditionalRule($"K{f2}:K{sw.RowIndex}", $"K{f2}=\"是\"", Styles.DxfRed));
            }

            Done(sw, chart);
        }

        // ---- 热点问题 ---------------------------------------------------------------------------------------
        public void HotIssues()
        {
            var sw = Sheet("热点问题", [6, 16, 9, 9, 9, 9, 9, 14, 9, 11, 9, 11, 60, 60]);
            sw.Title("热点问题（无分词 n-gram 发现：频次 + 凝聚度 PMI + 左右邻接熵）", PeriodNote);
            sw.Header("排名", "热词", "工单数", "词频", "凝聚度", "左熵", "右熵", "主要分类", "分类占比", "前四周均值", "倍数", "p 值", "代表性诉求1", "代表性诉求2");
            var rank = 0;
            foreach (var t in r.HotTerms)
            {
                var h = t.Term;
                sw.Row(N(++rank), T(h.Term), N(h.Documents), N(h.Frequency), N(h.Pmi, Styles.Decimal2), N(h.LeftEntropy, Styles.Decimal2), N(h.RightEntropy, Styles.Decimal2),
                    S(h.Category ?? "（多类）"), Pct(h.CategoryShare), N(t.Rising.Baseline, Styles.Decimal), N(t.Rising.Ratio, Styles.Decimal2), N(t.Rising.PValue, Styles.Scientific),
                    T(t.Examples.ElementAtOrDefault(0)), T(t.Examples.ElementAtOrDefault(1)));
            }

            sw.AutoFilter = $"A3:N{Math.Max(3, sw.RowIndex)}";
            sw.Section("异常上升（相对前四周：Poisson 上尾 p 值，Bonferroni 校正 α=" + r.Options.Rising.Alpha + "）");
            sw.Header("类别", "名称", "本期", "前四周", "前四周均值", "去年同期", "倍数", "z 值", "p 值", "预警");
            var f = sw.RowIndex + 1;
            foreach (var x in r.Rising.Where(x => x.Current >= r.Options.Rising.MinCount).Take(60))
            {
                sw.Row(S(x.Kind == RisingKind.Term ? "热词" : "分类"), T(x.Name), N(x.Current), T(string.Join("/", x.Previous)), N(x.Baseline, Styles.Decimal), N(x.LastYear),
                    N(x.Ratio, Styles.Decimal2), N(x.Z, Styles.Decimal2), N(x.PValue, Styles.Scientific), S(x.Alert ? "异常上升" : ""));
            }

            if (sw.RowIndex >= f)
            {
                sw.Conditional(new ConditionalRule($"J{f}:J{sw.RowIndex}", $"J{f}=\"异常上升\"", Styles.DxfRed));
            }

            Done(sw);
        }

        // ---- 区域分布 ---------------------------------------------------------------------------------------
        public void Regions()
        {
            var sw = Sheet("区域分布", [12, 10, 10, 10, 10, 12, 12, 12, 10, 10]);
            sw.Title("区域分布", PeriodNote);
            sw.Header("区", "本期", "占比", "上期", "环比", "常住人口(万)", "每万人工单", "投诉举报", "满意率", "超期");
            var first = sw.RowIndex + 1;
            var total = r.Tickets.Count;
            foreach (var d in r.Districts)
            {
                sw.Row(S(d.District), N(d.Counts.Current), Pct(total == 0 ? null : d.Counts.Current / total), N(d.Counts.Previous), Chg(d.Counts.Current, d.Counts.Previous),
                    N(d.Residents / 10_000.0, Styles.Decimal), N(d.Per10k, Styles.Decimal2), N(d.ComplaintsAndReports), Pct(d.Satisfaction.Value), N(d.Overdue));
            }

            var last = sw.RowIndex;
            sw.AutoFilter = $"A3:J{last}";
            if (last >= first)
            {
                Band(sw, $"I{first}:I{last}", $"I{first}", KpiBook.SatisfactionRate.Threshold);
            }

            var chart = new ChartSpec(ChartKind.ColumnClustered, "各区工单量：本期与上期", sw.Abs(0, first, last), r.Districts.Select(d => d.District).ToList(),
                [new ChartSeries("本期", "'区域分布'!$B$3", sw.Abs(1, first, last), r.Districts.Select(d => d.Counts.Current).ToList()),
                 new ChartSeries("上期", "'区域分布'!$D$3", sw.Abs(3, first, last), r.Districts.Select(d => d.Counts.Previous ?? 0).ToList())],
                11, 2, 21, 22);

            sw.Section("街镇 Top 20");
            sw.Header("区", "街镇", "工单量");
            foreach (var (district, town, count) in r.Towns)
            {
                sw.Row(S(district), S(town), N(count));
            }

            Done(sw, chart);
        }

        // ---- 部门办理 ---------------------------------------------------------------------------------------
        public void Units()
        {
            var kpis = KpiBook.UnitKpis;
            var sw = Sheet("部门办理", [30, 10, .. kpis.Select(_ => 11.0), 10, 10]);
            sw.Title("承办单位办理情况（按组排名，权重见“指标说明”）", PeriodNote);
            sw.Header(["单位", "类别", .. kpis.Select(k => k.Name), "综合得分", "组内排名"]);
            var first = sw.RowIndex + 1;
            foreach (var u in r.Units.Units)
            {
                sw.Row([S(u.Unit.Name), S(u.Unit.PeerGroup.Name()), .. kpis.Select(k => Kv(k, u[k])), N(u.Score, Styles.Decimal), u.Rank is { } rank ? T($"{rank}/{u.RankedInGroup}") : T("样本不足")]);
            }

            var last = sw.RowIndex;
            var lastCol = SheetWriter.Column(kpis.Count + 3);
            sw.AutoFilter = $"A3:{lastCol}{last}";
            if (last >= first)
            {
                for (var i = 0; i < kpis.Count; i++)
                {
                    var col = SheetWriter.Column(i + 2);
                    Band(sw, $"{col}{first}:{col}{last}", $"{col}{first}", kpis[i].Threshold);
                }
            }

            void List(string title, IReadOnlyList<UnitScore> list)
            {
                sw.Section(title);
                sw.Header("类别", "单位", "组内排名", "综合得分", "按期办结率", "满意率", "超期件数");
                foreach (var u in list)
                {
                    sw.Row(S(u.Unit.PeerGroup.Name()), S(u.Unit.Name), T($"{u.Rank}/{u.RankedInGroup}"), N(u.Score, Styles.Decimal), Pct(u[KpiBook.OnTimeCompletion].Value), Pct(u[KpiBook.SatisfactionRate].Value), N(u[KpiBook.Overdue].Value));
                }
            }

            List("红榜（各组前列）", r.Units.RedList);
            List("黑榜（各组末位）", r.Units.BlackList);
            Done(sw);
        }

        // ---- 满意度 -----------------------------------------------------------------------------------------
        public void Satisfaction()
        {
            var sw = Sheet("满意度", [16, 10, 10, 4, 16, 10, 10]);
            sw.Title("回访满意度", PeriodNote);
            sw.Header("评价", "件数", "占比");
            var first = sw.RowIndex + 1;
            var rated = r.SatisfactionCounts.Sum(s => s.Count);
            foreach (var (name, count) in r.SatisfactionCounts)
            {
                sw.Row(S(name), N(count), Pct(rated == 0 ? null : (double)count / rated));
            }

            var last = sw.RowIndex;
            sw.AutoFilter = $"A3:C{last}";
            var sat = r.Kpi(KpiBook.SatisfactionRate).Current;
            sw.Row(S("满意率"), N(sat.Numerator), Pct(sat.Value));
            Band(sw, $"C{sw.RowIndex}", $"C{sw.RowIndex}", KpiBook.SatisfactionRate.Threshold);
            var chart = new ChartSpec(ChartKind.Doughnut, "回访评价构成", sw.Abs(0, first, last), r.SatisfactionCounts.Select(s => s.Name).ToList(),
                [new ChartSeries("件数", "'满意度'!$B$3", sw.Abs(1, first, last), r.SatisfactionCounts.Select(s => (double)s.Count).ToList())], 8, 2, 16, 20);

            sw.Section("不满意原因");
            sw.Header("原因", "件数", "占比");
            var unhappy = r.UnsatisfiedReasons.Sum(x => x.Count);
            foreach (var (reason, count) in r.UnsatisfiedReasons)
            {
                sw.Row(S(reason), N(count), Pct(unhappy == 0 ? null : (double)count / unhappy));
            }

            sw.Section("分类型满意率");
            sw.Header("诉求类型", "有效回访", "满意率");
            foreach (var (type, _, s) in r.Types)
            {
                sw.Row(S(type.Name()), N(s.Denominator), Pct(s.Value));
            }

            sw.Section("分区满意率");
            sw.Header("区", "有效回访", "满意率");
            foreach (var d in r.Districts)
            {
                sw.Row(S(d.District), N(d.Satisfaction.Denominator), Pct(d.Satisfaction.Value));
            }

            Done(sw, chart);
        }

        // ---- 重复与聚集预警 ---------------------------------------------------------------------------------
        public void Alerts()
        {
            var o = r.Options.Clusters;
            var sw = Sheet("重复与聚集预警", [30, 10, 8, 17, 17, 10, 24, 60]);
            sw.Title("重复来电与聚集性诉求预警", $"{PeriodNote}；聚集：{o.Window.TotalHours:0} 小时内同一地点/对象 ≥{o.MinTickets} 件；重复来电：同一号码 ≥{o.RepeatCallerMinContacts} 次");
            sw.Header("地点/对象", "所属区", "件数", "首件时间", "末件时间", "时长(小时)", "主要分类", "工单编号");
            foreach (var c in r.Clusters)
            {
                sw.Row(T(c.Place), S(c.District), N(c.Count), Dt(c.First, Tz), Dt(c.Last, Tz), N((c.Last - c.First).TotalHours, Styles.Decimal), S(c.MainCategory),
                    T(string.Join("、", c.Tickets.Select(t => t.Number).Take(30))));
            }

            if (r.Clusters.Count == 0)
            {
                sw.Row(T("本期未发现聚集性诉求", Styles.Note));
            }

            sw.AutoFilter = $"A3:H{sw.RowIndex}";
            sw.Section("重复来电");
            sw.Header("来电人（号码哈希前8位）", "次数", "", "首次", "末次", "", "涉及分类", "工单编号");
            foreach (var c in r.RepeatCallers)
            {
                sw.Row(T(c.PhoneHash.Length > 8 ? c.PhoneHash[..8] : c.PhoneHash), N(c.Contacts), Empty, Dt(c.First, Tz), Dt(c.Last, Tz), Empty,
                    T(string.Join("、", c.Categories)), T(string.Join("、", c.Tickets.Select(t => t.Number).Take(30))));
            }

            Done(sw);
        }

        // ---- 突发与专项 -------------------------------------------------------------------------------------
        public void Special()
        {
            var sw = Sheet("突发与专项", [16, 30, 10, 10, 12, 10, 10, 60]);
            sw.Title("突发事件与季节性、专项诉求", PeriodNote);
            sw.Header("专题", "关键词", "本期", "上期", "前四周均值", "较均值", "去年同期", "说明");
            foreach (var s in r.SpecialTopics)
            {
                sw.Row(S(s.Name), T(s.Keywords), N(s.Counts.Current), N(s.Counts.Previous), N(s.Counts.Baseline, Styles.Decimal), Chg(s.Counts.Current, s.Counts.Baseline), N(s.Counts.LastYear), T("诉求摘要含任一关键词"));
            }

            sw.AutoFilter = $"A3:H{sw.RowIndex}";
            sw.Section($"“突发与专项”分类及特急工单（最多 {r.Options.MaxListedTickets} 件）");
            sw.Header("工单编号", "登记时间", "区", "街镇", "紧急程度", "二级分类", "三级分类", "诉求摘要");
            foreach (var t in r.SpecialTickets)
            {
                sw.Row(T(t.Number), Dt(t.RegisteredAt, Tz), S(t.District), S(t.Town), S(t.Urgency.Name()), S(t.Category2), S(t.Category3), T(Masking.Text(t.Summary)));
            }

            Done(sw);
        }

        // ---- 督办与超期 -------------------------------------------------------------------------------------
        public void Supervision()
        {
            var sw = Sheet("督办与超期", [18, 28, 16, 17, 17, 10, 10, 10, 10]);
            sw.Title("督办与超期", PeriodNote);
            sw.Header("督办级别", "件数");
            foreach (var (level, count) in r.Supervision)
            {
                sw.Row(S(level.Name()), N(count));
            }

            sw.Row(S("超期工单"), N(r.Tickets.Count(t => t.IsOverdue)));
            sw.AutoFilter = $"A3:B{sw.RowIndex}";
            var units = r.Facts.Units.ToDictionary(u => u.Id, u => u.Name, StringComparer.Ordinal);
            sw.Section("超期或督办工单（按督办级别、答复期限）");
            sw.Header("工单编号", "承办单位", "二级分类", "答复期限", "答复时间", "是否超期", "督办级别", "退回次数", "延期次数");
            var f = sw.RowIndex + 1;
            foreach (var t in r.OverdueTickets)
            {
                sw.Row(T(t.Number), S(t.MainUnitId is null ? "" : units.GetValueOrDefault(t.MainUnitId, t.MainUnitId)), S(t.Category2), Dt(t.ReplyDeadline, Tz), Dt(t.RepliedAt, Tz),
                    S(t.IsOverdue ? "是" : "否"), S(t.Supervision.Name()), N(t.ReturnCount), N(t.ExtensionCount));
            }

            if (sw.RowIndex >= f)
            {
                sw.Conditional(new ConditionalRule($"G{f}:G{sw.RowIndex}", $"G{f}=\"红牌督办\"", Styles.DxfRed));
                sw.Conditional(new ConditionalRule($"G{f}:G{sw.RowIndex}", $"G{f}=\"黄牌督办\"", Styles.DxfYellow));
            }

            Done(sw);
        }

        // ---- 分析与建议 -------------------------------------------------------------------------------------
        public void Narrative()
        {
            var sw = Sheet("分析与建议", [120], frozenRows: 2);
            sw.Title($"{r.Facts.CityName}12345热线{r.Period.Label}度民意分析报告", PeriodNote);
            foreach (var line in r.Narrative)
            {
                var heading = line.Length < 12 && line.Contains('、', StringComparison.Ordinal);
                sw.Row([T(line, heading ? Styles.Section : Styles.Wrap)], heading ? 22 : Math.Max(18, 18 * Math.Ceiling(line.Length / 60.0)));
            }

            Done(sw);
        }

        // ---- 指标说明 ---------------------------------------------------------------------------------------
        public void KpiNotes()
        {
            var sw = Sheet("指标说明", [18, 24, 40, 40, 44, 10, 26, 10]);
            sw.Title("指标口径说明（每个指标只在 KpiBook 中定义一次，此表由定义生成）", PeriodNote);
            sw.Header("指标", "标识", "分子（口径）", "分母", "排除项", "单位", "预警阈值", "得分权重");
            var weights = r.Options.UnitScores.Weights;
            foreach (var k in KpiBook.All)
            {
                sw.Row([T(k.Name), T(k.Id), T(k.Numerator, Styles.Wrap), T(k.Denominator, Styles.Wrap), T(k.Exclusions, Styles.Wrap),
                    S(k.Unit switch { KpiUnit.Percent => "%", KpiUnit.Seconds => "秒", KpiUnit.Hours => "小时", _ => "件/个" }), T(k.Threshold?.Describe(k.Unit) ?? "—"),
                    weights.TryGetValue(k.Id, out var wgt) ? N(wgt, Styles.Decimal2) : Empty], 33);
            }

            sw.AutoFilter = $"A3:H{sw.RowIndex}";
            sw.Section("其他口径");
            string[] notes =
            [
                $"综合得分 = 100 × Σ(权重 × 指标) / Σ权重；退回率、重办率以 (1 − 比率) 计入；派单少于 {r.Options.UnitScores.MinTicketsToRank} 件的单位不参与排名；各组（区/街镇/市直部门）分别排名，并列同名次。",
                $"红榜/黑榜：各组排名前/后 {r.Options.UnitScores.ListSize} 名（组内参排单位不足时取半数）。",
                "热词：汉字 n-gram（2–6 字，Apriori 剪枝），要求出现工单数 ≥ " + r.Options.HotTerms.MinDocuments + "、最弱切分点互信息 PMI ≥ " + r.Options.HotTerms.MinPmi
                    + "、左右邻接熵 ≥ " + r.Options.HotTerms.MinBoundaryEntropy + "；去除停用短语、地名（工单自身的区/街镇/地点）及被更长热词覆盖的子串；某一分类占比 ≥ " + r.Options.HotTerms.CategoryShare.ToString("0%", System.Globalization.CultureInfo.InvariantCulture) + " 时映射到该分类。",
                $"异常上升：基线 λ = 前四周均值（下限 {r.Options.Rising.BaselineFloor}），p = P(X ≥ 本期 | Poisson(λ))，z = (本期 − λ)/√λ；p < α/检验数（α = {r.Options.Rising.Alpha}）且本期 ≥ {r.Options.Rising.MinCount} 件且 ≥ {r.Options.Rising.MinRatio} 倍时预警。",
                "比较口径：上期 = 紧邻的前一个同长度周期；前四周均值 = 前四个同长度周期的平均；去年同期 = 周报回退 52 周（364 天）对齐星期，其余回退一年。",
                "个人信息：来电号码显示为 138****5678；诉求摘要中的手机号和身份证号统一脱敏。",
            ];
            foreach (var n in notes)
            {
                sw.Row([T(n, Styles.Wrap)], 36);
                sw.Merge($"A{sw.RowIndex}:H{sw.RowIndex}");
            }

            Done(sw);
        }

        // ---- 工单明细 ---------------------------------------------------------------------------------------
        public void Detail()
        {
            string[] headers =
            [
                "工单编号", "登记时间", "渠道", "诉求类型", "分类代码", "一级分类", "二级分类", "三级分类", "区", "街镇", "紧急程度", "来电号码", "诉求摘要",
                "主办单位", "直接办结", "派单时间", "签收时间", "签收期限", "答复时间", "答复期限", "办理结果", "退回次数", "延期次数", "重办次数", "办结时间",
                "满意度", "不满意原因", "督办级别", "是否超期", "标签",
            ];
            double[] widths = [16, 17, 8, 9, 9, 14, 12, 14, 9, 11, 9, 14, 60, 26, 9, 17, 17, 17, 17, 17, 11, 9, 9, 9, 17, 10, 14, 10, 9, 12];
            var sw = Sheet("工单明细", widths, frozenRows: 3);
            sw.Title("工单明细（每件一行，个人信息已脱敏）", PeriodNote);
            sw.Header(headers);
            var units = r.Facts.Units.ToDictionary(u => u.Id, u => u.Name, StringComparer.Ordinal);
            var cells = new XCell[headers.Length];
            var n = 0;
            var inline = r.Options.DetailStrings == DetailSheetStrings.Inline;
            XCell S(string? text) => inline ? T(text) : XCell.S(text);
            foreach (var t in r.Tickets.OrderBy(t => t.RegisteredAt))
            {
                DetailProgress(++n, r.Tickets.Count);
                cells[0] = T(t.Number);
                cells[1] = Dt(t.RegisteredAt, Tz);
                cells[2] = S(t.Channel);
                cells[3] = S(t.Type.Name());
                cells[4] = S(t.CategoryCode);
                cells[5] = S(t.Category1);
                cells[6] = S(t.Category2);
                cells[7] = S(t.Category3);
                cells[8] = S(t.District);
                cells[9] = S(t.Town);
                cells[10] = S(t.Urgency.Name());
                cells[11] = T(Masking.Phone(t.CallerPhone));
                cells[12] = T(Masking.Text(t.Summary));
                cells[13] = S(t.MainUnitId is null ? "" : units.GetValueOrDefault(t.MainUnitId, t.MainUnitId));
                cells[14] = S(t.AnsweredOnTheSpot ? "是" : "否");
                cells[15] = Dt(t.DispatchedAt, Tz);
                cells[16] = Dt(t.SignedForAt, Tz);
                cells[17] = Dt(t.SignForDeadline, Tz);
                cells[18] = Dt(t.RepliedAt, Tz);
                cells[19] = Dt(t.ReplyDeadline, Tz);
                cells[20] = S(t.ReplyResult?.Name() ?? "");
                cells[21] = N(t.ReturnCount);
                cells[22] = N(t.ExtensionCount);
                cells[23] = N(t.ReHandlingCount);
                cells[24] = Dt(t.ClosedAt, Tz);
                cells[25] = S(t.Satisfaction?.Name() ?? "");
                cells[26] = S(t.UnsatisfiedReason ?? "");
                cells[27] = S(t.Supervision.Name());
                cells[28] = S(t.IsOverdue ? "是" : "否");
                cells[29] = S(string.Join("、", t.Tags));
                sw.Row(cells);
            }

            sw.AutoFilter = $"A3:{SheetWriter.Column(headers.Length - 1)}{Math.Max(3, sw.RowIndex)}";
            sw.Conditional(new ConditionalRule($"AC4:AC{Math.Max(4, sw.RowIndex)}", "AC4=\"是\"", Styles.DxfRed));
            Done(sw);
        }
    }
}

/// <summary>Where the writer is: the sheet being written and the fraction of the workbook done (0–1).</summary>
public sealed record WorkbookProgress(string Stage, double Fraction);
