namespace Hotline.Server.Channels;

/// <summary>The "Hotline:Channels" configuration section (environment: Hotline__Channels__SmsWebhookSecret=…). The outbound gateway is under Hotline:Outbox.</summary>
public sealed class ChannelsOptions
{
    public const string Section = "Hotline:Channels";

    /// <summary>The development default of <see cref="SmsWebhookSecret"/>; the production profile refuses to start with it.</summary>
    public const string DevelopmentSmsWebhookSecret = "dev-sms-secret";

    /// <summary>Shared secret the SMS operator sends as X-Sms-Secret on the inbound webhook.</summary>
    public string SmsWebhookSecret { get; set; } = DevelopmentSmsWebhookSecret;

    /// <summary>Folder watched for .eml files (the mailbox's drop folder). Default: {DataDirectory}/maildrop.</summary>
    public string? MailDropDirectory { get; set; }

    public double MailPollSeconds { get; set; } = 5;

    /// <summary>Channel response limits: SMS acknowledgement, mailbox answer.</summary>
    public double SmsResponseMinutes { get; set; } = 3;
    public double MailResponseHours { get; set; } = 24;

    /// <summary>Anti-abuse: verification codes and public submissions per phone per hour, requests per client address per minute.</summary>
    public int CodesPerPhonePerHour { get; set; } = 5;
    public int SubmissionsPerPhonePerHour { get; set; } = 5;
    public int PublicRequestsPerAddressPerMinute { get; set; } = 60;

    /// <summary>Public appeal photos: how many, and how large each (JPEG, PNG or WebP).</summary>
    public int MaxPhotos { get; set; } = 3;
    public long MaxPhotoBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>Partners (city app, WeChat mini-program, upper platforms, 110) with client credentials.</summary>
    public List<PartnerOptions> Partners { get; set; } = [];
}

public sealed class PartnerOptions
{
    public string Id { get; set; } = "";
    public string Secret { get; set; } = "";
    public string Name { get; set; } = "";

    /// <summary>The ticket channel recorded for this partner's tickets: APP, 微信, 上级派发 or 110转入.</summary>
    public string Channel { get; set; } = "APP";
}
