using System.Diagnostics;
using System.Text.RegularExpressions;
using DocumentFormat.OpenXml.Drawing.Charts;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Hotline.Reports.Demo;
using Hotline.Reports.Facts;
using Hotline.Reports.Workbook;

namespace Hotline.Reports.Tests;

public sealed partial class WorkbookTests : IClassFixture<WorkbookTests.Generated>
{
    private readonly Generated g;

    public WorkbookTests(Generated generated) => g = generated;

    public sealed class Generated
    {
        public Generated()
        {
            Facts = DemoWeekGenerator.Generate(new DateOnly(2025, 5, 12), 600, 5,
                new DemoOptions { Topic = new PlantedTopic("电动车充电桩", 30), Cluster = new PlantedCluster(), RawPhoneInTextShare = 0.2 });
            var ms = new MemoryStream();
            WeeklyWorkbookWriter.Write(Facts, ms);
            Bytes = ms.ToArray();
        }

        public WeeklyFacts Facts { get; }
        public byte[] Bytes { get; }

        public SpreadsheetDocument Open() => SpreadsheetDocument.Open(new MemoryStream(Bytes), false);
    }

    private static WorksheetPart Part(SpreadsheetDocument doc, string name)
    {
        var sheet = doc.WorkbookPart!.Workbook.Sheets!.Elements<Sheet>().Single(s => s.Name == name);
        return (WorksheetPart)doc.WorkbookPart.GetPartById(sheet.Id!);
    }

    private static string CellText(Cell c, SharedStringTable? sst) =>
        c.DataType?.Value == CellValues.SharedString ? sst!.ElementAt(int.Parse(c.CellValue!.Text, System.Globalization.CultureInfo.InvariantCulture)).InnerText
        : c.DataType?.Value == CellValues.InlineString ? c.InlineString!.InnerText
        : c.CellValue?.Text ?? "";

    [Fact]
    public void Workbook_has_the_zh_sheets_in_order()
    {
        using var doc = g.Open();
        var names = doc.WorkbookPart!.Workbook.Sheets!.Elements<Sheet>().Select(s => s.Name!.Value).ToList();
        Assert.Equal(["总览", "诉求类型", "事项分类", "热点问题", "区域分布", "部门办理", "满意度", "重复与聚集预警", "突发与专项", "督办与超期", "分析与建议", "指标说明", "工单明细"], names);
    }

    [Theory]
    [InlineData("总览", typeof(LineChart))]
    [InlineData("事项分类", typeof(BarChart))]
    [InlineData("区域分布", typeof(BarChart))]
    [InlineData("诉求类型", typeof(PieChart))]
    [InlineData("满意度", typeof(DoughnutChart))]
    public void Native_chart_of_the_right_type_is_on_the_right_sheet(string sheet, Type chartType)
    {
        using var doc = g.Open();
        var part = Part(doc, sheet);

        Assert.NotNull(part.DrawingsPart);
        var charts = part.DrawingsPart!.ChartParts.ToList();
        var chart = Assert.Single(charts);
        var plot = chart.ChartSpace.GetFirstChild<Chart>()!.PlotArea!;
        Assert.Single(plot.ChildElements, e => e.GetType() == chartType);
        Assert.NotNull(part.Worksheet.GetFirstChild<DocumentFormat.OpenXml.Spreadsheet.Drawing>());
        if (chartType == typeof(BarChart))
        {
            Assert.Equal(BarGroupingValues.Clustered, plot.GetFirstChild<BarChart>()!.GetFirstChild<BarGrouping>()!.Val!.Value);
        }
    }

    [Fact]
    public void Sheets_without_charts_have_no_drawing()
    {
        using var doc = g.Open();
        Assert.Null(Part(doc, "工单明细").DrawingsPart);
        Assert.Null(Part(doc, "部门办理").DrawingsPart);
    }

    [Fact]
    public void Detail_sheet_has_one_row_per_ticket_with_frozen_header_and_autofilter()
    {
        using var doc = g.Open();
        var ws = Part(doc, "工单明细").Worksheet;
        var rows = ws.GetFirstChild<SheetData>()!.Elements<Row>().ToList();
        var tickets = g.Facts.TicketsIn(g.Facts.Period).Count;

        Assert.Equal(tickets, rows.Count - 3); // title, note, header
        var pane = ws.GetFirstChild<SheetViews>()!.GetFirstChild<SheetView>()!.GetFirstChild<Pane>()!;
        Assert.Equal(PaneStateValues.Frozen, pane.State!.Value);
        Assert.Equal(3, pane.VerticalSplit!.Value);
        var filter = ws.GetFirstChild<AutoFilter>()!;
        Assert.Equal($"A3:AD{tickets + 3}", filter.Reference!.Value);

        // 办理结果 (the reply result code of the main unit) is a column of its own, in Chinese.
        var sst = doc.WorkbookPart!.SharedStringTablePart?.SharedStringTable;
        Assert.Equal("办理结果", CellText(rows[2].Elements<Cell>().ElementAt(20), sst));
        var results = rows.Skip(3).Select(r => CellText(r.Elements<Cell>().ElementAt(20), sst)).ToHashSet();
        Assert.Contains("已解决", results);
        Assert.Contains("未解决", results);
    }

