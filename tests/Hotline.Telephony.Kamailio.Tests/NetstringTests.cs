using System.Text;
using Xunit;

namespace Hotline.Telephony.Kamailio.Tests;

/// <summary>evapi framing and SIP-code mapping, without Kamailio.</summary>
public sealed class NetstringTests
{
    [Fact]
    public void Frames_split_anywhere_and_bursts_are_cut_exactly()
    {
        var payloads = new[] { "{\"event\":\"offered\",\"caller\":\"张三\"}", "", "route 1 2 c a sip:a@h", new string('x', 5000) };
        var bytes = payloads.SelectMany(NetstringReader.Encode).ToArray();
        for (var chunk = 1; chunk <= 13; chunk += 3)
        {
            var reader = new NetstringReader();
            var got = new List<string>();
            for (var i = 0; i < bytes.Length; i += chunk)
            {
                reader.Feed(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)));
                while (reader.TryRead(out var p)) got.Add(p);
            }
            Assert.Equal(payloads, got);
        }
    }

    [Theory]
    [InlineData("abc:xyz,")]
    [InlineData("3:abcd")]
    [InlineData("99999999:x")]
    public void Garbage_is_refused(string wire)
    {
        var reader = new NetstringReader();
        reader.Feed(Encoding.ASCII.GetBytes(wire));
        Assert.Throws<FormatException>(() => reader.TryRead(out _));
    }

    [Theory]
    [InlineData(486, "USER_BUSY")]
    [InlineData(408, "NO_ANSWER")]
    [InlineData(480, "UNAVAILABLE")]
    [InlineData(503, "SIP_503")]
    public void Sip_codes_map_to_causes(int code, string cause) =>
        Assert.Equal(cause, KamailioTelephony.CauseOf(code));
}
