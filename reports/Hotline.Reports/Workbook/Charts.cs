using System.Globalization;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Drawing.Charts;
using A = DocumentFormat.OpenXml.Drawing;
using Index = DocumentFormat.OpenXml.Drawing.Charts.Index;
using Xdr = DocumentFormat.OpenXml.Drawing.Spreadsheet;

namespace Hotline.Reports.Workbook;

internal enum ChartKind
{
    Line,
    ColumnClustered,
    BarClustered,
    Pie,
    Doughnut,
}

/// <summary>A series: its name cell and values range, with the values cached so viewers need not recalculate.</summary>
internal sealed record ChartSeries(string Name, string NameRef, string ValuesRef, IReadOnlyList<double> Values);

/// <summary>A native chart placed on a sheet between two cells (0-based column/row).</summary>
internal sealed record ChartSpec(
    ChartKind Kind,
    string Title,
    string CategoriesRef,
    IReadOnlyList<string> Categories,
    IReadOnlyList<ChartSeries> Series,
    int FromColumn,
    int FromRow,
    int ToColumn,
    int ToRow);

/// <summary>Writes DrawingsPart + ChartParts (DrawingML charts built from SDK classes, written once each).</summary>
internal static class Charts
{
    private static readonly string[] Palette = ["4472C4", "ED7D31", "A5A5A5", "FFC000", "5B9BD5", "70AD47", "264478", "9E480E", "636363", "997300"];

    /// <summary>
    /// Lays out a drawing with the given charts for the sheet at <paramref name="sheetPath"/>: records the relationships
    /// and returns the drawing's relationship id and the parts to write once the sheet's own entry is closed
    /// (a zip in create mode has one open entry at a time).
    /// </summary>
    public static (string RelId, IReadOnlyList<(string Path, string ContentType, string Xml)> Parts) Add(XlsxPackage package, string sheetPath, IReadOnlyList<ChartSpec> charts)
    {
        var drawingPath = $"xl/drawings/drawing{++package.Drawings}.xml";
        var parts = new List<(string, string, string)>();
        var drawing = new Xdr.WorksheetDrawing();
        drawing.AddNamespaceDeclaration("xdr", "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing");
        drawing.AddNamespaceDeclaration("a", "http://schemas.openxmlformats.org/drawingml/2006/main");
        drawing.AddNamespaceDeclaration("r", XlsxPackage.RelNs);
        drawing.AddNamespaceDeclaration("c", "http://schemas.openxmlformats.org/drawingml/2006/chart");
        var id = 2u;
        foreach (var spec in charts)
        {
            var chartPath = $"xl/charts/chart{++package.ChartCount}.xml";
            parts.Add((chartPath, XlsxPackage.ChartType, Declaration + Build(spec).OuterXml));
            var rel = package.Relate(drawingPath, XlsxPackage.ChartRel, XlsxPackage.RelativeTarget(drawingPath, chartPath));
            drawing.Append(Anchor(spec, rel, id++));
        }

        parts.Insert(0, (drawingPath, XlsxPackage.DrawingType, Declaration + drawing.OuterXml));
        return (package.Relate(sheetPath, XlsxPackage.DrawingRel, XlsxPackage.RelativeTarget(sheetPath, drawingPath)), parts);
    }

    private const string Declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";

    private static Xdr.TwoCellAnchor Anchor(ChartSpec spec, string chartRelId, uint id) =>
        new(
            new Xdr.FromMarker(new Xdr.ColumnId(spec.FromColumn.ToString(CultureInfo.InvariantCulture)), new Xdr.ColumnOffset("0"), new Xdr.RowId(spec.FromRow.ToString(CultureInfo.InvariantCulture)), new Xdr.RowOffset("0")),
            new Xdr.ToMarker(new Xdr.ColumnId(spec.ToColumn.ToString(CultureInfo.InvariantCulture)), new Xdr.ColumnOffset("0"), new Xdr.RowId(spec.ToRow.ToString(CultureInfo.InvariantCulture)), new Xdr.RowOffset("0")),
            new Xdr.GraphicFrame(
                new Xdr.NonVisualGraphicFrameProperties(
                    new Xdr.NonVisualDrawingProperties { Id = id, Name = spec.Title },
                    new Xdr.NonVisualGraphicFrameDrawingProperties()),
                new Xdr.Transform(new A.Offset { X = 0, Y = 0 }, new A.Extents { Cx = 0, Cy = 0 }),
                new A.Graphic(new A.GraphicData(new ChartReference { Id = chartRelId })
                {
                    Uri = "http://schemas.openxmlformats.org/drawingml/2006/chart",
                }))
            { Macro = "" },
            new Xdr.ClientData())
        { EditAs = Xdr.EditAsValues.OneCell };

