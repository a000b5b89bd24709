using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Hotline.Telephony.Webhook;

/// <summary><c>X-Hotline-Signature: sha256=&lt;hex HMAC-SHA256 of "{timestamp}.{body}"&gt;</c> with the shared secret.</summary>
public static class WebhookSignature
{
    public const string TimestampHeader = "X-Hotline-Timestamp";
    public const string SignatureHeader = "X-Hotline-Signature";
    private const string Prefix = "sha256=";

    public static string Compute(string secret, long unixSeconds, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var ts = Encoding.ASCII.GetBytes(unixSeconds.ToString(CultureInfo.InvariantCulture) + ".");
        var message = new byte[ts.Length + body.Length];
        ts.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(ts.Length));
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message);
        return Prefix + Convert.ToHexStringLower(mac);
    }

    /// <summary>Constant-time comparison of the presented signature with the expected one.</summary>
    public static bool Verify(string secret, long unixSeconds, ReadOnlySpan<byte> body, string? presented)
    {
        if (presented is null || !presented.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        byte[] given;
        try
        {
            given = Convert.FromHexString(presented.AsSpan(Prefix.Length));
        }
        catch (FormatException)
        {
            return false;
        }
        var expected = Convert.FromHexString(Compute(secret, unixSeconds, body).AsSpan(Prefix.Length));
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }
}
