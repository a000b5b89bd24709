using System.Globalization;
using DocumentFormat.OpenXml;
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

    /// <summary>An instant as an Excel serial date in the city's offset, rounded to 10⁻⁶ day (0.09 s): 12 digits instead of 17.</summary>
    public static XCell Dt(DateTimeOffset? value, TimeSpan offset) =>
        N(value is { } v ? Math.Round(v.ToOffset(offset).DateTime.ToOADate(), 6) : null, Styles.DateTime);

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

    public void WriteTo(Stream part)
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
/// Streams one worksheet: rows go straight to the part (a zip entry), so memory does not grow with the number of
/// rows. The XML is emitted by hand through a buffered UTF-8 writer — the worksheet grammar used here is small and
/// fixed, and <see cref="OpenXmlWriter"/> cost ~5 µs per cell (element prototypes, attribute lists, namespace
/// look-ups), which made the 1M-row detail sheet take minutes. Elements are emitted in schema order.
/// </summary>
internal sealed class SheetWriter : IDisposable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly string[] ColumnNames = Enumerable.Range(0, 256).Select(ColumnName).ToArray();
    private readonly StreamWriter w;
    private readonly SharedStrings shared;
    private readonly List<ConditionalRule> rules = [];
    private readonly List<string> merges = [];
    private readonly char[] number = new char[32];
    private bool finished;

    public SheetWriter(Stream stream, string path, SharedStrings shared, IReadOnlyList<double> widths, int frozenRows, string name)
    {
        Path = path;
        Name = name;
        this.shared = shared;
        w = new StreamWriter(stream, new System.Text.UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
        w.Write("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n");
        w.Write("<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">");
        w.Write("<sheetViews><sheetView workbookViewId=\"0\"");
        if (frozenRows > 0)
        {
            var top = $"A{frozenRows + 1}";
            w.Write($"><pane ySplit=\"{frozenRows}\" topLeftCell=\"{top}\" activePane=\"bottomLeft\" state=\"frozen\"/><selection pane=\"bottomLeft\" activeCell=\"{top}\" sqref=\"{top}\"/></sheetView>");
        }
        else
        {
            w.Write("/>");
        }

        w.Write("</sheetViews><sheetFormatPr defaultRowHeight=\"16.5\"/>");
        if (widths.Count > 0)
        {
            w.Write("<cols>");
            for (var i = 0; i < widths.Count; i++)
            {
                w.Write(string.Create(Inv, $"<col min=\"{i + 1}\" max=\"{i + 1}\" width=\"{widths[i]}\" customWidth=\"1\"/>"));
            }

            w.Write("</cols>");
        }

        w.Write("<sheetData>");
    }

    /// <summary>Package path of the sheet part (xl/worksheets/sheetN.xml).</summary>
    public string Path { get; }

    public string Name { get; }

    /// <summary>1-based index of the last row written.</summary>
    public int RowIndex { get; private set; }

    public string? AutoFilter { get; set; }

    public string? DrawingId { get; set; }

    public void Row(params XCell[] cells) => Row((IReadOnlyList<XCell>)cells);

    public void Row(IReadOnlyList<XCell> cells, double? height = null)
    {
        RowIndex++;
        w.Write("<row r=\"");
        WriteInt(RowIndex);
        if (height is { } h)
        {
            w.Write("\" ht=\"");
            w.Write(h.ToString(Inv));
            w.Write("\" customHeight=\"1");
        }

        w.Write("\">");
        for (var i = 0; i < cells.Count; i++)
        {
            WriteCell(cells[i]);
        }

        w.Write("</row>");
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
        w.Write("</sheetData>");
        if (AutoFilter is not null)
        {
            w.Write($"<autoFilter ref=\"{AutoFilter}\"/>");
        }

        if (merges.Count > 0)
        {
            w.Write($"<mergeCells count=\"{merges.Count.ToString(Inv)}\">");
            foreach (var m in merges)
            {
                w.Write($"<mergeCell ref=\"{m}\"/>");
            }

            w.Write("</mergeCells>");
        }

        var priority = 1;
        foreach (var group in rules.GroupBy(r => r.Range, StringComparer.Ordinal))
        {
            w.Write($"<conditionalFormatting sqref=\"{group.Key}\">");
            foreach (var r in group)
            {
                w.Write(string.Create(Inv, $"<cfRule type=\"expression\" dxfId=\"{r.Dxf}\" priority=\"{priority++}\"><formula>"));
                Escape(r.Formula);
                w.Write("</formula></cfRule>");
            }

            w.Write("</conditionalFormatting>");
        }

        w.Write("<pageMargins left=\"0.5\" right=\"0.5\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" footer=\"0.3\"/>");
        w.Write("<pageSetup paperSize=\"9\" orientation=\"landscape\" fitToWidth=\"1\" fitToHeight=\"0\"/>");
        if (DrawingId is not null)
        {
            w.Write($"<drawing r:id=\"{DrawingId}\"/>");
        }

        w.Write("</worksheet>");
    }

    private void WriteCell(in XCell c)
    {
        // No r attribute: every cell of a row is written, in order, so its position is implied (the attribute is
        // optional in SpreadsheetML) — it was a fifth of the detail sheet's bytes.
        w.Write("<c");
        if (c.Style != 0)
        {
            w.Write(" s=\"");
            WriteInt((int)c.Style);
        }

        if (c.Number is { } n)
        {
            w.Write(c.Style != 0 ? "\"><v>" : "><v>");
            n.TryFormat(number, out var len, "R", Inv);
            w.Write(number, 0, len);
            w.Write("</v></c>");
        }
        else if (string.IsNullOrEmpty(c.Text))
        {
            w.Write(c.Style != 0 ? "\"/>" : "/>");
        }
        else if (c.Shared)
        {
            w.Write(c.Style != 0 ? "\" t=\"s\"><v>" : " t=\"s\"><v>");
            WriteInt(shared.Get(c.Text));
            w.Write("</v></c>");
        }
        else
        {
            w.Write(c.Style != 0 ? "\" t=\"inlineStr\"><is><t" : " t=\"inlineStr\"><is><t");
            w.Write(char.IsWhiteSpace(c.Text[0]) || char.IsWhiteSpace(c.Text[^1]) ? " xml:space=\"preserve\">" : ">");
            Escape(c.Text);
            w.Write("</t></is></c>");
        }
    }

    private void WriteInt(int value)
    {
        value.TryFormat(number, out var len, default, Inv);
        w.Write(number, 0, len);
    }

    /// <summary>Writes text escaped for XML content and attributes; drops characters XML 1.0 cannot carry.</summary>
    private void Escape(string s)
    {
        var start = 0;
        for (var i = 0; i < s.Length; i++)
        {
            var ch = s[i];
            string? rep = ch switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                < ' ' when ch is not ('\t' or '\n' or '\r') => "",
                _ => null,
            };
            if (rep is null)
            {
                continue;
            }

            w.Write(s.AsSpan(start, i - start));
            w.Write(rep);
            start = i + 1;
        }

        w.Write(s.AsSpan(start));
    }

    public static string Column(int index) => index < ColumnNames.Length ? ColumnNames[index] : ColumnName(index);

    private static string ColumnName(int index)
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
