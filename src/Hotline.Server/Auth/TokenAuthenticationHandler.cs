using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Hotline.Server.Auth;

/// <summary>Reads "Authorization: Bearer …", or the access_token query parameter (SignalR WebSockets and file downloads).</summary>
public sealed class TokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, TokenService tokens, UserDirectory users)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "HotlineToken";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? token = null;
        var header = Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) token = header["Bearer ".Length..].Trim();
        else if (Request.Query.TryGetValue("access_token", out var q)) token = q.ToString();
        if (string.IsNullOrEmpty(token)) return Task.FromResult(AuthenticateResult.NoResult());

        var user = tokens.Validate(token) is { } id ? users.Find(id) : null;
        if (user is null) return Task.FromResult(AuthenticateResult.Fail("invalid or expired token"));

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
