using System.Globalization;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Hotline.Reports.Workbook;

/// <summary>One cell to write: text (inline or shared), number, or empty, with a style index.</summary>
internal readonly record struct XCell(string? Text, double? Number, uint Style, bool Shared = false)
{
    public static readonly XCell Empty = new(null, null, Styles.Text);

    /// <summary>Free text, written inline (unique values gain nothing from the shared table).</summary>
    public static XCell T(string? text, uint style = Styles.Text) => new(text ?? "", null, style);

    /// <summary>Text from a small set of values (names, categories): written through the shared string table.</summary>
    public static XCell S(string? text, uint style = Styles.Text) => new(text ?? "", null, style, Shared: true);

    public static XCell N(double? value, uint style = Styles.Integer) => new(null, value is { } v && double.IsFinite(v) ? v : null, style);

    public static XCell Pct(double? value) => N(value, Styles.Percent);

    public static XCell Dt(DateTimeOffset? value, TimeSpan offset) =>
        N(value?.ToOffset(offset).DateTime.ToOADate(), Styles.DateTime);

    public static implicit operator XCell(string text) => T(text);
}

/// <summary>A conditional format: an expression on the top-left cell of <see cref="Range"/> → dxf.</summary>
internal sealed record ConditionalRule(string Range, string Formula, uint Dxf);

/// <summary>Shared strings collected while sheets are written; memory is bounded by distinct values.</summary>
internal sealed class SharedStrings
{
    private readonly Dictionary<string, int> index = new(StringComparer.Ordinal);
    private readonly List<string> values = [];
    public int References { get; private set; }

    public int Get(string s)
    {
        References++;
        if (!index.TryGetValue(s, out var i))
        {
            i = values.Count;
            index[s] = i;
            values.Add(s);
        }

        return i;
    }

    public void WriteTo(SharedStringTablePart part)
    {
        using var w = OpenXmlWriter.Create(part);
        w.WriteStartDocument();
        w.WriteStartElement(new SharedStringTable(), [new OpenXmlAttribute("count", "", References.ToString(CultureInfo.InvariantCulture)), new OpenXmlAttribute("uniqueCount", "", values.Count.ToString(CultureInfo.InvariantCulture))]);
        foreach (var v in values)
        {
            w.WriteStartElement(new SharedStringItem());
            w.WriteElement(new Text(v) { Space = SpaceProcessingModeValues.Preserve });
            w.WriteEndElement();
        }

        w.WriteEndElement();
    }
}

