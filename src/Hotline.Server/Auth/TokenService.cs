using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Hotline.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Hotline.Server.Auth;

/// <summary>What a valid token says: whose it is, when it was issued and ends, and the session it belongs to.</summary>
public sealed record TokenClaims(string UserId, long IssuedAt, DateTimeOffset ExpiresAt, string? SessionId);

/// <summary>
/// Access tokens are JSON Web Tokens (RFC 7519) signed with HMAC-SHA256 (<c>alg: HS256</c>) under
/// <c>Hotline:SigningKey</c>: claims <c>iss</c> ("hotline"), <c>sub</c> (the user), <c>iat</c>, <c>exp</c> and
/// <c>sid</c> (the session, so a sign-out revokes exactly that one). Every node with the same key accepts them; any JWT
/// library can read them. Only HS256 is accepted (never <c>none</c>), and the signature is compared in constant time.
/// </summary>
public sealed class TokenService(IOptions<HotlineOptions> options, TimeProvider time)
{
    public const string Issuer = "hotline";

    private sealed record Header([property: JsonPropertyName("alg")] string Alg, [property: JsonPropertyName("typ")] string? Typ);

    private sealed record Payload(
        [property: JsonPropertyName("iss")] string? Iss,
        [property: JsonPropertyName("sub")] string Sub,
        [property: JsonPropertyName("iat")] long Iat,
        [property: JsonPropertyName("exp")] long Exp,
        [property: JsonPropertyName("sid")] string? Sid);

    private static readonly string EncodedHeader = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Header("HS256", "JWT")));

    private byte[] Key => Encoding.UTF8.GetBytes(options.Value.SigningKey);

    public (string Token, DateTimeOffset ExpiresAt) Issue(UserAccount user)
    {
        var now = time.GetUtcNow();
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(now.AddHours(options.Value.TokenLifetimeHours).ToUnixTimeSeconds());
        var sid = Base64Url(RandomNumberGenerator.GetBytes(16));
        var signed = EncodedHeader + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Payload(Issuer, user.Id, now.ToUnixTimeSeconds(), expiresAt.ToUnixTimeSeconds(), sid)));
        return (signed + "." + Base64Url(HMACSHA256.HashData(Key, Encoding.ASCII.GetBytes(signed))), expiresAt);
    }

    /// <summary>The user id in a valid, unexpired token; null otherwise.</summary>
    public string? Validate(string token) => Read(token)?.UserId;

    /// <summary>The claims of a valid (HS256, well signed, issued here), unexpired token; null otherwise.</summary>
    public TokenClaims? Read(string token)
    {
        if (token.Length > 2048) return null;
        var parts = token.Split('.');
        if (parts.Length != 3 || parts.Any(p => p.Length == 0)) return null;
        var signed = token[..(parts[0].Length + 1 + parts[1].Length)];
        var expected = HMACSHA256.HashData(Key, Encoding.ASCII.GetBytes(signed));
        try
        {
            if (!CryptographicOperations.FixedTimeEquals(expected, FromBase64Url(parts[2]))) return null;
            var header = JsonSerializer.Deserialize<Header>(FromBase64Url(parts[0]));
            if (header?.Alg != "HS256") return null;
            var payload = JsonSerializer.Deserialize<Payload>(FromBase64Url(parts[1]));
            if (payload is null || string.IsNullOrEmpty(payload.Sub) || payload.Iss != Issuer || payload.Exp < time.GetUtcNow().ToUnixTimeSeconds()) return null;
            return new TokenClaims(payload.Sub, payload.Iat, DateTimeOffset.FromUnixTimeSeconds(payload.Exp), payload.Sid);
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
