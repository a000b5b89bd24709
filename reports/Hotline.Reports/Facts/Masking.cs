using System.Text.RegularExpressions;

namespace Hotline.Reports.Facts;

/// <summary>Personal-data masking used for every value the workbook shows (the workbook leaves the hotline office).</summary>
public static partial class Masking
{
    /// <summary><c>13812345678</c> → <c>138****5678</c>; other numbers keep the first 3 and last 4 characters when long enough.</summary>
    public static string Phone(string? phone)
    {
        if (string.IsNullOrWhiteSpace(phone))
        {
            return "";
        }

        var p = phone.Trim();
        if (p.Length >= 11)
        {
            return string.Concat(p.AsSpan(0, 3), new string('*', p.Length - 7), p.AsSpan(p.Length - 4));
        }

        return p.Length <= 4 ? new string('*', p.Length) : string.Concat(new string('*', p.Length - 4), p.AsSpan(p.Length - 4));
    }

    /// <summary><c>张三</c> → <c>张*</c>, <c>欧阳娜娜</c> → <c>欧***</c>: the first character stays.</summary>
    public static string Name(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "";
        }

        var n = name.Trim();
        var e = StringInfo(n);
        return e.Count <= 1 ? "*" : e[0] + new string('*', e.Count - 1);
    }

    /// <summary>18-character resident ID → first 6 and last 4 kept: <c>110101********123X</c>.</summary>
    public static string IdNumber(string id) =>
        id.Length == 18 ? string.Concat(id.AsSpan(0, 6), "********", id.AsSpan(14)) : new string('*', id.Length);

    /// <summary>
    /// Masks, inside free text, 11-digit mainland mobile numbers (1[3-9]x, not part of a longer digit run)
    /// and 18-character resident ID numbers (17 digits + digit or X).
    /// </summary>
    public static string Text(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        // Fast path: neither pattern can match without a run of 11+ digits somewhere in the text.
        var digits = 0;
        foreach (var ch in text)
        {
            digits += char.IsAsciiDigit(ch) ? 1 : 0;
        }

        if (digits < 11)
        {
            return text;
        }

        var masked = IdPattern().Replace(text, m => IdNumber(m.Value));
        return MobilePattern().Replace(masked, m => Phone(m.Value));
    }

    [GeneratedRegex(@"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"(?<![0-9])1[3-9][0-9]{9}(?![0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex MobilePattern();

    private static List<string> StringInfo(string s)
    {
        var list = new List<string>();
        var e = System.Globalization.StringInfo.GetTextElementEnumerator(s);
        while (e.MoveNext())
        {
            list.Add((string)e.Current);
        }

        return list;
    }
}
