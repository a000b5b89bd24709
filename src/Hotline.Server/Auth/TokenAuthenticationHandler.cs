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
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, TokenService tokens, UserDirectory users)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "HotlineToken";
    public const string CookieName = "hotline.auth";
    public const string ViaCookie = "hotline.auth.cookie";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? token = null;
        var header = Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) token = header["Bearer ".Length..].Trim();
        else if (Request.Query.TryGetValue("access_token", out var q)) token = q.ToString();
        else if (Request.Cookies.TryGetValue(CookieName, out var c))
        {
            token = c;
            Context.Items[ViaCookie] = true;
        }
        if (string.IsNullOrEmpty(token)) return Task.FromResult(AuthenticateResult.NoResult());

        var valid = tokens.ValidateWithIssuedAt(token);
        var user = valid is { } v ? users.Find(v.UserId) : null;
        // A token issued before the last password change is void (the change signs out every other session).
        if (user is null || valid!.Value.IssuedAt < user.PasswordChangedAt.ToUnixTimeSeconds())
            return Task.FromResult(AuthenticateResult.Fail("invalid or expired token"));

        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, user.Id),
            new(ClaimTypes.Name, user.Username),
            new("unit", user.UnitId),
            new("display_name", user.DisplayName),
        };
        claims.AddRange(user.Roles.Select(r => new Claim(ClaimTypes.Role, r)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }
}

public static class ClaimsPrincipalExtensions
{
    public static string UserId(this ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("not signed in");

    public static string UnitId(this ClaimsPrincipal user) => user.FindFirstValue("unit") ?? "";

    public static bool IsOffice(this ClaimsPrincipal user) => Roles.Office.Any(user.IsInRole);
}
