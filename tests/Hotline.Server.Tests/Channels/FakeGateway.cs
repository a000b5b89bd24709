using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Hotline.Testing;

namespace Hotline.Server.Tests.Channels;

/// <summary>
/// An SMS/mail operator in the test: takes POSTs with Idempotency-Key, answers a repeated key 200 without "sending"
/// again (what real gateways do), and records every hit and every distinct delivery. Can hold requests to open a crash window.
/// </summary>
public sealed class FakeGateway : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public FakeGateway()
    {
        Port = ServerProcess.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}/send";

    /// <summary>Distinct messages "sent" to citizens, by message id.</summary>
    public ConcurrentDictionary<string, JsonNode> Delivered { get; } = new();

    /// <summary>How many times each key arrived (retries after a crash show up here, not in <see cref="Delivered"/>).</summary>
    public ConcurrentDictionary<string, int> Hits { get; } = new();

    /// <summary>While set, requests are accepted (recorded) but not answered until released.</summary>
    public TaskCompletionSource? Hold { get; set; }

    public TaskCompletionSource FirstHeld { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IEnumerable<JsonNode> To(string to) => Delivered.Values.Where(m => (string?)m["to"] == to);

    public async Task<JsonNode> WaitForAsync(Func<JsonNode, bool> match, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            var found = Delivered.Values.FirstOrDefault(match);
            if (found is not null) return found;
            await Task.Delay(100);
        }
        throw new TimeoutException("no matching message reached the gateway; got: " + string.Join(" | ", Delivered.Values.Select(v => v.ToJsonString())));
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); } catch (Exception) { return; }
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        try
        {
            if (context.Request.HttpMethod == "GET")
            {
                // GET /messages?to=…: what the citizen's phone received (the browser test reads its verification code here).
                var to = context.Request.QueryString["to"];
                var json = new JsonArray(Delivered.Values.Where(m => to is null || (string?)m["to"] == to).Select(m => m.DeepClone()).ToArray());
                var bytes = System.Text.Encoding.UTF8.GetBytes(json.ToJsonString());
                context.Response.ContentType = "application/json";
                context.Response.AddHeader("Access-Control-Allow-Origin", "*");
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
                return;
            }
            using var reader = new StreamReader(context.Request.InputStream);
            var body = JsonNode.Parse(await reader.ReadToEndAsync())!;
            var key = context.Request.Headers["Idempotency-Key"] ?? "";
            Hits.AddOrUpdate(key, 1, (_, n) => n + 1);
            var hold = Hold;
            if (hold is not null)
            {
                Delivered.TryAdd(key, body);
                FirstHeld.TrySetResult();
                await hold.Task;
            }
            else Delivered.TryAdd(key, body);
            context.Response.StatusCode = 200;
            context.Response.Close();
        }
        catch (Exception)
        {
            try { context.Response.Abort(); } catch (Exception) { }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Hold?.TrySetResult();
        _listener.Stop();
        _listener.Close();
        try { await _loop; } catch (Exception) { }
    }
}
