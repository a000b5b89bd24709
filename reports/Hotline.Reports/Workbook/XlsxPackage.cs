using System.IO.Compression;
using System.Security;
using System.Text;

namespace Hotline.Reports.Workbook;

/// <summary>
/// The .xlsx container written by hand: a <see cref="ZipArchive"/> in create mode (forward-only, works on any
/// writable stream), one entry open at a time, with <c>[Content_Types].xml</c> and the <c>.rels</c> parts
/// written at the end from what was recorded. The SDK's <c>SpreadsheetDocument</c> is not used for writing:
/// OpenXml 2.20 on .NET opens its package in update mode and keeps every part in memory until it is saved,
/// so a million-row sheet cost gigabytes. Here a sheet's bytes go straight through deflate to the output.
/// </summary>
internal sealed class XlsxPackage : IDisposable
{
    public const string RelNs = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    private const string PackageRelNs = "http://schemas.openxmlformats.org/package/2006/relationships";

    public const string OfficeDocument = RelNs + "/officeDocument";
    public const string WorksheetRel = RelNs + "/worksheet";
    public const string StylesRel = RelNs + "/styles";
    public const string SharedStringsRel = RelNs + "/sharedStrings";
    public const string DrawingRel = RelNs + "/drawing";
    public const string ChartRel = RelNs + "/chart";
    public const string CoreRel = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties";

    public const string WorkbookType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml";
    public const string WorksheetType = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml";
    public const string StylesType = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml";
    public const string SharedStringsType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml";
    public const string DrawingType = "application/vnd.openxmlformats-officedocument.drawing+xml";
    public const string ChartType = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml";
    public const string CoreType = "application/vnd.openxmlformats-package.core-properties+xml";

    private readonly ZipArchive zip;
    private readonly List<(string Part, string ContentType)> overrides = [];
    private readonly Dictionary<string, List<(string Id, string Type, string Target)>> rels = new(StringComparer.Ordinal);
    private readonly CompressionLevel level;
    private Stream? open;

    /// <summary>Counters for part names (drawingN.xml, chartN.xml).</summary>
    public int Drawings { get; set; }

    public int ChartCount { get; set; }
    private bool closed;

    public XlsxPackage(Stream output, CompressionLevel level = CompressionLevel.Fastest)
    {
        zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true, Encoding.UTF8);
        this.level = level;
    }

    /// <summary>Starts a part (e.g. <c>xl/worksheets/sheet1.xml</c>); dispose the stream before the next one.</summary>
    public Stream Create(string path, string contentType)
    {
        if (open is not null)
        {
            throw new InvalidOperationException("Close the previous part first: a zip in create mode has one open entry.");
        }

        overrides.Add(("/" + path, contentType));
        open = new EntryStream(zip.CreateEntry(path, level).Open(), this);
        return open;
    }

    /// <summary>Writes a small part at once.</summary>
    public void Write(string path, string contentType, string xml)
    {
        using var s = Create(path, contentType);
        var bytes = Encoding.UTF8.GetBytes(xml);
        s.Write(bytes);
    }

    /// <summary>Records a relationship from <paramref name="source"/> ("" for the package) and returns its id.</summary>
    public string Relate(string source, string type, string target)
    {
        if (!rels.TryGetValue(source, out var list))
        {
            rels[source] = list = [];
        }

        var id = "rId" + (list.Count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        list.Add((id, type, target));
        return id;
    }

    /// <summary>Writes the relationship parts and the content types; the archive is complete afterwards.</summary>
    public void Close()
    {
        if (closed)
        {
            return;
        }

        closed = true;
        foreach (var (source, list) in rels)
        {
            var slash = source.LastIndexOf('/');
            var relsPath = source.Length == 0 ? "_rels/.rels" : $"{source[..(slash + 1)]}_rels/{source[(slash + 1)..]}.rels";
            var sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n");
            sb.Append("<Relationships xmlns=\"").Append(PackageRelNs).Append("\">");
            foreach (var (id, type, target) in list)
            {
                sb.Append("<Relationship Id=\"").Append(id).Append("\" Type=\"").Append(type).Append("\" Target=\"").Append(SecurityElement.Escape(target)).Append("\"/>");
            }

            sb.Append("</Relationships>");
            using var s = zip.CreateEntry(relsPath, level).Open();
            s.Write(Encoding.UTF8.GetBytes(sb.ToString()));
        }

        var ct = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n");
        ct.Append("<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">");
        ct.Append("<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>");
        ct.Append("<Default Extension=\"xml\" ContentType=\"application/xml\"/>");
        foreach (var (part, type) in overrides)
        {
            ct.Append("<Override PartName=\"").Append(SecurityElement.Escape(part)).Append("\" ContentType=\"").Append(type).Append("\"/>");
        }

        ct.Append("</Types>");
        using (var s = zip.CreateEntry("[Content_Types].xml", level).Open())
        {
            s.Write(Encoding.UTF8.GetBytes(ct.ToString()));
        }
    }

    public void Dispose()
    {
        Close();
        zip.Dispose();
    }

    /// <summary>Relative target from one part's folder to another part (both package paths without a leading slash).</summary>
    public static string RelativeTarget(string fromPart, string toPart)
    {
        var from = fromPart.Split('/')[..^1];
        var to = toPart.Split('/');
        var common = 0;
        while (common < from.Length && common < to.Length - 1 && from[common] == to[common])
        {
            common++;
        }

        return string.Concat(Enumerable.Repeat("../", from.Length - common)) + string.Join('/', to[common..]);
    }

    /// <summary>The entry stream; closing it frees the archive for the next part.</summary>
    private sealed class EntryStream(Stream inner, XlsxPackage owner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

        protected override void Dispose(bool disposing)
        {
            if (disposing && owner.open == this)
            {
                inner.Dispose();
                owner.open = null;
            }

            base.Dispose(disposing);
        }
    }
}
