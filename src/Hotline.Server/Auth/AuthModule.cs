using System.Security.Claims;
using Hotline.Server.Hosting;
using Hotline.Server.Reference;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Hotline.Server.Auth;

public static class AuthModule
{
    /// <summary><paramref name="UseCookie"/>: the console's cookie sign-in (HttpOnly, SameSite=Strict); the token is then not in the body.</summary>
    public sealed record LoginRequest(string? Username, string? Password, bool? UseCookie = null);

    public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);

    public sealed record UserView(string Id, string Username, string DisplayName, IReadOnlyList<string> Roles, string UnitId, string UnitName);

    public sealed record LoginResponse(string? Token, DateTimeOffset ExpiresAt, UserView User);

    public sealed record AntiforgeryView(string HeaderName, string Token);

    public const string LoginRateLimit = "login";

    public static IHostApplicationBuilder AddHotlineAuth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<TokenService>();
        builder.Services.AddSingleton<InMemoryLoginAttempts>();
        // Lockout and the per-user login rate: in Redis when it is configured (every node counts together), else in process.
        builder.Services.AddSingleton<ILoginAttempts>(sp => sp.GetService<StackExchange.Redis.IConnectionMultiplexer>() is { } redis
            ? new RedisLoginAttempts(redis, new LoginKeys(builder.Configuration["Hotline:RedisPrefix"] ?? "hotline"), sp.GetRequiredService<IOptions<HotlineOptions>>(),
                sp.GetRequiredService<InMemoryLoginAttempts>(), sp.GetRequiredService<ILogger<RedisLoginAttempts>>())
            : sp.GetRequiredService<InMemoryLoginAttempts>());
        builder.Services.AddSingleton<UserDirectory>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<HotlineOptions>>().Value;
            var users = new UserDirectory();
            if (options.Demo) UserDirectory.SeedDemo(users);
            foreach (var u in options.Users.Where(u => !string.IsNullOrWhiteSpace(u.Username)))
            {
                var account = new UserAccount(u.Username, u.Username, u.DisplayName ?? u.Username, u.Roles, u.UnitId) { Skills = u.Skills };
                if (!string.IsNullOrEmpty(u.PasswordHash)) users.AddHashed(account with { PasswordHash = u.PasswordHash });
                else if (!string.IsNullOrEmpty(u.Password)) users.Add(account, u.Password);
                else throw new InvalidOperationException($"Hotline:Users: '{u.Username}' needs a PasswordHash or a Password.");
            }
            return users;
        });
        builder.Services.AddSingleton<SessionRevocations>();
        builder.Services.AddSingleton<AccountStore>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AccountStore>());
        builder.Services.AddAuthentication(TokenAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, TokenAuthenticationHandler>(TokenAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy("office", p => p.RequireRole(Roles.Agent, Roles.Supervisor, Roles.Dispatcher, Roles.Callback, Roles.Admin))
            .AddPolicy("agent", p => p.RequireRole(Roles.Agent, Roles.Supervisor, Roles.Admin))
            .AddPolicy("supervisor", p => p.RequireRole(Roles.Supervisor, Roles.Leader, Roles.Admin))
            .AddPolicy("dispatcher", p => p.RequireRole(Roles.Dispatcher, Roles.Admin))
            .AddPolicy("handler", p => p.RequireRole(Roles.Handler))
            .AddPolicy("callback", p => p.RequireRole(Roles.Callback, Roles.Dispatcher, Roles.Admin))
            .AddPolicy("leader", p => p.RequireRole(Roles.Leader, Roles.Supervisor, Roles.Admin))
            .AddPolicy("admin", p => p.RequireRole(Roles.Admin));
        return builder;
    }

    public static IEndpointRouteBuilder MapHotlineAuth(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/auth").WithTags("auth");
        group.MapPost("/login", async Task<Results<Ok<LoginResponse>, ProblemHttpResult, ValidationProblem>> (
            LoginRequest request, HttpContext http, UserDirectory users, ILoginAttempts attempts, TokenService tokens, CityReference city, IHostEnvironment env) =>
        {
            var errors = new Dictionary<string, string[]>();
            if (string.IsNullOrWhiteSpace(request.Username)) errors["username"] = ["用户名不能为空"];
            else if (request.Username.Length > 64 || request.Username.Any(char.IsControl)) errors["username"] = ["用户名过长或含控制字符"];
            if (string.IsNullOrEmpty(request.Password)) errors["password"] = ["密码不能为空"];
            else if (request.Password.Length > 256) errors["password"] = ["密码过长"];
            if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "登录信息不完整");

            var username = request.Username!.Trim();
            var ct = http.RequestAborted;
            if (await attempts.BeginAsync(username, ct) is { } blocked) return blocked.Locked ? Locked(http, blocked.RetryAfter) : TooOften(http, blocked.RetryAfter);
            var user = users.Verify(username, request.Password!);
            if (user is null)
            {
                return await attempts.FailedAsync(username, ct) is { } lockout
                    ? Locked(http, lockout)
                    : TypedResults.Problem(title: "用户名或密码错误", statusCode: StatusCodes.Status401Unauthorized);
            }
            await attempts.SucceededAsync(username, ct);
            var (token, expiresAt) = tokens.Issue(user);
            if (request.UseCookie == true)
            {
                SetAuthCookie(http, env, token, expiresAt);
                return TypedResults.Ok(new LoginResponse(null, expiresAt, ViewOf(user, city)));
            }
            return TypedResults.Ok(new LoginResponse(token, expiresAt, ViewOf(user, city)));
        }).AllowAnonymous().RequireRateLimiting(LoginRateLimit);

        // Sign-out: clears the cookie and revokes the session (bearer or cookie) on every node, so a copy of the token
        // or the cookie no longer works either. Anonymous callers (an expired cookie) just get the cookie cleared.
        group.MapPost("/logout", async Task<Results<NoContent, ProblemHttpResult>> (HttpContext http, ClaimsPrincipal principal, AccountStore accounts, TimeProvider time, ILogger<AccountStore> logger) =>
        {
            http.Response.Cookies.Delete(TokenAuthenticationHandler.CookieName, new CookieOptions { Path = "/" });
            var sid = principal.FindFirstValue(TokenAuthenticationHandler.SessionClaim);
            var expires = http.Features.Get<Microsoft.AspNetCore.Authentication.IAuthenticateResultFeature>()?.AuthenticateResult?.Properties?.ExpiresUtc;
            if (sid is null || expires is null || principal.Identity?.Name is not { } username) return TypedResults.NoContent();
            try
            {
                await accounts.SignOutAsync(username, sid, expires.Value, time.GetUtcNow(), http.RequestAborted);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The cookie is gone from this browser and this node refuses the session; other nodes learn it once the store is back.
                logger.LogWarning(e, "Sign-out of {User} not recorded", username);
                http.Response.Headers.RetryAfter = "5";
                return TypedResults.Problem(title: "已退出本机登录，但注销记录暂未保存", detail: "事件存储暂不可用，请稍后再试一次退出。", statusCode: StatusCodes.Status503ServiceUnavailable);
            }
            return TypedResults.NoContent();
        }).AllowAnonymous();

        // The console (cookie sign-in) fetches this once and sends it back as X-XSRF-TOKEN on every write.
        group.MapGet("/antiforgery", (HttpContext http, IAntiforgery antiforgery) =>
        {
            var tokens = antiforgery.GetAndStoreTokens(http);
            return TypedResults.Ok(new AntiforgeryView(tokens.HeaderName ?? SecurityModule.AntiforgeryHeader, tokens.RequestToken ?? ""));
        }).RequireAuthorization();

        group.MapPost("/password", async Task<Results<Ok<LoginResponse>, ProblemHttpResult, ValidationProblem>> (
            ChangePasswordRequest request, HttpContext http, ClaimsPrincipal principal, UserDirectory users, AccountStore accounts, TokenService tokens,
            ILoginAttempts attempts, CityReference city, IOptions<HotlineOptions> options, TimeProvider time, IHostEnvironment env, CancellationToken ct) =>
        {
            if (users.Find(principal.UserId()) is not { } user) return TypedResults.Problem(title: "未登录", statusCode: 401);
            // Guessing the current password from a borrowed session counts toward the same lockout as the login.
            if (await attempts.BeginAsync(user.Username, ct) is { } blocked) return blocked.Locked ? Locked(http, blocked.RetryAfter) : TooOften(http, blocked.RetryAfter);
            var errors = new Dictionary<string, string[]>();
            if (string.IsNullOrEmpty(request.CurrentPassword)) errors["currentPassword"] = ["请输入当前密码"];
            else if (request.CurrentPassword.Length > 256 || !users.Matches(user, request.CurrentPassword))
            {
                if (await attempts.FailedAsync(user.Username, ct) is { } lockout) return Locked(http, lockout);
                errors["currentPassword"] = ["当前密码不正确"];
            }
            if (PasswordPolicy.Check(request.NewPassword, user.Username, options.Value.Security.MinPasswordLength) is { } reason) errors["newPassword"] = [reason];
            else if (request.NewPassword == request.CurrentPassword) errors["newPassword"] = ["新密码不能与当前密码相同"];
            if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "密码未修改");

            await accounts.ChangePasswordAsync(user, request.NewPassword!, user.Username, time.GetUtcNow(), ct);
            var changed = users.Find(user.Username)!;
            var (token, expiresAt) = tokens.Issue(changed);
            if (http.Items.ContainsKey(TokenAuthenticationHandler.ViaCookie))
            {
                SetAuthCookie(http, env, token, expiresAt);
                return TypedResults.Ok(new LoginResponse(null, expiresAt, ViewOf(changed, city)));
            }
            return TypedResults.Ok(new LoginResponse(token, expiresAt, ViewOf(changed, city)));
        }).RequireAuthorization().RequireRateLimiting(LoginRateLimit);

        app.MapPost("/api/admin/users/{username}/unlock", async (string username, UserDirectory users, ILoginAttempts attempts, CancellationToken ct) =>
        {
            if (users.Find(username) is null) return Results.Problem(statusCode: 404, title: "用户不存在");
            await attempts.UnlockAsync(username, ct);
            return Results.NoContent();
        }).RequireAuthorization("admin").WithTags("auth");

        // Every endpoint of the app and who may call it, straight from the routing table (the authorization matrix test
        // walks it, so an endpoint without a policy cannot slip in).
        app.MapGet("/api/admin/endpoints", async (EndpointDataSource endpoints, IAuthorizationPolicyProvider policies) =>
        {
            var list = new List<EndpointAccessView>();
            foreach (var e in endpoints.Endpoints.OfType<RouteEndpoint>())
                list.Add(await EndpointAccessView.OfAsync(e, policies));
            return TypedResults.Ok(list.OrderBy(v => v.Route, StringComparer.Ordinal).ThenBy(v => string.Join(',', v.Methods), StringComparer.Ordinal).ToList());
        }).RequireAuthorization("admin").WithTags("auth");

        app.MapGet("/api/me", (ClaimsPrincipal principal, UserDirectory users, CityReference city) =>
            users.Find(principal.UserId()) is { } user ? Results.Ok(ViewOf(user, city)) : Results.Unauthorized())
            .RequireAuthorization().WithTags("auth");
        return app;
    }

    private static ProblemHttpResult Locked(HttpContext http, TimeSpan left)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(left.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(title: "登录失败次数过多，账户已临时锁定", detail: $"请在 {Math.Ceiling(left.TotalMinutes)} 分钟后重试，或联系管理员解锁。", statusCode: StatusCodes.Status423Locked);
    }

    private static ProblemHttpResult TooOften(HttpContext http, TimeSpan left)
    {
        http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(left.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(title: "该账户登录尝试过于频繁", detail: "请稍后再试（见 Retry-After）。", statusCode: StatusCodes.Status429TooManyRequests);
    }

    private static void SetAuthCookie(HttpContext http, IHostEnvironment env, string token, DateTimeOffset expiresAt) =>
        http.Response.Cookies.Append(TokenAuthenticationHandler.CookieName, token, new CookieOptions
        {
            HttpOnly = true,
            Secure = http.Request.IsHttps || !env.IsDevelopment(),
            SameSite = SameSiteMode.Strict,
            Path = "/",
            Expires = expiresAt,
            IsEssential = true,
        });

    public static UserView ViewOf(UserAccount user, CityReference city) =>
        new(user.Id, user.Username, user.DisplayName, user.Roles, user.UnitId, city.UnitOf(user.UnitId)?.Name ?? user.UnitId);
}

