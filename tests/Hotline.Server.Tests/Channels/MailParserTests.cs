using System.Text;
using Hotline.Server.Channels;

namespace Hotline.Server.Tests.Channels;

/// <summary>The mail drop's parser on what citizens' mail clients actually send.</summary>
public sealed class MailParserTests
{
    static MailParserTests() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    [Fact]
    public void Gbk_quoted_printable_body_and_q_encoded_subject()
    {
        var gbk = Encoding.GetEncoding("gb2312");
        var body = string.Concat(gbk.GetBytes("小区门口垃圾三天没人清运").Select(b => $"={b:X2}"));
        var subject = string.Concat(gbk.GetBytes("垃圾清运").Select(b => $"={b:X2}"));
        var raw = $"From: \"Li\" <li@example.cn>\nSubject: =?gb2312?Q?{subject}?=\nMessage-ID: <abc@mx>\nContent-Type: text/plain; charset=gb2312\nContent-Transfer-Encoding: quoted-printable\n\n{body}\n";

        var mail = MailParser.Parse(raw);

        Assert.Equal("abc@mx", mail.MessageId);
        Assert.Equal("li@example.cn", mail.From);
        Assert.Equal("垃圾清运", mail.Subject);
        Assert.Equal("小区门口垃圾三天没人清运", mail.Body.Trim());
    }

    [Fact]
    public void Multipart_takes_the_text_plain_part()
    {
        var raw = "From: wang@example.cn\r\nSubject: hi\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html</p>\r\n--b1\r\n" +
                  "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + Convert.ToBase64String(Encoding.UTF8.GetBytes("路灯不亮")) + "\r\n--b1--\r\n";

        var mail = MailParser.Parse(raw);

        Assert.Null(mail.MessageId);
        Assert.Equal("路灯不亮", mail.Body.Trim());
    }
}
