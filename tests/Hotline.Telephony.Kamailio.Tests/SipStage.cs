using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Hotline.Testing;
using Xunit;

namespace Hotline.Telephony.Kamailio.Tests;

/// <summary>
/// The real Hotline server wired to a real Kamailio (Kamailio adapter, Redis queue, SQLite event store), with agents signed in
/// over SignalR whose consoles finish wrap-up at once, so each agent is ready for the next caller. Shared by the end-to-end SIP
/// tests; each test starts its own Redis, Kamailio and sipp phones and passes them in.
/// </summary>
internal sealed class SipStage : IAsyncDisposable
{
    public const string Password = "Hotline@2026";

    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _wrapUps = [];

    private SipStage(ServerProcess server, KamailioProcess kamailio)
    {
        Server = server;
        Kamailio = kamailio;
        Http = server.CreateClient();
    }

    public ServerProcess Server { get; }

    public KamailioProcess Kamailio { get; }

    public HttpClient Http { get; }

    public Dictionary<string, HubClient> Hubs { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Starts the server against <paramref name="redis"/> and the evapi port (Kamailio's own, or a proxy in front of it), each agent
    /// reached at its sipp phone on <paramref name="agentPorts"/>; waits until the adapter is connected, then signs the agents in.
    /// </summary>
    public static async Task<SipStage> StartAsync(
        KamailioProcess kamailio, RedisServer redis, string redisPrefix, IReadOnlyDictionary<string, int> agentPorts,
        int? evapiPort = null, IReadOnlyDictionary<string, string>? extraSettings = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["Hotline:Telephony"] = "Kamailio",
            ["Hotline:Queue"] = "Redis",
            ["Hotline:RedisPrefix"] = redisPrefix,
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["Hotline:Kamailio:EvapiPort"] = (evapiPort ?? kamailio.EvapiPort).ToString(CultureInfo.InvariantCulture),
            ["Hotline:Kamailio:JsonRpcUrl"] = kamailio.JsonRpcUrl.ToString(),
            ["Hotline:Kamailio:ReconnectInitialDelay"] = "00:00:00.200",
            // Every evapi event in the server's log: when a call is left without its record, its trace says why.
            ["Logging:LogLevel:Hotline.Telephony.Kamailio"] = "Debug",
        };
        foreach (var (agent, port) in agentPorts) settings[$"Hotline:Kamailio:AgentUris:{agent}"] = $"sip:{agent}@127.0.0.1:{port}";
        foreach (var (key, value) in extraSettings ?? new Dictionary<string, string>()) settings[key] = value;
        var server = await ServerProcess.StartAsync(settings);
        var stage = new SipStage(server, kamailio);
        try
        {
            await WaitUntilAsync(() => kamailio.Log.Contains("evapi client connected", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the server's adapter connects to evapi");
            foreach (var agent in agentPorts.Keys) await stage.SignInAsync(agent);
            return stage;
        }
        catch
        {
            await stage.DisposeAsync();
            throw;
        }
    }

    private async Task SignInAsync(string agent)
    {
        var login = await Http.PostAsJsonAsync("api/auth/login", new { username = agent, password = Password });
        var body = await login.Content.ReadFromJsonAsync<JsonObject>();
        Assert.True(login.IsSuccessStatusCode, $"login {agent}: {body}");
        var hub = Hubs[agent] = await HubClient.ConnectAsync(Server.BaseAddress, "hubs/agent", (string)body!["token"]!);
        // After every call the console finishes wrap-up at once, so the agent is ready for the next caller.
        _wrapUps.Add(Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    await hub.WaitForAsync("AgentState", a => (string?)a[0]!["status"] == "WrapUp", TimeSpan.FromSeconds(5));
                    await hub.InvokeAsync("FinishWrapUp");
                }
                catch (TimeoutException) { }
                catch (InvalidOperationException) { }
            }
        }));
    }

    /// <summary>What the server recorded of each call so far (read-only, while it runs).</summary>
    public IReadOnlyList<CallRecord> Records() => CallRecordReader.Read(Server.DataDirectory);

    /// <summary>
    /// Every call of <paramref name="expected"/> (call id → scenario) without a terminal record: what the server recorded for it,
    /// and every server log line naming it (the evapi events included).
    /// </summary>
    public string OpenCalls(IReadOnlyDictionary<string, string> expected)
    {
        var records = Records();
        var terminal = records.Where(r => r.Type is "CallFinished" or "CallAbandonedInQueue").Select(r => r.CallId).ToHashSet();
        var log = Server.Log.Split('\n');
        var open = expected.Where(c => !terminal.Contains(c.Key)).ToList();
        return $"{open.Count} calls without a terminal record:\n" + string.Join("\n", open.Select(c =>
            $"{c.Key} ({c.Value}): [{string.Join(", ", records.Where(r => r.CallId == c.Key).Select(r => r.Type + (r.Text("agentId") is { } a ? "@" + a : "")))}]\n  "
            + string.Join("\n  ", log.Where(l => l.Contains(c.Key, StringComparison.Ordinal)))));
    }

    /// <summary>Waits until every call of <paramref name="expected"/> has its terminal record; on timeout fails with the trace of the open ones.</summary>
    public async Task<IReadOnlyList<CallRecord>> WaitForTerminalRecordsAsync(IReadOnlyDictionary<string, string> expected, TimeSpan timeout)
    {
        IReadOnlyList<CallRecord> records = [];
        try
        {
            await WaitUntilAsync(() =>
            {
                records = Records();
                var terminal = records.Where(r => r.Type is "CallFinished" or "CallAbandonedInQueue").Select(r => r.CallId).ToHashSet();
                return expected.Keys.All(terminal.Contains);
            }, timeout, "every call has its terminal record");
        }
        catch (TimeoutException e)
        {
            Assert.Fail($"{e.Message}\n{OpenCalls(expected)}\nwallboard: {await WallboardAsync()}");
        }
        return records;
    }

    /// <summary>What the ACD sees (agents by state, queues), as the supervisor's wallboard shows it.</summary>
    public async Task<string> WallboardAsync()
    {
        try
        {
            var login = await Http.PostAsJsonAsync("api/auth/login", new { username = "super1", password = Password });
            var token = (string?)(await login.Content.ReadFromJsonAsync<JsonObject>())?["token"];
            using var request = new HttpRequestMessage(HttpMethod.Get, "api/calls/wallboard");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            using var response = await Http.SendAsync(request);
            return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return "unavailable: " + e.Message;
        }
    }

    /// <summary>After a failure: the whole server and Kamailio logs to a temp folder (named in the output), their tails and sipp's errors to the output.</summary>
    public async Task ReportFailureAsync(Xunit.Abstractions.ITestOutputHelper output, string sippDirectory, string name)
    {
        var logs = Path.Combine(Path.GetTempPath(), $"hotline-sip-failure-{name}");
        Directory.CreateDirectory(logs);
        await File.WriteAllTextAsync(Path.Combine(logs, "server.log"), Server.Log);
        await File.WriteAllTextAsync(Path.Combine(logs, "kamailio.log"), Kamailio.Log);
        output.WriteLine($"whole logs: {logs}");
        output.WriteLine("---- server log (tail) ----\n" + Tail(Server.Log, 4000));
        output.WriteLine("---- kamailio log (tail) ----\n" + Tail(Kamailio.Log, 4000));
        foreach (var f in Directory.GetFiles(sippDirectory, "*_errors.log")) output.WriteLine($"---- {Path.GetFileName(f)} ----\n" + Tail(await File.ReadAllTextAsync(f)));
    }

    public static string Tail(string log, int chars = 2000) => log.Length <= chars ? log : log[^chars..];

    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("timed out waiting until " + what);
            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var h in Hubs.Values) await h.DisposeAsync();
        await Task.WhenAll(_wrapUps).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
        Http.Dispose();
        await Server.DisposeAsync();
        _stop.Dispose();
    }
}
