using System.Buffers;
using System.Globalization;
using System.Text;

namespace Hotline.Telephony.Kamailio;

/// <summary>
/// Netstring framing as evapi uses it (<c>netstring_format=1</c>): <c>&lt;length&gt;:&lt;payload&gt;,</c>, length in
/// bytes, ASCII decimal. The reader copes with frames split across reads and several frames in one read.
/// </summary>
public sealed class NetstringReader
{
    /// <summary>Longest payload accepted; a corrupt length must not make us buffer forever.</summary>
    public const int MaxPayload = 1024 * 1024;

    private readonly ArrayBufferWriter<byte> _buffer = new();
    private int _start;

    public void Feed(ReadOnlySpan<byte> data)
    {
        if (_start > 0)
        {
            // Keep only the unread tail so a long-lived connection does not grow the buffer.
            var rest = _buffer.WrittenSpan[_start..].ToArray();
            _buffer.ResetWrittenCount();
            _buffer.Write(rest);
            _start = 0;
        }
        _buffer.Write(data);
    }

    /// <summary>The next complete payload, or false when more bytes are needed. Throws <see cref="FormatException"/> on garbage.</summary>
    public bool TryRead(out string payload)
    {
        payload = "";
        var span = _buffer.WrittenSpan[_start..];
        var colon = span.IndexOf((byte)':');
        if (colon < 0)
        {
            if (span.Length > 10) throw new FormatException("netstring: no length prefix");
            return false;
        }
        if (colon == 0 || colon > 7 || !int.TryParse(span[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out var length) || length > MaxPayload)
        {
            throw new FormatException("netstring: bad length prefix");
        }
        if (span.Length < colon + 1 + length + 1) return false;
        if (span[colon + 1 + length] != (byte)',') throw new FormatException("netstring: missing ',' terminator");
        payload = Encoding.UTF8.GetString(span.Slice(colon + 1, length));
        _start += colon + 1 + length + 1;
        if (_start == _buffer.WrittenCount)
        {
            _buffer.ResetWrittenCount();
            _start = 0;
        }
        return true;
    }

    public static byte[] Encode(string payload)
    {
        var body = Encoding.UTF8.GetBytes(payload);
        var head = Encoding.ASCII.GetBytes(body.Length.ToString(CultureInfo.InvariantCulture) + ":");
        var frame = new byte[head.Length + body.Length + 1];
        head.CopyTo(frame, 0);
        body.CopyTo(frame, head.Length);
        frame[^1] = (byte)',';
        return frame;
    }
}
