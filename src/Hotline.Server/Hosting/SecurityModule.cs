using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Hotline.Server.Auth;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Hotline.Server.Hosting;

/// <summary>
/// The host's defences: the production guard (no development key, no demo passwords), request size limits, rate
/// limits per user and per IP, security headers, model-binding errors as problem documents, and antiforgery on
/// writes signed in by the console's cookie. See src/Hotline.Server/Auth/SECURITY.md.
/// </summary>
public static class SecurityModule
{
    public const string AntiforgeryHeader = "X-XSRF-TOKEN";

    public static IHostApplicationBuilder AddHotlineSecurity(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(HotlineOptions.Section).Get<HotlineOptions>() ?? new HotlineOptions();
        if (builder.Environment.IsProduction())
            ProductionGuard.Check(options, builder.Configuration.GetSection(Channels.ChannelsOptions.Section).Get<Channels.ChannelsOptions>() ?? new Channels.ChannelsOptions());
        var security = options.Security;

        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = security.MaxRequestBodyBytes;
            k.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
        });
        builder.Services.Configure<FormOptions>(f => f.MultipartBodyLengthLimit = security.MaxRequestBodyBytes);
        // A body or parameter that cannot be bound throws, so ProblemMapping names the field in every environment.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        // A 404 from ProblemMapping (another unit's ticket, an unknown id) is the answer, not a failure of the handler.
        builder.Services.Configure<ExceptionHandlerOptions>(o => o.AllowStatusCode404Response = true);
        builder.Services.Configure<Microsoft.AspNetCore.SignalR.HubOptions>(h =>
        {
            h.MaximumReceiveMessageSize = 32 * 1024;
            h.EnableDetailedErrors = false;
        });

        builder.Services.AddAntiforgery(a =>
        {
            a.HeaderName = AntiforgeryHeader;
            a.Cookie.Name = "hotline.xsrf";
            a.Cookie.SameSite = SameSiteMode.Strict;
            a.Cookie.SecurePolicy = builder.Environment.IsDevelopment() ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
        });

        builder.Services.AddRateLimiter(r =>
        {
            r.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            r.OnRejected = async (context, ct) =>
            {
                var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(60);
                var http = context.HttpContext;
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
                await problems.WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = new ProblemDetails { Status = 429, Title = "请求过于频繁", Detail = "请稍后再试（见 Retry-After）。" },
                });
            };
            // Every request: per signed-in user, or per client IP when anonymous. Health probes are never limited.
            r.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                if (http.Request.Path.StartsWithSegments("/healthz") || http.Request.Path.StartsWithSegments("/readyz"))
                    return RateLimitPartition.GetNoLimiter("health");
                var user = http.User.FindFirstValue(ClaimTypes.NameIdentifier);
                return user is not null
                    ? PerMinute("user:" + user, security.RequestsPerUserPerMinute)
                    : PerMinute("ip:" + ClientIp(http), security.AnonymousPerIpPerMinute);
            });
            // Login and password change: per client IP (the lockout covers each username).
            r.AddPolicy(AuthModule.LoginRateLimit, http => PerMinute("login:" + ClientIp(http), security.LoginPerIpPerMinute));
        });
        return builder;
    }

    /// <summary>Security headers, rate limiting and the antiforgery check: call after UseAuthentication, before UseAuthorization.</summary>
    public static WebApplication UseHotlineSecurity(this WebApplication app)
    {
        app.UseRateLimiter();
        app.Use(async (http, next) =>
        {
            if (http.Items.ContainsKey(TokenAuthenticationHandler.ViaCookie) && IsWrite(http.Request.Method) && !http.Request.Path.StartsWithSegments("/hubs")
                && !http.Request.Path.StartsWithSegments("/api/auth/login") && !http.Request.Path.StartsWithSegments("/api/auth/logout"))
            {
                var antiforgery = http.RequestServices.GetRequiredService<IAntiforgery>();
                if (!await antiforgery.IsRequestValidAsync(http))
                {
                    http.Response.StatusCode = 400;
                    await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                    {
                        HttpContext = http,
                        ProblemDetails = new HttpValidationProblemDetails(new Dictionary<string, string[]> { [AntiforgeryHeader] = ["以 Cookie 登录时，写操作必须带 X-XSRF-TOKEN（GET /api/auth/antiforgery）"] })
                        {
                            Status = 400,
                            Title = "缺少或无效的防跨站请求令牌",
                        },
                    });
                    return;
                }
            }
            await next(http);
        });
        return app;
    }

    /// <summary>Headers on every response; call first so even errors carry them.</summary>
    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        var production = !app.Environment.IsDevelopment();
        app.Use((http, next) =>
        {
            http.Response.OnStarting(() =>
            {
                var h = http.Response.Headers;
                h.XContentTypeOptions = "nosniff";
                h.XFrameOptions = "DENY";
                h["Referrer-Policy"] = "no-referrer";
                h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()";
                h["Cross-Origin-Opener-Policy"] = "same-origin";
                h["Cross-Origin-Resource-Policy"] = "same-origin";
                h.ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; " +
                    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
                if (http.Request.Path.StartsWithSegments("/api")) h.CacheControl = "no-store";
                if (production && http.Request.IsHttps) h.StrictTransportSecurity = "max-age=31536000; includeSubDomains";
                return Task.CompletedTask;
            });
            return next(http);
        });
        return app;
    }

    private static bool IsWrite(string method) => !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method));

    private static string ClientIp(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static RateLimitPartition<string> PerMinute(string key, int permits) =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = Math.Max(1, permits),
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
}

/// <summary>The production profile (ASPNETCORE_ENVIRONMENT=Production) refuses development secrets (signing key, SMS webhook secret) and demo passwords.</summary>
public static class ProductionGuard
{
    public static void Check(HotlineOptions options, Channels.ChannelsOptions channels)
    {
        var problems = new List<string>();
        if (string.IsNullOrEmpty(channels.SmsWebhookSecret) || channels.SmsWebhookSecret == Channels.ChannelsOptions.DevelopmentSmsWebhookSecret)
            problems.Add("Hotline:Channels:SmsWebhookSecret is the development secret: set Hotline__Channels__SmsWebhookSecret to the secret agreed with the SMS operator.");
        if (string.IsNullOrEmpty(options.SigningKey) || options.SigningKey == HotlineOptions.DevelopmentSigningKey)
            problems.Add("Hotline:SigningKey is the development key: set Hotline__SigningKey to a random secret (openssl rand -base64 48).");
        else if (options.SigningKey.Length < 32)
            problems.Add("Hotline:SigningKey is shorter than 32 characters.");
        if (options.Demo)
            problems.Add($"Hotline:Demo is on: it seeds demo users with the published password; set Hotline__Demo=false and configure Hotline:Users.");
        foreach (var u in options.Users)
        {
            if (u.Password == UserDirectory.DemoPassword) problems.Add($"Hotline:Users '{u.Username}' uses the demo password.");
            else if (!string.IsNullOrEmpty(u.Password) && PasswordPolicy.Check(u.Password, u.Username, options.Security.MinPasswordLength) is { } weak)
                problems.Add($"Hotline:Users '{u.Username}': {weak}");
        }
        if (problems.Count > 0)
            throw new InvalidOperationException("The production profile refuses to start:\n  " + string.Join("\n  ", problems) +
                "\n(For the demo, run with ASPNETCORE_ENVIRONMENT=Development.)");
    }
}
