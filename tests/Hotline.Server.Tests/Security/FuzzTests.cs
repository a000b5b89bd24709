using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hotline.Server.Tests.Faults;
using Hotline.Testing;
using Xunit.Abstractions;

namespace Hotline.Server.Tests.Security;

/// <summary>
/// Bad input everywhere: every operation of /openapi/v1.json gets malformed, oversized, wrongly typed and injected
/// bodies, path segments, query values and headers (SQL, script, path traversal, Unicode direction and zero-width
/// tricks, lone surrogates, control characters, deep nesting, huge numbers), and every hub method gets wrong
/// arguments. No answer may be a 5xx, the server must stay up, and afterwards the event store passes the audit
/// (no partial writes) and the ticket list (read model) agrees with the streams.
/// </summary>
[Collection(Faults.FaultsCollection.Name)]
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const int MinimumCases = 10_000;

    private static readonly string[] Evil =
    [
        "' OR '1'='1", "'; DROP TABLE events; --", "\" OR \"\"=\"", "1; SELECT pg_sleep(10)--", "admin'--", "%' AND 1=0 UNION SELECT * FROM events --",
        "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "javascript:alert(1)", "{{7*7}}", "${jndi:ldap://x/a}", "<!--#exec cmd=\"id\"-->",
        "../../../../etc/passwd", "..\\..\\windows\\win.ini", "%2e%2e%2f%2e%2e%2f", "/dev/zero", "file:///etc/shadow",
        "\u202Egnp.exe", "\u200B\u200C\u200D\uFEFF", "ｅｖｉｌ", "𠜎𠜱𠝹", "Z\u0351\u0362\u0334\u0358a\u0360l\u0361go", "\u0000", "a\u0000b", "\u0007\u0008\u001b[31m", "\r\nSet-Cookie: x=1",
        "\uD800", "\uDFFF", "\uFFFE\uFFFF", "null", "undefined", "NaN", "-1", "0", "9999999999999999999999999", "1e309", "-0", "true", "[]", "{}",
        "", " ", "\t", new string('长', 5000), new string('a', 70_000),
    ];

    private static readonly JsonNode?[] WrongTypes =
    [
        null, JsonValue.Create(true), JsonValue.Create(-1), JsonValue.Create(0), JsonValue.Create(long.MaxValue), JsonValue.Create(1.5e300), JsonValue.Create(-2147483649L),
        new JsonArray(), new JsonArray(1, "a", null), new JsonObject(), new JsonObject { ["$where"] = "1==1" }, JsonValue.Create("2026-13-45"), JsonValue.Create("00000000-0000-0000-0000-000000000000"),
    ];

    private static readonly string[] RawBodies =
    [
        "", "{", "}", "[", "{\"a\":", "{\"a\" 1}", "{'single':'quotes'}", "{\"a\":1,}", "{\"a\":1}{\"b\":2}", "nul", "tru", "\"just a string\"", "123", "[1,2,3]",
        "{\"a\":\"\\uD800\"}", "{\"a\":\"\\u0000\"}", "{\"a\":\"\\x41\"}", "\uFEFF{}", "{\"__proto__\":{\"admin\":true}}", "{\"a\":1e99999}", "{\"a\":--1}",
        new string('[', 10_000) + new string(']', 10_000), "{\"a\":" + new string('[', 200) + new string(']', 200) + "}",
        "\u0000\u0001\u0002", "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>",
    ];

    [Fact]
    public async Task Ten_thousand_bad_requests_get_no_5xx_and_leave_no_partial_write()
    {
        var settings = FaultSettings.Relaxed();
        settings["Hotline:Security:MaxFailedLogins"] = "1000000"; // the fuzzed login must not lock the fuzzing users out
        await using var server = await ServerProcess.StartAsync(settings);
        using var admin = await ApiClient.LoginAsync(server, "admin");
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        using var handler = await ApiClient.LoginAsync(server, "handler1");

        // A few real tickets so that routes with ids reach their handlers.
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var (s, t, _) = await agent.SendAsync(HttpMethod.Post, "api/tickets", new
            {
                channel = "电话", type = "咨询", urgency = "一般", categoryCode = "010201", areaCode = "010101",
                address = "湖滨路 9 号", content = "种子工单 " + i, callerName = "赵六", callerPhone = "1360000000" + i,
            }, idempotencyKey: "fuzz-seed-" + i);
            Assert.Equal(HttpStatusCode.Created, s);
            ids.Add((string)t!["id"]!);
        }

        using var http = server.CreateClient();
        var openApi = JsonNode.Parse(await http.GetStringAsync("openapi/v1.json"))!;
        var operations = Operations(openApi).ToList();
        Assert.True(operations.Count >= 20, $"only {operations.Count} operations in the OpenAPI document");

        var random = new Random(12345);
        var cases = new List<Case>();
        while (cases.Count < MinimumCases)
            foreach (var op in operations)
                cases.AddRange(CasesFor(op, openApi, ids, random));
        output.WriteLine($"{operations.Count} operations, {cases.Count} HTTP cases");

        var tokens = new[] { admin.Token, admin.Token, agent.Token, handler.Token, "garbage.token", "" };
        var statuses = new ConcurrentDictionary<int, int>();
        var errors = new ConcurrentQueue<string>();
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < cases.Count)
            {
                var c = cases[i];
                try
                {
                    using var response = await SendOnceMoreIfResetAsync(client, () => c.Build(tokens[i % tokens.Length]));
                    var text = await response.Content.ReadAsStringAsync();
                    statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
                    if ((int)response.StatusCode >= 500) errors.Enqueue($"{(int)response.StatusCode} {c}: {Trim(text)}");
                    else if (text.Contains("   at ", StringComparison.Ordinal) || text.Contains("Exception:", StringComparison.Ordinal))
                        errors.Enqueue($"stack trace in {(int)response.StatusCode} {c}: {Trim(text)}");
                    else if ((int)response.StatusCode >= 400 && response.StatusCode != HttpStatusCode.NotFound && text.Length > 0 && c.What != "X-Correlation-Id" // that one asks for text/html
                        && response.Content.Headers.ContentType?.MediaType != "application/problem+json" && response.Content.Headers.ContentType?.MediaType != "application/json")
                        errors.Enqueue($"{(int)response.StatusCode} without a problem document {c}: {response.Content.Headers.ContentType} {Trim(text)}");
                }
                catch (HttpRequestException) when (c.What == "2 MB body") { statuses.AddOrUpdate(413, 1, (_, n) => n + 1); } // closed while uploading: refused
                catch (HttpRequestException e) { errors.Enqueue($"no answer {c}: {e.Message}"); }
                catch (TaskCanceledException) { errors.Enqueue($"timeout {c}"); }
            }
        })));

        // The hubs: wrong argument counts and types, injected strings, unknown methods.
        var hubCases = 0;
        var hubUnexpected = new List<string>();
        foreach (var (path, methods) in new[]
        {
            ("hubs/agent", new[] { "GetState", "GoReady", "GoNotReady", "Accept", "Reject", "HangUp", "FinishWrapUp", "NoSuchMethod" }),
            ("hubs/supervisor", new[] { "GetWallboard", "ForceState", "NoSuchMethod" }),
        })
        {
            var hub = await HubClient.ConnectAsync(server.BaseAddress, path, admin.Token);
            try
            {
                foreach (var method in methods)
                    foreach (var args in HubArguments(random))
                    {
                        hubCases++;
                        try { await hub.InvokeAsync(method, args); }
                        catch (InvalidOperationException e)
                        {
                            if (e.Message.Contains("unexpected error", StringComparison.OrdinalIgnoreCase) && !e.Message.Contains("HubException", StringComparison.Ordinal)) hubUnexpected.Add($"{path} {method}({JsonSerializer.Serialize(args)[..Math.Min(80, JsonSerializer.Serialize(args).Length)]}): {e.Message}");
                        }
                        catch (System.Net.WebSockets.WebSocketException)
                        {
                            await hub.DisposeAsync();
                            hub = await HubClient.ConnectAsync(server.BaseAddress, path, admin.Token);
                        }
                    }
            }
            finally { await hub.DisposeAsync(); }
        }

        output.WriteLine($"{cases.Count} HTTP requests + {hubCases} hub invocations = {cases.Count + hubCases} fuzz cases");
        output.WriteLine("statuses: " + string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}")));
        output.WriteLine($"hub invocations failing with an unexpected (unvalidated) error: {hubUnexpected.Count}");
        foreach (var h in hubUnexpected.Take(10)) output.WriteLine("  " + h);

        foreach (var line in server.Log.Split('\n').Where(l => l.Contains("fail:", StringComparison.Ordinal) || l.Contains("Unhandled", StringComparison.Ordinal)).Take(20))
            output.WriteLine("server: " + Trim(line));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);

        // No partial writes: the store is sound and the read model agrees with every stream.
        var audit = await StoreAudit.RunAsync(server, settings);
        Assert.True(audit.Problems.Count == 0, string.Join("\n", audit.Problems.Take(20)));
        var listed = new Dictionary<string, long>();
        for (var page = 1; ; page++)
        {
            var rows = await admin.GetJsonAsync($"api/tickets?pageSize=200&page={page}");
            foreach (var row in rows["items"]!.AsArray()) listed[(string)row!["id"]!] = (long)row["version"]!;
            if (rows["items"]!.AsArray().Count < 200) break;
        }
        Assert.Equal(audit.Tickets.Count, listed.Count);
        Assert.All(audit.Tickets, t => Assert.Equal(t.Value.Version, listed[t.Key.ToString()]));
        output.WriteLine($"store after the run: {audit.Events} events, {audit.Tickets.Count} tickets, all consistent");
        Assert.True(errors.IsEmpty, $"{errors.Count} bad answers:\n" + string.Join("\n", errors.OrderBy(e => e[0] == '5' ? 0 : 1).Take(40)));

    }

    private sealed record Operation(string Method, string Path, JsonArray Parameters, JsonNode? BodySchema);

    private sealed record Case(string Method, string Url, string? Body, string ContentType, IReadOnlyDictionary<string, string> Headers, string What)
    {
        public HttpRequestMessage Build(string token)
        {
            var request = new HttpRequestMessage(new HttpMethod(Method), Url);
            if (token.Length > 0) request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            foreach (var (k, v) in Headers) request.Headers.TryAddWithoutValidation(k, v);
            if (Body is not null)
            {
                request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(Body));
                request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
            }
            return request;
        }

        public override string ToString() => $"{Method} {(Url.Length > 120 ? Url[..120] + "…" : Url)} [{What}]";
    }

    private static IEnumerable<Operation> Operations(JsonNode doc)
    {
        foreach (var (path, item) in doc["paths"]!.AsObject())
            foreach (var (method, op) in item!.AsObject())
            {
                if (method is "parameters" or "summary" or "description") continue;
                // Sessions of the fuzzing users must survive: no password change, no sign-out.
                if (path.StartsWith("/api/auth/password", StringComparison.Ordinal) || path.StartsWith("/api/auth/logout", StringComparison.Ordinal)) continue;
                var parameters = new JsonArray();
                foreach (var p in (item["parameters"] as JsonArray ?? []).Concat(op!["parameters"] as JsonArray ?? [])) parameters.Add(p!.DeepClone());
                var schema = op!["requestBody"]?["content"]?["application/json"]?["schema"];
                yield return new Operation(method.ToUpperInvariant(), path, parameters, schema?.DeepClone());
            }
    }

    private static JsonObject? Resolve(JsonNode? schema, JsonNode doc)
    {
        for (var i = 0; i < 5 && schema is not null; i++)
        {
            if (schema["$ref"] is { } r) { schema = doc["components"]?["schemas"]?[((string)r!).Split('/')[^1]]; continue; }
            if (schema["allOf"] is JsonArray all && all.Count > 0) { schema = all[0]; continue; }
            if (schema["oneOf"] is JsonArray one && one.Count > 0) { schema = one[0]; continue; }
            break;
        }
        return schema as JsonObject;
    }

    private static IEnumerable<Case> CasesFor(Operation op, JsonNode doc, List<string> ids, Random random)
    {
        var body = Resolve(op.BodySchema, doc);
        var properties = body?["properties"] as JsonObject;
        var valid = new JsonObject();
        foreach (var (name, p) in properties ?? [])
            valid[name] = Plausible(Resolve(p, doc) ?? new JsonObject(), name, ids, random);
        var hasBody = op.Method is "POST" or "PUT" or "PATCH";
        var headers = new Dictionary<string, string> { ["If-Match"] = "\"1\"", ["Idempotency-Key"] = Guid.NewGuid().ToString() };

        string Url(Func<string, string?>? pathValue = null, string? query = null)
        {
            var url = op.Path.TrimStart('/');
            foreach (var p in op.Parameters.Where(p => (string?)p!["in"] == "path"))
            {
                var name = (string)p!["name"]!;
                var value = pathValue?.Invoke(name) ?? (name.Contains("id", StringComparison.OrdinalIgnoreCase) ? ids[random.Next(ids.Count)] : "x");
                url = url.Replace("{" + name + "}", Uri.EscapeDataString(value), StringComparison.Ordinal);
            }
            return query is null ? url : url + "?" + query;
        }

        Case With(string what, string? b, string type = "application/json", Dictionary<string, string>? h = null, string? url = null) =>
            new(op.Method, url ?? Url(), hasBody ? b : null, type, h ?? headers, what);

        // Bodies that are not JSON, or not the right JSON.
        if (hasBody)
        {
            foreach (var raw in RawBodies) yield return With("raw body", raw);
            yield return With("text/plain", valid.ToJsonString(), "text/plain");
            yield return With("form", "a=1&b=%27", "application/x-www-form-urlencoded");
            yield return With("no content type", valid.ToJsonString(), "application/octet-stream");
            yield return With("2 MB body", "{\"content\":\"" + new string('x', 2 * 1024 * 1024) + "\"}");
            yield return With("valid", valid.ToJsonString());
            yield return With("extra fields", new JsonObject { ["unexpected"] = "x", ["id"] = Guid.NewGuid().ToString(), ["version"] = 99, ["state"] = "Closed" }.ToJsonString());
            foreach (var (name, _) in properties ?? [])
            {
                foreach (var evil in Evil)
                {
                    var b = (JsonObject)valid.DeepClone();
                    b[name] = evil;
                    yield return With($"{name}=evil", b.ToJsonString());
                }
                foreach (var wrong in WrongTypes)
                {
                    var b = (JsonObject)valid.DeepClone();
                    b[name] = wrong?.DeepClone();
                    yield return With($"{name}={wrong?.ToJsonString() ?? "null"}", b.ToJsonString());
                }
                var without = (JsonObject)valid.DeepClone();
                without.Remove(name);
                yield return With($"without {name}", without.ToJsonString());
            }
        }

        // Path parameters and query values.
        foreach (var p in op.Parameters)
        {
            var name = (string)p!["name"]!;
            var where = (string?)p["in"];
            foreach (var evil in Evil.Take(30).Append("00000000-0000-0000-0000-000000000000").Append(Guid.NewGuid().ToString()))
            {
                if (where == "path") yield return With($"path {name}", valid.ToJsonString(), url: Url(n => n == name ? evil : null));
                else if (where == "query") yield return With($"query {name}", valid.ToJsonString(), url: Url(query: $"{Uri.EscapeDataString(name)}={Uri.EscapeDataString(evil.Length > 2000 ? evil[..2000] : evil)}"));
            }
        }
        yield return With("repeated query", valid.ToJsonString(), url: Url(query: "page=1&page=2&pageSize=-5&pageSize=abc"));

        // Headers.
        foreach (var ifMatch in new[] { "", "*", "\"abc\"", "\"-1\"", "\"0\"", "W/\"1\"", "\"99999999999999999999\"", "1, 2", new string('9', 5000) })
            yield return With($"If-Match {ifMatch[..Math.Min(20, ifMatch.Length)]}", valid.ToJsonString(), h: new Dictionary<string, string> { ["If-Match"] = ifMatch, ["Idempotency-Key"] = Guid.NewGuid().ToString() });
        foreach (var key in new[] { new string('k', 300), "a\tb", "%F0%9F%92%A5", "' OR 1=1 --" })
            yield return With("Idempotency-Key", valid.ToJsonString(), h: new Dictionary<string, string> { ["If-Match"] = "\"1\"", ["Idempotency-Key"] = key });
        yield return With("X-Correlation-Id", valid.ToJsonString(), h: new Dictionary<string, string> { ["X-Correlation-Id"] = "<script>", ["Accept"] = "text/html" });
    }

    private static JsonNode? Plausible(JsonObject schema, string name, List<string> ids, Random random)
    {
        var type = schema["type"] switch
        {
            JsonArray a => a.Select(x => (string?)x).FirstOrDefault(x => x != "null"),
            JsonValue v => (string?)v,
            _ => null,
        };
        var format = (string?)schema["format"];
        return (type, format) switch
        {
            ("string", "uuid") => ids[random.Next(ids.Count)],
            ("string", "date") => "2026-11-20",
            ("string", "date-time") => "2026-11-20T10:00:00+08:00",
            ("string", _) when name.Contains("unit", StringComparison.OrdinalIgnoreCase) => "zjj",
            ("string", _) when name.Contains("phone", StringComparison.OrdinalIgnoreCase) || name == "caller" => "13900001111",
            ("string", _) when name.Contains("category", StringComparison.OrdinalIgnoreCase) => "010201",
            ("string", _) when name.Contains("area", StringComparison.OrdinalIgnoreCase) => "010101",
            ("string", _) => "测试内容",
            ("integer", _) or ("number", _) => 1,
            ("boolean", _) => true,
            ("array", _) => new JsonArray(),
            _ => "测试",
        };
    }

    private static IEnumerable<object?[]> HubArguments(Random random)
    {
        yield return [];
        yield return [null];
        yield return [null, null, null];
        foreach (var evil in Evil.Where(e => e.Length < 10_000)) yield return [evil];
        foreach (var evil in Evil.Take(15)) yield return ["agent1", evil, evil];
        yield return [12345];
        yield return [new { x = 1 }];
        yield return [new[] { 1, 2, 3 }];
        yield return [true, false];
        yield return ["agent1", "OnCall", null];
        yield return ["nobody", "Ready", null];
        yield return [Guid.NewGuid().ToString(), "NotReady", new string('x', 20_000)];
        yield return [random.Next().ToString(System.Globalization.CultureInfo.InvariantCulture)];
    }

    /// <summary>Kestrel closes a connection after refusing an oversized body; a request that raced onto it is sent again once.</summary>
    private static async Task<HttpResponseMessage> SendOnceMoreIfResetAsync(HttpClient client, Func<HttpRequestMessage> build)
    {
        using var first = build();
        try { return await client.SendAsync(first); }
        catch (HttpRequestException)
        {
            using var second = build();
            return await client.SendAsync(second);
        }
    }

    private static string Trim(string s) => s.Length > 300 ? s[..300] + "…" : s;
}