    [Fact]
    public void Phone_numbers_in_the_detail_sheet_are_masked()
    {
        using var doc = g.Open();
        var sst = doc.WorkbookPart!.SharedStringTablePart?.SharedStringTable;
        var rows = Part(doc, "工单明细").Worksheet.GetFirstChild<SheetData>()!.Elements<Row>().Skip(3).ToList();
        // Text cells only: date serials such as 45789.13888888889 contain digit runs that look like numbers.
        var texts = rows.SelectMany(r => r.Elements<Cell>()).Where(c => c.DataType is not null).Select(c => CellText(c, sst)).ToList();
        var phoneColumn = rows.Select(r => CellText(r.Elements<Cell>().ElementAt(11), sst)).Where(s => s.Length > 0).ToList();

        Assert.NotEmpty(phoneColumn);
        Assert.All(phoneColumn, p => Assert.Matches(@"^1\d{2}\*{4}\d{4}$", p));
        Assert.Contains(texts, t => t.Contains("回电号码", StringComparison.Ordinal)); // the demo planted raw numbers in text …
        Assert.DoesNotContain(texts, t => RawMobile().IsMatch(t));                 // … and none survives
    }

    [Theory]
    [InlineData("总览")]
    [InlineData("事项分类")]
    [InlineData("部门办理")]
    [InlineData("区域分布")]
    public void Table_sheets_have_frozen_header_and_autofilter(string sheet)
    {
        using var doc = g.Open();
        var ws = Part(doc, sheet).Worksheet;
        Assert.Equal(PaneStateValues.Frozen, ws.Descendants<Pane>().Single().State!.Value);
        Assert.StartsWith("A3:", ws.GetFirstChild<AutoFilter>()!.Reference!.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void Kpi_thresholds_drive_conditional_formatting_and_styles_define_percent()
    {
        using var doc = g.Open();
        Assert.NotEmpty(Part(doc, "部门办理").Worksheet.Elements<ConditionalFormatting>());
        Assert.NotEmpty(Part(doc, "总览").Worksheet.Elements<ConditionalFormatting>());
        var formats = doc.WorkbookPart!.WorkbookStylesPart!.Stylesheet.NumberingFormats!.Elements<DocumentFormat.OpenXml.Spreadsheet.NumberingFormat>().Select(f => f.FormatCode!.Value);
        Assert.Contains("0.0%", formats);
    }

    [Fact]
    public void Kpi_notes_list_every_kpi_definition()
    {
        using var doc = g.Open();
        var sst = doc.WorkbookPart!.SharedStringTablePart?.SharedStringTable;
        var text = Part(doc, "指标说明").Worksheet.Descendants<Cell>().Select(c => CellText(c, sst)).ToHashSet();
        Assert.All(Hotline.Reports.Kpi.KpiBook.All, k =>
        {
            Assert.Contains(k.Name, text);
            Assert.Contains(k.Numerator, text);
            Assert.Contains(k.Exclusions, text);
        });
    }

    [Fact]
    public void Narrative_mentions_the_planted_topic_and_cluster_with_numbers()
    {
        using var doc = g.Open();
        var text = string.Join("\n", Part(doc, "分析与建议").Worksheet.Descendants<Cell>().Select(c => CellText(c, null)));
        Assert.Contains("电动车充电桩", text, StringComparison.Ordinal);
        Assert.Contains("聚集性诉求1处", text, StringComparison.Ordinal);
        Assert.Matches(@"接通率\d+\.\d%", text);
    }

    [Fact]
    public void Writes_to_a_non_seekable_stream()
    {
        var sink = new ForwardOnly();
        WeeklyWorkbookWriter.Write(g.Facts, sink);
        using var doc = SpreadsheetDocument.Open(new MemoryStream(sink.Inner.ToArray()), false);
        Assert.Equal(13, doc.WorkbookPart!.Workbook.Sheets!.Count());
    }

    [Fact]
    public async Task LibreOffice_converts_the_workbook_to_pdf()
    {
        var soffice = SofficeCandidates.FirstOrDefault(File.Exists);
        Assert.True(soffice is not null, "soffice (libreoffice-calc) is not installed: install it (apt-get install libreoffice-calc) to run this test.");

        var dir = Directory.CreateTempSubdirectory("hotline-xlsx-");
        try
        {
            var xlsx = Path.Combine(dir.FullName, "weekly.xlsx");
            File.WriteAllBytes(xlsx, g.Bytes);
            var psi = new ProcessStartInfo(soffice!)
            {
                ArgumentList = { $"-env:UserInstallation=file://{dir.FullName}/profile", "--headless", "--convert-to", "pdf", "--outdir", dir.FullName, xlsx },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            try
            {
                await p.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                p.Kill(entireProcessTree: true);
                Assert.Fail("soffice did not finish within 120 s");
            }

            var output = await stdout + await stderr;

            var pdf = new FileInfo(Path.Combine(dir.FullName, "weekly.pdf"));
            Assert.True(pdf.Exists, $"no PDF produced; exit {p.ExitCode}; {output}");
            Assert.True(pdf.Length > 1000, $"PDF is only {pdf.Length} bytes");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static readonly string[] SofficeCandidates = ["/usr/bin/soffice", "/usr/local/bin/soffice", "/usr/lib/libreoffice/program/soffice"];

    [GeneratedRegex(@"(?<!\d)1[3-9]\d{9}(?!\d)")]
    private static partial Regex RawMobile();

    private sealed class ForwardOnly : Stream
    {
        public MemoryStream Inner { get; } = new();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Inner.Write(buffer, offset, count);
    }
}