/// <summary>
/// Streams one worksheet with the SAX-style <see cref="OpenXmlWriter"/>: rows go straight to the part,
/// so memory does not grow with the number of rows. Elements are emitted in schema order.
/// </summary>
internal sealed class SheetWriter : IDisposable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private readonly OpenXmlWriter w;
    private readonly SharedStrings shared;
    private readonly List<ConditionalRule> rules = [];
    private readonly List<string> merges = [];
    private bool finished;

    public SheetWriter(WorksheetPart part, SharedStrings shared, IReadOnlyList<double> widths, int frozenRows, string name)
    {
        Part = part;
        Name = name;
        this.shared = shared;
        w = OpenXmlWriter.Create(part);
        w.WriteStartDocument();
        w.WriteStartElement(new Worksheet(), [], [new KeyValuePair<string, string>("r", "http://schemas.openxmlformats.org/officeDocument/2006/relationships")]);

        var view = new SheetView { WorkbookViewId = 0 };
        if (frozenRows > 0)
        {
            var top = $"A{frozenRows + 1}";
            view.Append(new Pane { VerticalSplit = frozenRows, TopLeftCell = top, ActivePane = PaneValues.BottomLeft, State = PaneStateValues.Frozen });
            view.Append(new Selection { Pane = PaneValues.BottomLeft, ActiveCell = top, SequenceOfReferences = new ListValue<StringValue> { InnerText = top } });
        }

        w.WriteElement(new SheetViews(view));
        w.WriteElement(new SheetFormatProperties { DefaultRowHeight = 16.5 });
        if (widths.Count > 0)
        {
            var cols = new Columns();
            for (var i = 0; i < widths.Count; i++)
            {
                cols.Append(new Column { Min = (uint)(i + 1), Max = (uint)(i + 1), Width = widths[i], CustomWidth = true });
            }

            w.WriteElement(cols);
        }

        w.WriteStartElement(new SheetData());
    }

    public WorksheetPart Part { get; }
    public string Name { get; }

    /// <summary>1-based index of the last row written.</summary>
    public int RowIndex { get; private set; }

    public string? AutoFilter { get; set; }

    public string? DrawingId { get; set; }

    public void Row(params XCell[] cells) => Row((IReadOnlyList<XCell>)cells);

    public void Row(IReadOnlyList<XCell> cells, double? height = null)
    {
        RowIndex++;
        var attrs = new List<OpenXmlAttribute>(3) { new("r", "", RowIndex.ToString(Inv)) };
        if (height is { } h)
        {
            attrs.Add(new OpenXmlAttribute("ht", "", h.ToString(Inv)));
            attrs.Add(new OpenXmlAttribute("customHeight", "", "1"));
        }

        w.WriteStartElement(new Row(), attrs);
        for (var i = 0; i < cells.Count; i++)
        {
            WriteCell(cells[i], i);
        }

        w.WriteEndElement();
    }

    public void Blank() => Row([]);

    public void Title(string text, string? note = null)
    {
        Row(XCell.T(text, Styles.Title));
        Row(XCell.T(note ?? "", Styles.Note));
    }

    public void Section(string text)
    {
        Blank();
        Row(XCell.T(text, Styles.Section));
    }

    public void Header(params string[] names) => Row(names.Select(n => XCell.T(n, Styles.Header)).ToArray(), 30);

    public void Merge(string range) => merges.Add(range);

    public void Conditional(ConditionalRule rule) => rules.Add(rule);

    public void Dispose()
    {
        if (!finished)
        {
            Finish();
        }

        w.Dispose();
    }

    private void Finish()
    {
        finished = true;
        w.WriteEndElement(); // sheetData
        if (AutoFilter is not null)
        {
            w.WriteElement(new AutoFilter { Reference = AutoFilter });
        }

        if (merges.Count > 0)
        {
            w.WriteElement(new MergeCells(merges.Select(m => new MergeCell { Reference = m })) { Count = (uint)merges.Count });
        }

        var priority = 1;
        foreach (var group in rules.GroupBy(r => r.Range, StringComparer.Ordinal))
        {
            var cf = new ConditionalFormatting { SequenceOfReferences = new ListValue<StringValue> { InnerText = group.Key } };
            foreach (var r in group)
            {
                cf.Append(new ConditionalFormattingRule(new Formula(r.Formula)) { Type = ConditionalFormatValues.Expression, FormatId = r.Dxf, Priority = priority++ });
            }

            w.WriteElement(cf);
        }

        w.WriteElement(new PageMargins { Left = 0.5, Right = 0.5, Top = 0.75, Bottom = 0.75, Header = 0.3, Footer = 0.3 });
        w.WriteElement(new PageSetup { PaperSize = 9, Orientation = OrientationValues.Landscape, FitToWidth = 1, FitToHeight = 0 });
        if (DrawingId is not null)
        {
            w.WriteElement(new Drawing { Id = DrawingId });
        }

        w.WriteEndElement(); // worksheet
    }

    private static readonly Cell CellProto = new();
    private static readonly CellValue ValueProto = new();
    private static readonly InlineString InlineProto = new();
    private static readonly Text TextProto = new();

    private void WriteCell(XCell c, int column)
    {
        var attrs = new List<OpenXmlAttribute>(3) { new("r", "", Reference(column, RowIndex)) };
        if (c.Style != 0)
        {
            attrs.Add(new OpenXmlAttribute("s", "", c.Style.ToString(Inv)));
        }

        if (c.Number is { } n)
        {
            w.WriteStartElement(CellProto, attrs);
            w.WriteStartElement(ValueProto);
            w.WriteString(n.ToString("R", Inv));
            w.WriteEndElement();
            w.WriteEndElement();
        }
        else if (string.IsNullOrEmpty(c.Text))
        {
            w.WriteStartElement(CellProto, attrs);
            w.WriteEndElement();
        }
        else if (c.Shared)
        {
            attrs.Add(new OpenXmlAttribute("t", "", "s"));
            w.WriteStartElement(CellProto, attrs);
            w.WriteStartElement(ValueProto);
            w.WriteString(shared.Get(c.Text).ToString(Inv));
            w.WriteEndElement();
            w.WriteEndElement();
        }
        else
        {
            attrs.Add(new OpenXmlAttribute("t", "", "inlineStr"));
            w.WriteStartElement(CellProto, attrs);
            w.WriteStartElement(InlineProto);
            w.WriteStartElement(TextProto, [new OpenXmlAttribute("xml", "space", "http://www.w3.org/XML/1998/namespace", "preserve")]);
            w.WriteString(XmlSafe(c.Text));
            w.WriteEndElement();
            w.WriteEndElement();
            w.WriteEndElement();
        }
    }

    /// <summary>Drops characters XML 1.0 cannot carry (control characters pasted into summaries).</summary>
    private static string XmlSafe(string s)
    {
        foreach (var ch in s)
        {
            if (ch < 0x20 && ch is not ('\t' or '\n' or '\r'))
            {
                return new string(s.Where(x => x >= 0x20 || x is '\t' or '\n' or '\r').ToArray());
            }
        }

        return s;
    }

    public static string Column(int index)
    {
        var s = "";
        index++;
        while (index > 0)
        {
            var m = (index - 1) % 26;
            s = (char)('A' + m) + s;
            index = (index - m) / 26;
        }

        return s;
    }

    public static string Reference(int column, int row) => Column(column) + row.ToString(Inv);

    /// <summary>Absolute reference for formulas in charts: 'Sheet'!$A$1:$A$9.</summary>
    public string Abs(int column, int fromRow, int toRow) =>
        $"'{Name}'!${Column(column)}${fromRow}:${Column(column)}${toRow}";
}
