namespace Hotline.Telephony.Webhook;

public sealed class WebhookOptions
{
    public const string SourceName = "webhook";

    /// <summary>Shared secret for HMAC-SHA256 signatures in both directions. At least 32 characters.</summary>
    public string Secret { get; set; } = "";

    /// <summary>Requests whose X-Hotline-Timestamp is further from now than this are rejected as replays.</summary>
    public TimeSpan AllowedClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    public string Path { get; set; } = "/api/telephony/webhook";

    public int MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Where the PBX accepts commands (route/accept/transfer/release) as signed JSON POSTs. Null: the
    /// platform is event-only and every command throws <see cref="TelephonyCommandException"/>.</summary>
    public Uri? CommandUrl { get; set; }

    /// <summary>Name reported in <see cref="CallEvent.Source"/>, e.g. "webhook:aliyun-ccc".</summary>
    public string Source { get; set; } = SourceName;
}
