using System.Net.Mail;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Hotline.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Hotline.Server.Channels;

/// <summary>The SMS operator's inbound webhook: each message becomes a draft (idempotent by the operator's message id).</summary>
public static class SmsInbound
{
    public sealed record SmsMessage(string? MessageId, string? From, string? Text);

    public static RouteGroupBuilder MapSmsInbound(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/channels/sms").WithTags("channels").AllowAnonymous();
        group.MapPost("/inbound", async (SmsMessage body, HttpContext http, DraftIntake intake, IOptions<ChannelsOptions> options, CancellationToken ct) =>
        {
            var secret = http.Request.Headers["X-Sms-Secret"].ToString();
            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(options.Value.SmsWebhookSecret)))
                return Results.Problem(statusCode: 401, title: "短信网关密钥错误");
            new Domain.Common.FieldErrors().Require("messageId", body.MessageId, 100, "短信编号").Require("from", body.From, 30, "发送号码").Require("text", body.Text, 2000, "短信内容").ThrowIfAny();
            var draft = await intake.ReceiveAsync(ChannelNames.Sms, body.MessageId!.Trim(), body.From!.Trim(), null, body.Text!.Trim(), ct);
            return Results.Ok(intake.View(draft));
        });
        return group;
    }
}

/// <summary>
/// Mailbox intake: watches a drop folder for .eml files (what an SMTP server's maildir or a fetchmail job writes), turns each into a
/// draft keyed by its Message-ID (or its content hash) and moves it to processed/ (or failed/ when it cannot be read).
/// </summary>
public sealed partial class MailDropWatcher(DraftIntake intake, ChannelsProjection projection, IOptions<ChannelsOptions> options, IOptions<HotlineOptions> hotline, ILogger<MailDropWatcher> logger) : BackgroundService
{
    public string Folder => options.Value.MailDropDirectory is { Length: > 0 } d ? Path.GetFullPath(d) : Path.Combine(Path.GetFullPath(hotline.Value.DataDirectory), "maildrop");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await projection.CaughtUp.WaitAsync(stoppingToken);
            Directory.CreateDirectory(Folder);
            logger.LogInformation("Mail intake watches {Folder}", Folder);
            while (!stoppingToken.IsCancellationRequested)
            {
                foreach (var file in Directory.EnumerateFiles(Folder, "*.eml").Order(StringComparer.Ordinal).ToList())
                    await ProcessAsync(file, stoppingToken);
                await Task.Delay(TimeSpan.FromSeconds(options.Value.MailPollSeconds), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    private async Task ProcessAsync(string file, CancellationToken ct)
    {
        string target;
        try
        {
            var raw = await File.ReadAllTextAsync(file, Encoding.UTF8, ct);
            var mail = MailParser.Parse(raw);
            var id = mail.MessageId ?? Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(raw)))[..32];
            var from = mail.From ?? throw new FormatException("no From header");
            await intake.ReceiveAsync(ChannelNames.Mail, id, from, mail.Subject, string.IsNullOrWhiteSpace(mail.Body) ? mail.Subject ?? "" : mail.Body.Trim(), ct);
            target = "processed";
        }
        catch (Exception e) when (e is FormatException or IOException or ArgumentException or Domain.Common.DomainValidationException)
        {
            logger.LogWarning("Mail {File} could not be read: {Error}", file, e.Message);
            target = "failed";
        }
        var dir = Path.Combine(Folder, target);
        Directory.CreateDirectory(dir);
        File.Move(file, Path.Combine(dir, Path.GetFileName(file)), overwrite: true);
    }
}

public sealed record ParsedMail(string? MessageId, string? From, string? Subject, string Body);