/// <summary>What a new password must be: long enough, three kinds of characters, not the username, not the demo password.</summary>
public static class PasswordPolicy
{
    public static string? Check(string? password, string username, int minLength)
    {
        if (string.IsNullOrEmpty(password)) return "新密码不能为空";
        if (password.Length < minLength) return $"新密码至少 {minLength} 位";
        if (password.Length > 128) return "新密码不能超过 128 位";
        if (password.Any(char.IsControl)) return "新密码不能含控制字符";
        var kinds = (password.Any(char.IsUpper) ? 1 : 0) + (password.Any(char.IsLower) ? 1 : 0) + (password.Any(char.IsDigit) ? 1 : 0) + (password.Any(c => !char.IsLetterOrDigit(c)) ? 1 : 0);
        if (kinds < 3) return "新密码须包含大写字母、小写字母、数字、符号中的至少三类";
        if (password.Contains(username, StringComparison.OrdinalIgnoreCase)) return "新密码不能包含用户名";
        if (password == UserDirectory.DemoPassword) return "不能使用演示密码";
        return null;
    }
}

/// <summary>
/// Who may call one endpoint: <see cref="Anonymous"/> (AllowAnonymous), or <see cref="Policies"/> and the roles they
/// require (empty = any signed-in user); <see cref="Declared"/> is false when the endpoint has no authorization
/// metadata at all (public by omission, e.g. static files and the SPA fallback).
/// </summary>
public sealed record EndpointAccessView(string Route, IReadOnlyList<string> Methods, bool Anonymous, bool Declared, IReadOnlyList<string> Policies,
    IReadOnlyList<string>? Roles, IReadOnlyList<string> OtherRequirements)
{
    public static async Task<EndpointAccessView> OfAsync(RouteEndpoint e, IAuthorizationPolicyProvider provider)
    {
        var route = "/" + (e.RoutePattern.RawText ?? "").TrimStart('/');
        var methods = e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IHttpMethodMetadata>()?.HttpMethods.ToList() ?? [];
        var data = e.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>();
        var inline = e.Metadata.GetOrderedMetadata<AuthorizationPolicy>();
        var anonymous = e.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is not null;
        var declared = anonymous || data.Count > 0 || inline.Count > 0;
        var names = data.Select(d => d.Policy ?? (d.Roles is { } r ? "roles:" + r : "authenticated")).Concat(inline.Select(_ => "inline")).Distinct().ToList();
        IReadOnlyList<string>? roles = null;
        var other = new List<string>();
        if (!anonymous && (data.Count > 0 || inline.Count > 0) && await AuthorizationPolicy.CombineAsync(provider, data, inline) is { } policy)
        {
            foreach (var requirement in policy.Requirements)
                switch (requirement)
                {
                    case Microsoft.AspNetCore.Authorization.Infrastructure.RolesAuthorizationRequirement r:
                        roles = roles is null ? r.AllowedRoles.ToList() : roles.Intersect(r.AllowedRoles).ToList();
                        break;
                    case Microsoft.AspNetCore.Authorization.Infrastructure.DenyAnonymousAuthorizationRequirement:
                        break;
                    default:
                        other.Add(requirement.GetType().Name);
                        break;
                }
        }
        return new EndpointAccessView(route, methods, anonymous, declared, names, roles?.Order(StringComparer.Ordinal).ToList(), other);
    }
}
