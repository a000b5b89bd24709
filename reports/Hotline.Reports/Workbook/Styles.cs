using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Hotline.Reports.Workbook;

/// <summary>Cell style indices (cellXfs) and conditional-format styles (dxfs) of the stylesheet below.</summary>
internal static class Styles
{
    public const uint Default = 0;
    public const uint Header = 1;
    public const uint Integer = 2;
    public const uint Decimal = 3;
    public const uint Percent = 4;
    public const uint DateTime = 5;
    public const uint Date = 6;
    public const uint Title = 7;
    public const uint Text = 8;
    public const uint Wrap = 9;
    public const uint Change = 10;
    public const uint Note = 11;
    public const uint Decimal2 = 12;
    public const uint Scientific = 13;
    public const uint Section = 14;

    public const uint DxfRed = 0;
    public const uint DxfYellow = 1;
    public const uint DxfGreen = 2;

    public static Stylesheet Build()
    {
        var numFmts = new NumberingFormats(
            new NumberingFormat { NumberFormatId = 164, FormatCode = "0.0" },
            new NumberingFormat { NumberFormatId = 165, FormatCode = "0.0%" },
            new NumberingFormat { NumberFormatId = 166, FormatCode = "yyyy-mm-dd hh:mm" },
            new NumberingFormat { NumberFormatId = 167, FormatCode = "yyyy-mm-dd" },
            new NumberingFormat { NumberFormatId = 168, FormatCode = "+0.0%;-0.0%;0.0%" },
            new NumberingFormat { NumberFormatId = 169, FormatCode = "0.00" })
        { Count = 6 };

        static Font F(double size, bool bold = false, string? color = null, bool italic = false)
        {
            var f = new Font();
            if (bold)
            {
                f.Append(new Bold());
            }

            if (italic)
            {
                f.Append(new Italic());
            }

            f.Append(new FontSize { Val = size });
            if (color is not null)
            {
                f.Append(new Color { Rgb = color });
            }

            f.Append(new FontName { Val = "等线" });
            f.Append(new FontFamilyNumbering { Val = 2 });
            f.Append(new FontCharSet { Val = 134 });
            return f;
        }

        var fonts = new Fonts(F(11), F(11, bold: true), F(14, bold: true), F(9, color: "FF666666", italic: true), F(12, bold: true, color: "FF1F4E79")) { Count = 5 };

        static Fill Solid(string rgb) => new(new PatternFill(new ForegroundColor { Rgb = rgb }, new BackgroundColor { Indexed = 64 }) { PatternType = PatternValues.Solid });
        var fills = new Fills(
            new Fill(new PatternFill { PatternType = PatternValues.None }),
            new Fill(new PatternFill { PatternType = PatternValues.Gray125 }),
            Solid("FFDDEBF7"))
        { Count = 3 };

        static Border Thin()
        {
            BorderPropertiesType[] sides = [new LeftBorder(), new RightBorder(), new TopBorder(), new BottomBorder()];
            var b = new Border();
            foreach (var s in sides)
            {
                s.Style = BorderStyleValues.Thin;
                s.Append(new Color { Rgb = "FFBFBFBF" });
                b.Append(s);
            }

            b.Append(new DiagonalBorder());
            return b;
        }

        var borders = new Borders(new Border(new LeftBorder(), new RightBorder(), new TopBorder(), new BottomBorder(), new DiagonalBorder()), Thin()) { Count = 2 };

        static CellFormat X(uint numFmt, uint font = 0, uint fill = 0, uint border = 1, Alignment? align = null)
        {
            var x = new CellFormat { NumberFormatId = numFmt, FontId = font, FillId = fill, BorderId = border, FormatId = 0 };
            if (numFmt != 0)
            {
                x.ApplyNumberFormat = true;
            }

            if (font != 0)
            {
                x.ApplyFont = true;
            }

            if (fill != 0)
            {
                x.ApplyFill = true;
            }

            if (border != 0)
            {
                x.ApplyBorder = true;
            }

            if (align is not null)
            {
                x.Append(align);
                x.ApplyAlignment = true;
            }

            return x;
        }

        var cellXfs = new CellFormats(
            X(0, border: 0),
            X(0, font: 1, fill: 2, align: new Alignment { Horizontal = HorizontalAlignmentValues.Center, Vertical = VerticalAlignmentValues.Center, WrapText = true }),
            X(3),
            X(164),
            X(165),
            X(166),
            X(167),
            X(0, font: 2, border: 0),
            X(0),
            X(0, border: 0, align: new Alignment { WrapText = true, Vertical = VerticalAlignmentValues.Top }),
            X(168),
            X(0, font: 3, border: 0),
            X(169),
            X(11),
            X(0, font: 4, border: 0))
        { Count = 15 };

        static DifferentialFormat Dxf(string font, string fill) => new(
            new Font(new Color { Rgb = font }),
            new Fill(new PatternFill(new BackgroundColor { Rgb = fill }) { PatternType = PatternValues.Solid }));

        return new Stylesheet(
            numFmts,
            fonts,
            fills,
            borders,
            new CellStyleFormats(new CellFormat { NumberFormatId = 0, FontId = 0, FillId = 0, BorderId = 0 }) { Count = 1 },
            cellXfs,
            new CellStyles(new CellStyle { Name = "Normal", FormatId = 0, BuiltinId = 0 }) { Count = 1 },
            new DifferentialFormats(Dxf("FF9C0006", "FFFFC7CE"), Dxf("FF9C5700", "FFFFEB9C"), Dxf("FF006100", "FFC6EFCE")) { Count = 3 });
    }

    public static void WriteTo(Stream part)
    {
        using var w = OpenXmlWriter.Create(part);
        w.WriteStartDocument();
        w.WriteElement(Build());
    }
}
