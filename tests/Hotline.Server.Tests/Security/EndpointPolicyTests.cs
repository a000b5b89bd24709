using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Hotline.Testing;
using Xunit.Abstractions;

namespace Hotline.Server.Tests.Security;

/// <summary>
/// Walks the server's own routing table (<c>GET /api/admin/endpoints</c>, built from its EndpointDataSource), so an
/// endpoint added anywhere is covered without editing this test: every endpoint must declare a policy or be one of the
/// deliberately public routes listed here; then every endpoint is probed — anonymous callers get 401, every role its
/// policy leaves out gets 403 (authorization answers before the handler runs, so nothing is written), and every role it
/// lets in reaches the handler of each GET (not 401/403). Writes are not sent with allowed roles, so an unknown new
/// endpoint is never executed by the probe.
/// </summary>
[Collection(Faults.FaultsCollection.Name)]
public sealed partial class EndpointPolicyTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string[]> UserRoles = new()
    {
        ["agent1"] = ["agent"], ["super1"] = ["supervisor"], ["disp1"] = ["dispatcher"], ["handler1"] = ["handler"],
        ["cb1"] = ["callback"], ["leader1"] = ["leader"], ["admin"] = ["admin", "supervisor", "dispatcher", "callback", "leader"],
    };

    /// <summary>Routes that are public on purpose, each with the reason; anything else without a policy fails the test.</summary>
    private static readonly (string Prefix, string Why)[] Public =
    [
        ("/api/auth/login", "signing in"),
        ("/api/auth/logout", "clears the cookie even when the session has expired"),
        ("/api/meta", "the login page asks whether this is the demo"),
        ("/healthz", "liveness probe"),
        ("/readyz", "readiness probe"),
        ("/openapi/", "the API description"),
        ("/api/public/", "citizens' web intake (SMS code, per-IP limits)"),
        ("/api/partner", "partner channels, authenticated by their key in the handler"),
        ("/api/channels/", "inbound SMS/mail gateways, signed requests checked in the handler"),
        ("/open311/", "GeoReport v2, the public standard API"),
        ("/api/telephony/", "CTI webhook, HMAC-signed requests checked in the handler"),
        ("/{*path", "the console's index.html (SPA fallback)"),
    ];

    [Fact]
    public async Task Every_endpoint_in_the_routing_table_has_a_policy_and_answers_by_it()
    {
        await using var server = await ServerProcess.StartAsync(Faults.FaultSettings.Relaxed());
        var clients = new Dictionary<string, ApiClient>();
        foreach (var u in UserRoles.Keys) clients[u] = await ApiClient.LoginAsync(server, u);
        try
        {
            var endpoints = (await clients["admin"].GetJsonAsync("api/admin/endpoints")).AsArray();
            Assert.True(endpoints.Count > 20, $"only {endpoints.Count} endpoints listed");
            var failures = new List<string>();
            int probes = 0, checkedEndpoints = 0;
            using var anonymous = server.CreateClient();

            foreach (var e in endpoints)
            {
                var route = (string)e!["route"]!;
                var methods = e["methods"]!.AsArray().Select(m => (string)m!).ToList();
                var isPublic = Public.FirstOrDefault(p => route.StartsWith(p.Prefix, StringComparison.Ordinal)).Why is not null;
                if ((bool)e["anonymous"]! || !(bool)e["declared"]!)
                {
                    if (!isPublic) failures.Add($"{string.Join(',', methods)} {route}: {((bool)e["anonymous"]! ? "AllowAnonymous" : "no policy")} and not on the public list");
                    continue;
                }
                if (e["otherRequirements"]!.AsArray().Count > 0) output.WriteLine($"note: {route} has requirements {e["otherRequirements"]!.ToJsonString()}");
                var roles = e["roles"] is JsonArray r ? r.Select(x => (string)x!).ToHashSet() : null; // null: any signed-in user
                if (route.StartsWith("/api/admin/", StringComparison.Ordinal) && (roles is null || roles.Except(["admin"]).Any()))
                    failures.Add($"{route}: an admin endpoint open to {(roles is null ? "every signed-in user" : string.Join('/', roles))}");
                checkedEndpoints++;

                var url = Concrete(route);
                foreach (var method in methods.Count == 0 ? ["GET"] : methods)
                {
                    var http = new HttpMethod(method);
                    // Anonymous: 401 before anything runs.
                    using (var request = Request(http, url))
                    {
                        var anon = await anonymous.SendAsync(request);
                        probes++;
                        if (anon.StatusCode != HttpStatusCode.Unauthorized) failures.Add($"{method} {route}: anonymous → {(int)anon.StatusCode}");
                    }
                    foreach (var (user, userRoles) in UserRoles)
                    {
                        var allowed = roles is null || userRoles.Any(roles.Contains);
                        if (allowed && method != "GET") continue; // never run an unknown write
                        using var request = Request(http, url);
                        using var response = await clients[user].Http.SendAsync(request);
                        probes++;
                        var ok = allowed
                            ? response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                            : response.StatusCode == HttpStatusCode.Forbidden;
                        if (!ok) failures.Add($"{method} {route}: {user} → {(int)response.StatusCode} (policy {e["policies"]!.ToJsonString()}, expected {(allowed ? "allowed" : "403")})");
                    }
                }
            }

            output.WriteLine($"{endpoints.Count} endpoints in the routing table, {checkedEndpoints} with a policy probed, {probes} requests");
            Assert.True(failures.Count == 0, string.Join("\n", failures));
        }
        finally
        {
            foreach (var c in clients.Values) c.Dispose();
        }
    }

    private static HttpRequestMessage Request(HttpMethod method, string url)
    {
        var request = new HttpRequestMessage(method, url.TrimStart('/'));
        if (method != HttpMethod.Get && method != HttpMethod.Head && method != HttpMethod.Delete)
            request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        request.Headers.TryAddWithoutValidation("If-Match", "\"999999\"");
        return request;
    }

    /// <summary>A route pattern with its parameters filled: ids get a fresh GUID (no such thing exists), numbers 0, the rest "x".</summary>
    private static string Concrete(string route) => Parameter().Replace(route, m =>
    {
        var spec = m.Groups[1].Value.TrimStart('*');
        var name = spec.Split(':', '=', '?')[0];
        if (spec.Contains(":int", StringComparison.Ordinal) || spec.Contains(":long", StringComparison.Ordinal)) return "0";
        if (spec.Contains(":guid", StringComparison.Ordinal) || name.EndsWith("id", StringComparison.OrdinalIgnoreCase)) return Guid.NewGuid().ToString();
        return "x";
    });

    [GeneratedRegex(@"\{([^}]+)\}")]
    private static partial Regex Parameter();
}
