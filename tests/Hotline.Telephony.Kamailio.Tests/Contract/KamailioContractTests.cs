using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Hotline.Telephony.Kamailio;
using Hotline.Telephony.Tests.Contract;
using Hotline.Telephony.Tests.Support;

namespace Hotline.Telephony.Kamailio.Tests.Contract;

/// <summary>The shared contract suite against the Kamailio adapter, with a fake evapi peer playing kamailio.cfg.</summary>
public sealed class KamailioContractTests : TelephonyAdapterContract
{
    protected override async Task<ITelephonyDriver> StartDriverAsync() => await FakeKamailioDriver.StartAsync();
}

/// <summary>
/// Plays Kamailio running kamailio.cfg: sends the same netstring JSON events the cfg's evapi_relay calls send, answers
/// the adapter's "route" commands like t_continue + the agent's phone would, and serves dlg.list over a fake JSON-RPC.
/// The real-SIP version of these scenarios is <see cref="KamailioSipTests"/>.
/// </summary>
public sealed class FakeKamailioDriver : ITelephonyDriver
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly KamailioTelephony _adapter;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, bool> _busy = new();
    private readonly ConcurrentDictionary<string, (string Agent, string CallerTag)> _answered = new();
    private readonly ConcurrentDictionary<string, byte[]> _last = new();
    private readonly SemaphoreSlim _write = new(1, 1);
    private Task _run = Task.CompletedTask;
    private Task _peer = Task.CompletedTask;
    private NetworkStream? _stream;
    private long _label = 1000;
    private int _cseq;

    private FakeKamailioDriver()
    {
        _listener.Start();
        Sink = new RecordingSink();
        var http = new HttpClient(new FakeJsonRpc(this));
        _adapter = new KamailioTelephony(new CallEventNormalizer(Sink), new KamailioOptions
        {
            EvapiPort = ((IPEndPoint)_listener.LocalEndpoint).Port,
            JsonRpcUrl = new Uri("http://kamailio.test/RPC"),
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(50),
        }, http: http);
    }

    public static async Task<FakeKamailioDriver> StartAsync()
    {
        var driver = new FakeKamailioDriver();
        driver._run = driver._adapter.RunAsync(driver._stop.Token);
        var client = await driver._listener.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(10));
        driver._stream = client.GetStream();
        driver._peer = driver.ReadCommandsAsync(client);
        await driver._adapter.WaitUntilConnectedAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        return driver;
    }

    public ITelephonyControl Control => _adapter;

    public RecordingSink Sink { get; }

    public void AgentIsBusy(string agentId) => _busy[agentId] = true;

    private static double Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    private static byte[] Frame(JsonObject e)
    {
        e["ts"] ??= Now;
        return NetstringReader.Encode(e.ToJsonString());
    }

    private async Task SendAsync(byte[] bytes, bool split = false)
    {
        await _write.WaitAsync();
        try
        {
            if (!split)
            {
                await _stream!.WriteAsync(bytes);
                return;
            }
            // Seven bytes at a time: the length prefix, the payload and the ',' straddle reads.
            for (var i = 0; i < bytes.Length; i += 7)
            {
                await _stream!.WriteAsync(bytes.AsMemory(i, Math.Min(7, bytes.Length - i)));
                await _stream.FlushAsync();
                await Task.Delay(1);
            }
        }
        finally
        {
            _write.Release();
        }
    }

    public async Task CallArrivesAsync(string callId, string callerNumber, string skill, bool willAbandon = false)
    {
        var offered = Frame(new JsonObject
        {
            ["event"] = "offered", ["callid"] = callId, ["tindex"] = 1, ["tlabel"] = Interlocked.Increment(ref _label),
            ["caller"] = callerNumber, ["callerName"] = "\"张三\"", ["dialled"] = "12345", ["skill"] = skill, ["ivr"] = "1",
            ["elderly"] = "", ["vip"] = "", ["trunk"] = "CT-SIP-01",
        });
        await SendAsync(offered, split: true);
    }

    public async Task CallerPressesAsync(string callId, string digits)
    {
        // kamailio.cfg reports each SIP INFO (application/dtmf-relay); a retransmitted INFO (same CSeq) is reported again.
        var cseq = Interlocked.Increment(ref _cseq) + 100;
        var info = Frame(new JsonObject { ["event"] = "dtmf", ["callid"] = callId, ["digits"] = digits, ["cseq"] = cseq.ToString(CultureInfo.InvariantCulture) });
        await SendAsync(info);
        await SendAsync(info, split: true);
    }

    private async Task ReadCommandsAsync(TcpClient client)
    {
        var reader = new NetstringReader();
        var buffer = new byte[4096];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var n = await _stream!.ReadAsync(buffer, _stop.Token);
                if (n == 0) return;
                reader.Feed(buffer.AsSpan(0, n));
                while (reader.TryRead(out var command)) await OnCommandAsync(command.Split(' '));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException) { }
        finally
        {
            client.Dispose();
        }
    }

    private async Task OnCommandAsync(string[] c)
    {
        switch (c[0])
        {
            case "route": // route <tindex> <tlabel> <call-id> <agent-id> <agent-uri>
                var (callId, agent) = (c[3], c[4]);
                await SendAsync(Frame(new JsonObject { ["event"] = "ringing", ["callid"] = callId, ["agent"] = agent, ["uri"] = c[5], ["branch"] = Interlocked.Increment(ref _cseq) }));
                if (_busy.ContainsKey(agent))
                {
                    await SendAsync(Frame(new JsonObject { ["event"] = "agent_failed", ["callid"] = callId, ["agent"] = agent, ["code"] = 486, ["tindex"] = 1, ["tlabel"] = Interlocked.Increment(ref _label) }));
                }
                break;
            case "transfer": // transfer <call-id> <caller-tag> <callee-tag> <uri>: the caller takes the REFER and leaves
                await SendAsync(Frame(new JsonObject { ["event"] = "ended", ["callid"] = c[1], ["by"] = "caller" }));
                break;
            default:
                break;
        }
    }

    public async Task AgentAnswersAsync(string callId, string agentId)
    {
        var frame = Frame(new JsonObject { ["event"] = "answered", ["callid"] = callId, ["agent"] = agentId });
        _last[callId] = frame;
        _answered[callId] = (agentId, "tag-" + callId[..8]);
        await SendAsync(frame);
    }

    public async Task CallerHangsUpAsync(string callId)
    {
        _answered.TryRemove(callId, out _);
        await SendAsync(Frame(new JsonObject { ["event"] = "ended", ["callid"] = callId, ["by"] = "caller" }));
    }

    public async Task CallerAbandonsAsync(string callId)
    {
        // CANCEL while held, then dialog:failed for the 487: both in one write; the second is the same abandon.
        var bytes = Frame(new JsonObject { ["event"] = "cancel", ["callid"] = callId })
            .Concat(Frame(new JsonObject { ["event"] = "failed", ["callid"] = callId, ["code"] = 487 })).ToArray();
        await SendAsync(bytes);
    }

    public async Task RedeliverLastAsync(string callId, string agentId) => await SendAsync(_last[callId]);

    public async Task EndThenLateAnswerAsync(string callId, string agentId)
    {
        var bytes = Frame(new JsonObject { ["event"] = "cancel", ["callid"] = callId })
            .Concat(Frame(new JsonObject { ["event"] = "answered", ["callid"] = callId, ["agent"] = agentId })).ToArray();
        await SendAsync(bytes);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await _run; } catch (OperationCanceledException) { }
        await _peer;
        _adapter.Dispose();
        _listener.Stop();
        _listener.Dispose();
        _stop.Dispose();
        _write.Dispose();
    }

    /// <summary>Kamailio's JSON-RPC as far as the adapter uses it: dlg.list of the answered calls, dlg.terminate_dlg.</summary>
    private sealed class FakeJsonRpc(FakeKamailioDriver driver) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = JsonNode.Parse(await request.Content!.ReadAsStringAsync(cancellationToken))!;
            JsonNode result = (string?)body["method"] switch
            {
                "dlg.list" => new JsonArray(driver._answered.Select(kv => (JsonNode)new JsonObject
                {
                    ["call-id"] = kv.Key, ["state"] = 4,
                    ["caller"] = new JsonObject { ["tag"] = kv.Value.CallerTag }, ["callee"] = new JsonObject { ["tag"] = "agent-tag" },
                    ["variables"] = new JsonArray(new JsonObject { ["agent"] = kv.Value.Agent }),
                }).ToArray()),
                _ => new JsonObject(),
            };
            var json = new JsonObject { ["jsonrpc"] = "2.0", ["result"] = result, ["id"] = body["id"]?.DeepClone() }.ToJsonString();
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        }
    }
}
