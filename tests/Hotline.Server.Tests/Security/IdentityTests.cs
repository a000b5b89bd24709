using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Hotline.Server.Tests.Faults;
using Hotline.Testing;

namespace Hotline.Server.Tests.Security;

/// <summary>Lockout, password change, the console's cookie with antiforgery, rate limits, headers, size limits, the production guard.</summary>
[Collection(Faults.FaultsCollection.Name)]
public sealed class IdentityTests(IdentityTests.Server fixture) : IClassFixture<IdentityTests.Server>
{
    /// <summary>One server for the class: lockout after 3 failures, 64 KiB bodies.</summary>
    public sealed class Server : IAsyncLifetime
    {
        public ServerProcess Process { get; private set; } = null!;

        public async Task InitializeAsync() => Process = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["Hotline:Security:MaxFailedLogins"] = "3",
            ["Hotline:Security:LockoutMinutes"] = "5",
            ["Hotline:Security:LoginPerIpPerMinute"] = "1000",
            ["Hotline:Security:MaxRequestBodyBytes"] = "65536",
        });

        public async Task DisposeAsync() => await Process.DisposeAsync();
    }

    private readonly ServerProcess _server = fixture.Process;

    private async Task<HttpResponseMessage> LoginAsync(HttpClient http, string username, string password, bool cookie = false) =>
        await http.PostAsJsonAsync("api/auth/login", new { username, password, useCookie = cookie });

    [Fact]
    public async Task Repeated_failures_lock_the_account_and_unknown_names_alike_until_an_admin_unlocks()
    {
        using var http = _server.CreateClient();
        for (var i = 0; i < 2; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(http, "cb1", "wrong-" + i)).StatusCode);
        var third = await LoginAsync(http, "cb1", "wrong-3");
        Assert.Equal((HttpStatusCode)423, third.StatusCode);
        Assert.NotNull(third.Headers.RetryAfter);
        // Locked: even the right password is refused.
        Assert.Equal((HttpStatusCode)423, (await LoginAsync(http, "cb1", ApiClient.Password)).StatusCode);
        // An unknown name behaves the same, so the answer does not reveal which names exist.
        for (var i = 0; i < 2; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(http, "no-such-user", "x")).StatusCode);
        Assert.Equal((HttpStatusCode)423, (await LoginAsync(http, "no-such-user", "x")).StatusCode);

        using var admin = await ApiClient.LoginAsync(_server, "admin");
        var (status, _, _) = await admin.SendAsync(HttpMethod.Post, "api/admin/users/cb1/unlock");
        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(http, "cb1", ApiClient.Password)).StatusCode);
    }

    [Fact]
    public async Task Password_change_checks_the_old_one_enforces_the_policy_voids_old_tokens_and_survives_a_restart()
    {
        using var user = await ApiClient.LoginAsync(_server, "agent3");
        var (status, body, _) = await user.SendAsync(HttpMethod.Post, "api/auth/password", new { currentPassword = "wrong", newPassword = "Str0ng-enough!" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(body!["errors"]!["currentPassword"]);
        (status, body, _) = await user.SendAsync(HttpMethod.Post, "api/auth/password", new { currentPassword = ApiClient.Password, newPassword = "short" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(body!["errors"]!["newPassword"]);

        await Task.Delay(1100); // tokens carry whole seconds
        (status, body, _) = await user.SendAsync(HttpMethod.Post, "api/auth/password", new { currentPassword = ApiClient.Password, newPassword = "Desk-Three-2026!" });
        Assert.True(status == HttpStatusCode.OK, $"{status}: {body}");
        var fresh = (string)body!["token"]!;

        // The old session is signed out, the new token works, the old password is refused, the new one accepted.
        Assert.Equal(HttpStatusCode.Unauthorized, (await user.SendAsync(HttpMethod.Get, "api/me")).Status);
        using var http = _server.CreateClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", fresh);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/me")).StatusCode);
        using var anon = _server.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(anon, "agent3", ApiClient.Password)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(anon, "agent3", "Desk-Three-2026!")).StatusCode);

        // The change is in the event store: it holds after kill -9 and restart.
        await _server.KillAsync();
        await _server.RestartAsync();
        using var again = _server.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(again, "agent3", "Desk-Three-2026!")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(again, "agent3", ApiClient.Password)).StatusCode);
    }

    [Fact]
    public async Task Api_tokens_are_hs256_jwts_and_unsigned_or_tampered_ones_are_refused()
    {
        using var user = await ApiClient.LoginAsync(_server, "super1");
        var parts = user.Token.Split('.');
        Assert.Equal(3, parts.Length);
        static JsonNode Decode(string part) => JsonNode.Parse(Convert.FromBase64String(part.Replace('-', '+').Replace('_', '/').PadRight(part.Length + ((4 - (part.Length % 4)) % 4), '=')))!;
        static string Encode(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var header = Decode(parts[0]);
        var payload = Decode(parts[1]);
        Assert.Equal("HS256", (string?)header["alg"]);
        Assert.Equal("JWT", (string?)header["typ"]);
        Assert.Equal("super1", (string?)payload["sub"]);
        Assert.Equal("hotline", (string?)payload["iss"]);
        Assert.True((long)payload["exp"]! > (long)payload["iat"]!);
        Assert.False(string.IsNullOrEmpty((string?)payload["sid"]));

        async Task<HttpStatusCode> MeWith(string token)
        {
            using var http = _server.CreateClient();
            http.DefaultRequestHeaders.Authorization = new("Bearer", token);
            return (await http.GetAsync("api/me")).StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, await MeWith(user.Token));
        // alg "none" (with and without a signature), another subject under the old signature, a flipped signature: all refused.
        Assert.Equal(HttpStatusCode.Unauthorized, await MeWith(Encode("""{"alg":"none","typ":"JWT"}""") + "." + parts[1] + "."));
        Assert.Equal(HttpStatusCode.Unauthorized, await MeWith(Encode("""{"alg":"none","typ":"JWT"}""") + "." + parts[1] + "." + parts[2]));
        Assert.Equal(HttpStatusCode.Unauthorized, await MeWith(parts[0] + "." + Encode(payload.ToJsonString().Replace("\"super1\"", "\"admin\"", StringComparison.Ordinal)) + "." + parts[2]));
        Assert.Equal(HttpStatusCode.Unauthorized, await MeWith(parts[0] + "." + parts[1] + "." + parts[2][..^2] + (parts[2].EndsWith("AA", StringComparison.Ordinal) ? "BB" : "AA")));
    }

    [Fact]
    public async Task Cookie_sign_in_is_httponly_strict_expires_with_the_session_needs_antiforgery_on_writes_and_sign_out_revokes_it()
    {
        var cookies = new CookieContainer();
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = _server.BaseAddress };
        var login = await LoginAsync(http, "agent2", ApiClient.Password, cookie: true);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var setCookie = string.Join("\n", login.Headers.GetValues("Set-Cookie"));
        Assert.Contains("hotline.auth=", setCookie, StringComparison.Ordinal);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        var body = (await login.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Null((string?)body["token"]); // not readable by scripts
        // The cookie ends when the session does (Hotline:TokenLifetimeHours), and the console is told when.
        var expiresAt = DateTimeOffset.Parse((string)body["expiresAt"]!, System.Globalization.CultureInfo.InvariantCulture);
        var cookie = cookies.GetCookies(_server.BaseAddress)["hotline.auth"]!;
        Assert.True(Math.Abs((cookie.Expires.ToUniversalTime() - expiresAt.UtcDateTime).TotalSeconds) <= 1, $"cookie expires {cookie.Expires:O}, session {expiresAt:O}");
        Assert.InRange(expiresAt - DateTimeOffset.UtcNow, TimeSpan.FromHours(11), TimeSpan.FromHours(12.1));

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/me")).StatusCode);

        // A write with the cookie alone (what a forged cross-site form would send) is refused.
        var registration = new { channel = "电话", type = "咨询", urgency = "一般", categoryCode = "010201", areaCode = "010101", address = "湖滨路 1 号", content = "Cookie 登录测试", callerName = "周八", callerPhone = "13811112222" };
        var forged = await http.PostAsJsonAsync("api/tickets", registration);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Contains("X-XSRF-TOKEN", await forged.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // With the antiforgery token it goes through.
        var token = (await http.GetFromJsonAsync<JsonNode>("api/auth/antiforgery"))!;
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/tickets") { Content = JsonContent.Create(registration) };
        request.Headers.Add((string)token["headerName"]!, (string)token["token"]!);
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var real = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, real.StatusCode);

        // Bearer tokens (the API) need no antiforgery token.
        using var api = await ApiClient.LoginAsync(_server, "agent2");
        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(HttpMethod.Post, "api/tickets", registration, idempotencyKey: Guid.NewGuid().ToString())).Status);

        // A forged write with a stale or foreign antiforgery token is refused as well.
        using (var foreign = new HttpRequestMessage(HttpMethod.Post, "api/tickets") { Content = JsonContent.Create(registration) })
        {
            foreign.Headers.Add("X-XSRF-TOKEN", "CfDJ8forged");
            Assert.Equal(HttpStatusCode.BadRequest, (await http.SendAsync(foreign)).StatusCode);
        }

        // Sign-out clears the cookie and revokes the session: a copy of the cookie taken before no longer works.
        Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsync("api/auth/logout", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("api/me")).StatusCode);
        using var replay = _server.CreateClient();
        replay.DefaultRequestHeaders.Add("Cookie", $"hotline.auth={cookie.Value}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await replay.GetAsync("api/me")).StatusCode);

        // An API client signs out the same way: its bearer token is void afterwards, its other sessions are not.
        using var other = await ApiClient.LoginAsync(_server, "agent2");
        Assert.Equal(HttpStatusCode.NoContent, (await api.SendAsync(HttpMethod.Post, "api/auth/logout")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.SendAsync(HttpMethod.Get, "api/me")).Status);
        Assert.Equal(HttpStatusCode.OK, (await other.SendAsync(HttpMethod.Get, "api/me")).Status);

        // The sign-out is in the event store: it holds after kill -9 and restart.
        await _server.KillAsync();
        await _server.RestartAsync();
        using var afterRestart = _server.CreateClient();
        afterRestart.DefaultRequestHeaders.Add("Cookie", $"hotline.auth={cookie.Value}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await afterRestart.GetAsync("api/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await other.SendAsync(HttpMethod.Get, "api/me")).Status);
    }

    [Fact]
    public async Task Responses_carry_security_headers_refuse_oversized_bodies_and_show_no_stack_traces()
    {
        using var api = await ApiClient.LoginAsync(_server, "agent1");
        foreach (var url in new[] { "api/me", "healthz", "api/tickets/not-a-guid", "api/no-such-endpoint" })
        {
            var response = await api.Http.GetAsync(url);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
            Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
            Assert.False(response.Headers.Contains("Server"));
        }
        Assert.Equal("no-store", (await api.Http.GetAsync("api/me")).Headers.CacheControl?.ToString());

        var big = new StringContent("{\"content\":\"" + new string('x', 70_000) + "\"}", Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/tickets") { Content = big };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var tooBig = await api.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Equal("application/problem+json", tooBig.Content.Headers.ContentType?.MediaType);

        // A wrongly typed query value names the parameter; no stack trace anywhere.
        var bad = await api.Http.GetAsync("api/tickets?page=abc");
        var text = await bad.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("\"page\"", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        var json = await api.Http.PostAsync("api/tickets", new StringContent("{\"type\": 5", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
        Assert.DoesNotContain("   at ", await json.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_is_rate_limited_per_ip_and_requests_per_user_and_probes_never()
    {
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["Hotline:Security:LoginPerIpPerMinute"] = "5",
            ["Hotline:Security:RequestsPerUserPerMinute"] = "20",
        });
        using var http = server.CreateClient();
        var first = await LoginAsync(http, "leader1", ApiClient.Password);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var token = (string)(await first.Content.ReadFromJsonAsync<JsonNode>())!["token"]!;
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 7; i++) statuses.Add((await LoginAsync(http, "leader" + i, "wrong")).StatusCode);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        var limited = await LoginAsync(http, "leader1", ApiClient.Password);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.NotNull(limited.Headers.RetryAfter);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);

        // Per user: the 21st request within the minute is refused, other users are not affected.
        using var user = server.CreateClient();
        user.DefaultRequestHeaders.Authorization = new("Bearer", token);
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 25; i++) answers.Add((await user.GetAsync("api/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, answers[0]);
        Assert.Equal(HttpStatusCode.TooManyRequests, answers[^1]);
        // Health probes are never limited.
        for (var i = 0; i < 30; i++) Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);
    }

    [Fact]
    public async Task Production_profile_refuses_the_development_key_and_demo_passwords_and_starts_when_configured()
    {
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
        }));
        Assert.Contains("SigningKey", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Demo", refused.Message, StringComparison.Ordinal);
        Assert.Contains("SmsWebhookSecret", refused.Message, StringComparison.Ordinal);

        refused = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Hotline:SigningKey"] = "a-production-signing-key-of-sufficient-length-0123456789",
            ["Hotline:Demo"] = "false",
            ["Hotline:Users:0:Username"] = "boss",
            ["Hotline:Users:0:Roles:0"] = "admin",
            ["Hotline:Users:0:Password"] = ApiClient.Password,
        }));
        Assert.Contains("demo password", refused.Message, StringComparison.Ordinal);

        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Hotline:SigningKey"] = "a-production-signing-key-of-sufficient-length-0123456789",
            ["Hotline:Demo"] = "false",
            ["Hotline:Users:0:Username"] = "boss",
            ["Hotline:Users:0:Roles:0"] = "admin",
            ["Hotline:Users:0:Password"] = "Very-Secret-2026!",
            ["Hotline:Channels:SmsWebhookSecret"] = "an-operator-agreed-sms-secret-2026",
        });
        using var http = server.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await LoginAsync(http, "boss", "Very-Secret-2026!")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginAsync(http, "agent1", ApiClient.Password)).StatusCode);
        var error = await http.GetAsync("api/tickets/not-a-guid");
        Assert.DoesNotContain("   at ", await error.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
