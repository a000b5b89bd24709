using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Hotline.Server.Auth;

/// <summary>
/// Reads "Authorization: Bearer …", the access_token query parameter (SignalR WebSockets and file downloads), or the
/// console's HttpOnly cookie. A request signed in by the cookie is marked so the antiforgery check applies to its writes.
/// </summary>
public sealed class TokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, TokenService tokens, UserDirectory users,
    SessionRevocations revocations)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "HotlineToken";
    public const string CookieName = "hotline.auth";
    public const string ViaCookie = "hotline.auth.cookie";
    public const string SessionClaim = "sid";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? token = null;
        var header = Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > "Bearer ".Length) token = header["Bearer ".Length..].Trim();
        else if (Request.Query.TryGetValue("access_token", out var q) && q.Count > 0) token = q.ToString();
        else if (Request.Cookies.TryGetValue(CookieName, out var c))
        {
            token = c;
            Context.Items[ViaCookie] = true;
        }
        if (string.IsNullOrEmpty(token)) return Task.FromResult(AuthenticateResult.NoResult());

        var valid = tokens.Read(token);
        var user = valid is { } v ? users.Find(v.UserId) : null;
        // A token issued before the last password change is void (the change signs out every other session), and so
        // is a session that signed out.
        if (user is null || valid!.IssuedAt < user.PasswordChangedAt.ToUnixTimeSeconds() || revocations.IsRevoked(valid.SessionId))
            return Task.FromResult(AuthenticateResult.Fail("invalid, expired or signed-out token"));

        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, user.Id),
            new(ClaimTypes.Name, user.Username),
            new("unit", user.UnitId),
            new("display_name", user.DisplayName),
        };
        if (valid.SessionId is { } sid) claims.Add(new Claim(SessionClaim, sid));
        claims.AddRange(user.Roles.Select(r => new Claim(ClaimTypes.Role, r)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        // ExpiresUtc lets SignalR close a hub connection whose session has ended (CloseOnAuthenticationExpiration).
        var properties = new AuthenticationProperties { ExpiresUtc = valid.ExpiresAt, IssuedUtc = DateTimeOffset.FromUnixTimeSeconds(valid.IssuedAt) };
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, properties, SchemeName)));
    }
}

public static class ClaimsPrincipalExtensions
{
    public static string UserId(this ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("not signed in");

    public static string UnitId(this ClaimsPrincipal user) => user.FindFirstValue("unit") ?? "";

    public static bool IsOffice(this ClaimsPrincipal user) => Roles.Office.Any(user.IsInRole);
}