/// <summary>Just enough RFC 5322/2047/2045 for citizen mail: headers (folded, encoded-words), a text/plain part, base64 or quoted-printable.</summary>
public static partial class MailParser
{
    public static ParsedMail Parse(string raw)
    {
        var text = raw.Replace("\r\n", "\n", StringComparison.Ordinal);
        var split = text.IndexOf("\n\n", StringComparison.Ordinal);
        var (head, body) = split < 0 ? (text, "") : (text[..split], text[(split + 2)..]);
        var headers = Headers(head);
        var from = headers.GetValueOrDefault("from");
        string? address = null;
        if (from is not null)
        {
            try { address = new MailAddress(DecodeWords(from)).Address; } catch (FormatException) { address = null; }
        }
        return new ParsedMail(headers.GetValueOrDefault("message-id")?.Trim().Trim('<', '>'), address,
            headers.TryGetValue("subject", out var s) ? DecodeWords(s).Trim() : null, Body(headers, body));
    }

    private static Dictionary<string, string> Headers(string head)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? last = null;
        foreach (var line in head.Split('\n'))
        {
            if (line.Length > 0 && (line[0] == ' ' || line[0] == '\t') && last is not null) { headers[last] += " " + line.Trim(); continue; }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0) continue;
            last = line[..colon].Trim();
            headers[last] = line[(colon + 1)..].Trim();
        }
        return headers;
    }

    private static string Body(Dictionary<string, string> headers, string body)
    {
        var type = headers.GetValueOrDefault("content-type") ?? "text/plain";
        if (type.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) && Boundary().Match(type) is { Success: true } b)
        {
            foreach (var part in body.Split("--" + b.Groups[1].Value))
            {
                var p = part.TrimStart('\n');
                var split = p.IndexOf("\n\n", StringComparison.Ordinal);
                if (split < 0) continue;
                var ph = Headers(p[..split]);
                if ((ph.GetValueOrDefault("content-type") ?? "text/plain").StartsWith("text/plain", StringComparison.OrdinalIgnoreCase))
                    return Body(ph, p[(split + 2)..]);
            }
            return "";
        }
        var encoding = (headers.GetValueOrDefault("content-transfer-encoding") ?? "").Trim().ToLowerInvariant();
        var charset = Charset().Match(type) is { Success: true } c ? c.Groups[1].Value : "utf-8";
        var enc = Encoding.GetEncoding(charset);
        return encoding switch
        {
            "base64" => enc.GetString(Convert.FromBase64String(string.Concat(body.Where(ch => !char.IsWhiteSpace(ch))))),
            "quoted-printable" => enc.GetString(QuotedPrintable(body)),
            _ => body,
        };
    }

    private static byte[] QuotedPrintable(string s)
    {
        var bytes = new List<byte>();
        var text = s.Replace("=\n", "", StringComparison.Ordinal);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '=' && i + 2 < text.Length && Uri.IsHexDigit(text[i + 1]) && Uri.IsHexDigit(text[i + 2]))
            {
                bytes.Add(Convert.ToByte(text.Substring(i + 1, 2), 16));
                i += 2;
            }
            else bytes.AddRange(Encoding.UTF8.GetBytes(text[i].ToString()));
        }
        return [.. bytes];
    }

    public static string DecodeWords(string value) => EncodedWord().Replace(value, m =>
    {
        var enc = Encoding.GetEncoding(m.Groups[1].Value);
        var data = m.Groups[3].Value;
        return m.Groups[2].Value.Equals("B", StringComparison.OrdinalIgnoreCase)
            ? enc.GetString(Convert.FromBase64String(data))
            : enc.GetString(QuotedPrintable(data.Replace('_', ' ')));
    });

    [GeneratedRegex(@"=\?([^?]+)\?([BbQq])\?([^?]*)\?=\s*")]
    private static partial Regex EncodedWord();

    [GeneratedRegex("boundary=\"?([^\";]+)\"?", RegexOptions.IgnoreCase)]
    private static partial Regex Boundary();

    [GeneratedRegex("charset=\"?([^\";]+)\"?", RegexOptions.IgnoreCase)]
    private static partial Regex Charset();
}
