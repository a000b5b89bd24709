using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hotline.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Hotline.Server.Auth;

/// <summary>What a valid token says: whose it is, when it was issued and ends, and the session it belongs to.</summary>
public sealed record TokenClaims(string UserId, long IssuedAt, DateTimeOffset ExpiresAt, string? SessionId);

/// <summary>
/// Compact signed access tokens: base64url(JSON {sub, exp, iat, sid}) "." base64url(HMAC-SHA256). Every node with the
/// same key accepts them. <c>sid</c> names the session, so a sign-out can revoke exactly that one.
/// </summary>
public sealed class TokenService(IOptions<HotlineOptions> options, TimeProvider time)
{
    private sealed record Payload(string Sub, long Exp, long Iat = 0, string? Sid = null);

    private byte[] Key => Encoding.UTF8.GetBytes(options.Value.SigningKey);

    public (string Token, DateTimeOffset ExpiresAt) Issue(UserAccount user)
    {
        var now = time.GetUtcNow();
        var expiresAt = now.AddHours(options.Value.TokenLifetimeHours);
        var sid = Base64Url(RandomNumberGenerator.GetBytes(16));
        var body = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Payload(user.Id, expiresAt.ToUnixTimeSeconds(), now.ToUnixTimeSeconds(), sid)));
        return (body + "." + Base64Url(HMACSHA256.HashData(Key, Encoding.ASCII.GetBytes(body))), DateTimeOffset.FromUnixTimeSeconds(expiresAt.ToUnixTimeSeconds()));
    }

    /// <summary>The user id in a valid, unexpired token; null otherwise.</summary>
    public string? Validate(string token) => Read(token)?.UserId;

    /// <summary>The claims of a valid (well signed), unexpired token; null otherwise.</summary>
    public TokenClaims? Read(string token)
    {
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == token.Length - 1 || token.Length > 2048) return null;
        var body = token[..dot];
        var expected = HMACSHA256.HashData(Key, Encoding.ASCII.GetBytes(body));
        byte[] given;
        try { given = FromBase64Url(token[(dot + 1)..]); } catch (FormatException) { return null; }
        if (!CryptographicOperations.FixedTimeEquals(expected, given)) return null;
        try
        {
            var payload = JsonSerializer.Deserialize<Payload>(FromBase64Url(body));
            return payload is null || payload.Exp < time.GetUtcNow().ToUnixTimeSeconds()
                ? null
                : new TokenClaims(payload.Sub, payload.Iat, DateTimeOffset.FromUnixTimeSeconds(payload.Exp), payload.Sid);
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentOutOfRangeException) { return null; }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string s)
    {
        var b = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(b.PadRight(b.Length + ((4 - (b.Length % 4)) % 4), '='));
    }
}
