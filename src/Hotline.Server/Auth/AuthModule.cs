using Hotline.Server.Reference;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Hotline.Server.Auth;

public static class AuthModule
{
    public sealed record LoginRequest(string? Username, string? Password);

    public sealed record UserView(string Id, string Username, string DisplayName, IReadOnlyList<string> Roles, string UnitId, string UnitName);

    public sealed record LoginResponse(string Token, DateTimeOffset ExpiresAt, UserView User);

    public static IHostApplicationBuilder AddHotlineAuth(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<TokenService>();
        builder.Services.AddSingleton<UserDirectory>(sp =>
        {
            var users = new UserDirectory();
            UserDirectory.SeedDemo(users);
            return users;
        });
        builder.Services.AddAuthentication(TokenAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, TokenAuthenticationHandler>(TokenAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy("office", p => p.RequireRole(Roles.Agent, Roles.Supervisor, Roles.Dispatcher, Roles.Callback, Roles.Admin))
            .AddPolicy("agent", p => p.RequireRole(Roles.Agent, Roles.Supervisor, Roles.Admin))
            .AddPolicy("supervisor", p => p.RequireRole(Roles.Supervisor, Roles.Leader, Roles.Admin))
            .AddPolicy("dispatcher", p => p.RequireRole(Roles.Dispatcher, Roles.Admin))
            .AddPolicy("handler", p => p.RequireRole(Roles.Handler))
            .AddPolicy("callback", p => p.RequireRole(Roles.Callback, Roles.Dispatcher, Roles.Admin))
            .AddPolicy("leader", p => p.RequireRole(Roles.Leader, Roles.Supervisor, Roles.Admin));
        return builder;
    }

    public static IEndpointRouteBuilder MapHotlineAuth(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/auth").WithTags("auth");
        group.MapPost("/login", Results<Ok<LoginResponse>, ProblemHttpResult, ValidationProblem> (LoginRequest request, UserDirectory users, TokenService tokens, CityReference city) =>
        {
            var errors = new Dictionary<string, string[]>();
            if (string.IsNullOrWhiteSpace(request.Username)) errors["username"] = ["用户名不能为空"];
            if (string.IsNullOrEmpty(request.Password)) errors["password"] = ["密码不能为空"];
            if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "登录信息不完整");

            var user = users.Verify(request.Username!, request.Password!);
            if (user is null) return TypedResults.Problem(title: "用户名或密码错误", statusCode: StatusCodes.Status401Unauthorized);
            var (token, expiresAt) = tokens.Issue(user);
            return TypedResults.Ok(new LoginResponse(token, expiresAt, ViewOf(user, city)));
        }).AllowAnonymous();

        app.MapGet("/api/me", (System.Security.Claims.ClaimsPrincipal principal, UserDirectory users, CityReference city) =>
            users.Find(principal.UserId()) is { } user ? Results.Ok(ViewOf(user, city)) : Results.Unauthorized())
            .RequireAuthorization().WithTags("auth");
        return app;
    }

    public static UserView ViewOf(UserAccount user, CityReference city) =>
        new(user.Id, user.Username, user.DisplayName, user.Roles, user.UnitId, city.UnitOf(user.UnitId)?.Name ?? user.UnitId);
}