    private static ChartSpace Build(ChartSpec spec)
    {
        var space = new ChartSpace();
        space.AddNamespaceDeclaration("c", "http://schemas.openxmlformats.org/drawingml/2006/chart");
        space.AddNamespaceDeclaration("a", "http://schemas.openxmlformats.org/drawingml/2006/main");
        space.AddNamespaceDeclaration("r", "http://schemas.openxmlformats.org/officeDocument/2006/relationships");
        space.Append(new EditingLanguage { Val = "zh-CN" });
        space.Append(new RoundedCorners { Val = false });

        var plot = new PlotArea(new Layout());
        const uint catAx = 500_001, valAx = 500_002;
        var pie = spec.Kind is ChartKind.Pie or ChartKind.Doughnut;
        switch (spec.Kind)
        {
            case ChartKind.Line:
            {
                var line = new LineChart(new Grouping { Val = GroupingValues.Standard }, new VaryColors { Val = false });
                for (var i = 0; i < spec.Series.Count; i++)
                {
                    var s = spec.Series[i];
                    line.Append(new LineChartSeries(
                        new Index { Val = (uint)i }, new Order { Val = (uint)i }, SeriesText(s),
                        new ChartShapeProperties(new A.Outline(new A.SolidFill(new A.RgbColorModelHex { Val = Palette[i % Palette.Length] })) { Width = 28575 }),
                        new Marker(new Symbol { Val = MarkerStyleValues.Circle }, new Size { Val = 5 }),
                        Categories(spec), Values(s), new Smooth { Val = false }));
                }

                line.Append(new ShowMarker { Val = true }, new AxisId { Val = catAx }, new AxisId { Val = valAx });
                plot.Append(line);
                break;
            }

            case ChartKind.ColumnClustered or ChartKind.BarClustered:
            {
                var bar = new BarChart(
                    new BarDirection { Val = spec.Kind == ChartKind.BarClustered ? BarDirectionValues.Bar : BarDirectionValues.Column },
                    new BarGrouping { Val = BarGroupingValues.Clustered },
                    new VaryColors { Val = false });
                for (var i = 0; i < spec.Series.Count; i++)
                {
                    var s = spec.Series[i];
                    bar.Append(new BarChartSeries(
                        new Index { Val = (uint)i }, new Order { Val = (uint)i }, SeriesText(s),
                        new ChartShapeProperties(new A.SolidFill(new A.RgbColorModelHex { Val = Palette[i % Palette.Length] })),
                        new InvertIfNegative { Val = false },
                        Categories(spec), Values(s)));
                }

                bar.Append(new GapWidth { Val = 80 }, new AxisId { Val = catAx }, new AxisId { Val = valAx });
                plot.Append(bar);
                break;
            }

            default:
            {
                OpenXmlCompositeElement chart = spec.Kind == ChartKind.Pie ? new PieChart() : new DoughnutChart();
                chart.Append(new VaryColors { Val = true });
                var s = spec.Series[0];
                var ser = new PieChartSeries(new Index { Val = 0 }, new Order { Val = 0 }, SeriesText(s));
                for (var p = 0; p < s.Values.Count; p++)
                {
                    ser.Append(new DataPoint(new Index { Val = (uint)p }, new Bubble3D { Val = false },
                        new ChartShapeProperties(new A.SolidFill(new A.RgbColorModelHex { Val = Palette[p % Palette.Length] }))));
                }

                ser.Append(new DataLabels(
                    new ShowLegendKey { Val = false }, new ShowValue { Val = false }, new ShowCategoryName { Val = true },
                    new ShowSeriesName { Val = false }, new ShowPercent { Val = true }, new ShowBubbleSize { Val = false }, new ShowLeaderLines { Val = true }));
                ser.Append(Categories(spec), Values(s));
                chart.Append(ser, new FirstSliceAngle { Val = 0 });
                if (chart is DoughnutChart)
                {
                    chart.Append(new HoleSize { Val = 50 });
                }

                plot.Append(chart);
                break;
            }
        }

        if (!pie)
        {
            plot.Append(
                new CategoryAxis(
                    new AxisId { Val = catAx }, new Scaling(new Orientation { Val = spec.Kind == ChartKind.BarClustered ? OrientationValues.MaxMin : OrientationValues.MinMax }),
                    new Delete { Val = false }, new AxisPosition { Val = spec.Kind == ChartKind.BarClustered ? AxisPositionValues.Left : AxisPositionValues.Bottom },
                    new NumberingFormat { FormatCode = "General", SourceLinked = true },
                    new MajorTickMark { Val = TickMarkValues.None }, new MinorTickMark { Val = TickMarkValues.None },
                    new TickLabelPosition { Val = TickLabelPositionValues.NextTo },
                    new CrossingAxis { Val = valAx }, new Crosses { Val = CrossesValues.AutoZero },
                    new AutoLabeled { Val = true }, new LabelAlignment { Val = LabelAlignmentValues.Center }, new LabelOffset { Val = 100 }, new NoMultiLevelLabels { Val = false }),
                new ValueAxis(
                    new AxisId { Val = valAx }, new Scaling(new Orientation { Val = OrientationValues.MinMax }),
                    new Delete { Val = false }, new AxisPosition { Val = spec.Kind == ChartKind.BarClustered ? AxisPositionValues.Bottom : AxisPositionValues.Left },
                    new MajorGridlines(new ChartShapeProperties(new A.Outline(new A.SolidFill(new A.RgbColorModelHex { Val = "D9D9D9" })))),
                    new NumberingFormat { FormatCode = "General", SourceLinked = true },
                    new MajorTickMark { Val = TickMarkValues.None }, new MinorTickMark { Val = TickMarkValues.None },
                    new TickLabelPosition { Val = TickLabelPositionValues.NextTo },
                    new CrossingAxis { Val = catAx }, new Crosses { Val = CrossesValues.AutoZero },
                    new CrossBetween { Val = CrossBetweenValues.Between }));
        }

        var chartEl = new Chart(
            new Title(
                new ChartText(new RichText(new A.BodyProperties(), new A.ListStyle(),
                    new A.Paragraph(new A.ParagraphProperties(new A.DefaultRunProperties { FontSize = 1200, Bold = true }),
                        new A.Run(new A.RunProperties { Language = "zh-CN", FontSize = 1200, Bold = true }, new A.Text(spec.Title))))),
                new Overlay { Val = false }),
            new AutoTitleDeleted { Val = false },
            plot,
            new Legend(new LegendPosition { Val = pie ? LegendPositionValues.Right : LegendPositionValues.Bottom }, new Overlay { Val = false }),
            new PlotVisibleOnly { Val = true },
            new DisplayBlanksAs { Val = DisplayBlanksAsValues.Gap });
        space.Append(chartEl);
        return space;
    }

    private static SeriesText SeriesText(ChartSeries s) =>
        new(new StringReference(new Formula(s.NameRef), new StringCache(new PointCount { Val = 1 }, new StringPoint(new NumericValue(s.Name)) { Index = 0 })));

    private static CategoryAxisData Categories(ChartSpec spec)
    {
        var cache = new StringCache(new PointCount { Val = (uint)spec.Categories.Count });
        for (var i = 0; i < spec.Categories.Count; i++)
        {
            cache.Append(new StringPoint(new NumericValue(spec.Categories[i])) { Index = (uint)i });
        }

        return new CategoryAxisData(new StringReference(new Formula(spec.CategoriesRef), cache));
    }

    private static Values Values(ChartSeries s)
    {
        var cache = new NumberingCache(new FormatCode("General"), new PointCount { Val = (uint)s.Values.Count });
        for (var i = 0; i < s.Values.Count; i++)
        {
            cache.Append(new NumericPoint(new NumericValue(s.Values[i].ToString("R", CultureInfo.InvariantCulture))) { Index = (uint)i });
        }

        return new Values(new NumberReference(new Formula(s.ValuesRef), cache));
    }
}
