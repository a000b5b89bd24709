using System.Text;

namespace Hotline.Telephony.FreeSwitch;

/// <summary>One Event Socket message: headers up to the blank line, then <c>Content-Length</c> bytes of body.</summary>
public sealed record EslFrame(IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string? ContentType => Headers.GetValueOrDefault("Content-Type");

    public string? ReplyText => Headers.GetValueOrDefault("Reply-Text");
}

/// <summary>
/// Incremental ESL framer. Bytes arrive in whatever pieces TCP gives (half a header, three events in one read);
/// <see cref="Feed"/> them and take complete frames with <see cref="TryRead"/>.
/// </summary>
public sealed class EslFrameParser
{
    private byte[] _buffer = new byte[64 * 1024];
    private int _count;

    public void Feed(ReadOnlySpan<byte> data)
    {
        if (_count + data.Length > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _count + data.Length));
        }
        data.CopyTo(_buffer.AsSpan(_count));
        _count += data.Length;
    }

    public bool TryRead(out EslFrame frame)
    {
        frame = null!;
        var span = _buffer.AsSpan(0, _count);
        var end = span.IndexOf("\n\n"u8);
        if (end < 0)
        {
            return false;
        }
        var headers = ParseHeaders(Encoding.UTF8.GetString(span[..end]), urlDecode: false);
        var bodyStart = end + 2;
        var length = headers.TryGetValue("Content-Length", out var cl) && int.TryParse(cl, out var n) ? n : 0;
        if (_count < bodyStart + length)
        {
            return false; // the body is still on its way
        }
        var body = Encoding.UTF8.GetString(span.Slice(bodyStart, length));
        var consumed = bodyStart + length;
        span[consumed..].CopyTo(_buffer);
        _count -= consumed;
        frame = new EslFrame(headers, body);
        return true;
    }

    /// <summary>"Name: value" lines; in <c>text/event-plain</c> bodies the values are URL-encoded.</summary>
    public static Dictionary<string, string> ParseHeaders(string text, bool urlDecode)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in text.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }
            var value = line[(colon + 1)..].Trim();
            headers[line[..colon].Trim()] = urlDecode ? UrlDecode(value) : value;
        }
        return headers;
    }

    private static string UrlDecode(string value)
    {
        try
        {
            return Uri.UnescapeDataString(value);
        }
        catch (UriFormatException)
        {
            return value;
        }
    }
}

/// <summary>A FreeSWITCH event received as <c>text/event-plain</c>.</summary>
public sealed record EslEvent(IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string Name => this["Event-Name"] ?? "";

    public string? this[string header] => Headers.TryGetValue(header, out var v) && v.Length > 0 ? v : null;

    public static EslEvent ParsePlain(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var end = text.IndexOf("\n\n", StringComparison.Ordinal);
        var head = end < 0 ? text : text[..end];
        var headers = EslFrameParser.ParseHeaders(head, urlDecode: true);
        var body = "";
        if (end >= 0 && headers.TryGetValue("Content-Length", out var cl) && int.TryParse(cl, out var n))
        {
            var rest = text[(end + 2)..];
            // Content-Length counts bytes; the text is already decoded, so cut by bytes.
            var bytes = Encoding.UTF8.GetBytes(rest);
            body = Encoding.UTF8.GetString(bytes, 0, Math.Min(n, bytes.Length));
        }
        return new EslEvent(headers, body);
    }
}
