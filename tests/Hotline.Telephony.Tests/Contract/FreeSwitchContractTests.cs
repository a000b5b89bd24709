using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Hotline.Telephony.FreeSwitch;
using Hotline.Telephony.Tests.FreeSwitch;
using Hotline.Telephony.Tests.Support;

namespace Hotline.Telephony.Tests.Contract;

public sealed class FreeSwitchContractTests : TelephonyAdapterContract
{
    protected override async Task<ITelephonyDriver> StartDriverAsync() => await FreeSwitchDriver.StartAsync();
}

/// <summary>Plays FreeSWITCH + mod_callcenter + SIP phones over a fake Event Socket.</summary>
public sealed partial class FreeSwitchDriver : ITelephonyDriver
{
    private sealed record AgentLeg(string Uuid, string CallId, string AgentId, string Endpoint, string Job);

    private readonly FakeEslServer _server;
    private readonly FreeSwitchTelephony _adapter;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;
    private readonly ConcurrentDictionary<string, bool> _busy = new();
    private readonly ConcurrentDictionary<string, AgentLeg> _legsByCall = new();
    private readonly ConcurrentDictionary<string, string> _callers = new();
    private readonly ConcurrentDictionary<string, byte[]> _lastFrame = new();

    private FreeSwitchDriver(FakeEslServer server, RecordingSink sink)
    {
        _server = server;
        Sink = sink;
        _adapter = new FreeSwitchTelephony(new CallEventNormalizer(sink),
            new FreeSwitchOptions { Port = server.Port, Password = server.Password, ReconnectInitialDelay = TimeSpan.FromMilliseconds(50) });
        server.OnBgApi = OnBgApiAsync;
        server.OnApi = OnApiAsync;
        _run = _adapter.RunAsync(_stop.Token);
    }

    public static async Task<FreeSwitchDriver> StartAsync()
    {
        var driver = new FreeSwitchDriver(new FakeEslServer("s3cret-esl"), new RecordingSink());
        await driver._adapter.WaitUntilConnectedAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        return driver;
    }

    public FakeEslServer Server => _server;

    public ITelephonyControl Control => _adapter;

    public RecordingSink Sink { get; }

    public void AgentIsBusy(string agentId) => _busy[agentId] = true;

    public async Task CallArrivesAsync(string callId, string callerNumber, string skill, bool willAbandon = false)
    {
        _callers[callId] = callerNumber;
        var create = CallerLeg("CHANNEL_CREATE", callId, callerNumber);
        var queued = CallerLeg("CUSTOM", callId, callerNumber);
        queued["Event-Subclass"] = "callcenter::info";
        queued["CC-Queue"] = $"{skill}@hotline";
        queued["CC-Action"] = "member-queue-start";
        queued["CC-Member-UUID"] = Guid.NewGuid().ToString();
        queued["CC-Member-Session-UUID"] = callId;
        queued["CC-Member-CID-Name"] = "张三";
        queued["CC-Member-CID-Number"] = callerNumber;
        queued["variable_hotline_skill"] = skill;
        queued["variable_hotline_ivr_path"] = "1";
        // Both in one TCP write: the adapter must cut the burst into frames.
        await _server.SendFramesAsync([FakeEslServer.Frame(create), FakeEslServer.Frame(queued)], Delivery.Burst);
    }

    private Dictionary<string, string> CallerLeg(string eventName, string callId, string callerNumber)
    {
        var e = _server.NewEvent(eventName, callId);
        e["Call-Direction"] = "inbound";
        e["Channel-Name"] = $"sofia/external/{callerNumber}@10.1.1.1";
        e["Caller-Caller-ID-Number"] = callerNumber;
        e["Caller-Caller-ID-Name"] = "张三";
        e["Caller-Destination-Number"] = "12345";
        e["variable_sip_gateway_name"] = "CT-SIP-01";
        e["variable_cc_queue"] = "普通话@hotline";
        return e;
    }

    [GeneratedRegex(@"^originate \{(?<vars>[^}]*)\}(?<endpoint>\S+) &park\(\)$")]
    private static partial Regex Originate();

    private async Task OnBgApiAsync(string command, string job)
    {
        var m = Originate().Match(command);
        if (!m.Success)
        {
            return;
        }
        var vars = m.Groups["vars"].Value.Split(',').Select(v => v.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var callId = vars["hotline_call_id"];
        var agentId = vars["hotline_agent_id"];
        if (_busy.ContainsKey(agentId))
        {
            var result = _server.NewEvent("BACKGROUND_JOB");
            result["Job-UUID"] = job;
            result["Job-Command"] = "originate";
            result["Job-Command-Arg"] = command["originate ".Length..];
            await _server.SendAsync(result, "-ERR USER_BUSY\n");
            return;
        }
        var leg = new AgentLeg(Guid.NewGuid().ToString(), callId, agentId, m.Groups["endpoint"].Value, job);
        _legsByCall[callId] = leg;
        await _server.SendAsync(AgentLegEvent("CHANNEL_CREATE", leg));
    }

    private Dictionary<string, string> AgentLegEvent(string name, AgentLeg leg)
    {
        var e = _server.NewEvent(name, leg.Uuid);
        e["Call-Direction"] = "outbound";
        e["Channel-Name"] = "sofia/internal/1001@10.0.0.21";
        e["Caller-Destination-Number"] = "1001";
        e["variable_hotline_call_id"] = leg.CallId;
        e["variable_hotline_agent_id"] = leg.AgentId;
        e["variable_hotline_agent_endpoint"] = leg.Endpoint;
        return e;
    }

    private Task<string> OnApiAsync(string command)
    {
        var parts = command.Split(' ');
        return Task.FromResult(parts[0] switch
        {
            "uuid_bridge" when !_callers.ContainsKey(parts[1]) => "-ERR No such channel!\n",
            "uuid_kill" or "uuid_transfer" when !_callers.ContainsKey(parts[1]) => "-ERR No such channel!\n",
            _ => "+OK\n",
        });
    }

    public async Task AgentAnswersAsync(string callId, string agentId)
    {
        var leg = _legsByCall[callId];
        var answer = AgentLegEvent("CHANNEL_ANSWER", leg);
        _lastFrame[callId] = FakeEslServer.Frame(answer);
        var job = _server.NewEvent("BACKGROUND_JOB");
        job["Job-UUID"] = leg.Job;
        job["Job-Command"] = "originate";
        // Split into 7-byte pieces: headers and bodies straddle reads.
        await _server.SendFramesAsync([_lastFrame[callId], FakeEslServer.Frame(job, $"+OK {leg.Uuid}\n")], Delivery.Split);
    }

    public async Task CallerHangsUpAsync(string callId)
    {
        var hangup = CallerLeg("CHANNEL_HANGUP_COMPLETE", callId, _callers[callId]);
        hangup["Hangup-Cause"] = "NORMAL_CLEARING";
        hangup["variable_sip_hangup_disposition"] = "recv_bye";
        var frames = new List<byte[]> { FakeEslServer.Frame(hangup) };
        if (_legsByCall.TryRemove(callId, out var leg))
        {
            var agentHangup = AgentLegEvent("CHANNEL_HANGUP_COMPLETE", leg);
            agentHangup["Hangup-Cause"] = "NORMAL_CLEARING";
            agentHangup["variable_sip_hangup_disposition"] = "send_bye";
            frames.Add(FakeEslServer.Frame(agentHangup));
        }
        _callers.TryRemove(callId, out _);
        await _server.SendFramesAsync(frames, Delivery.Burst);
    }

    public async Task CallerPressesAsync(string callId, string digits)
    {
        // FreeSWITCH sends one DTMF event per key on the caller's channel; each frame is delivered twice (same Event-Sequence).
        var frames = new List<byte[]>();
        foreach (var digit in digits)
        {
            var dtmf = CallerLeg("DTMF", callId, _callers[callId]);
            dtmf["DTMF-Digit"] = digit.ToString();
            dtmf["DTMF-Duration"] = "1600";
            dtmf["DTMF-Source"] = "RTP";
            var frame = FakeEslServer.Frame(dtmf);
            frames.Add(frame);
            frames.Add(frame);
        }
        await _server.SendFramesAsync(frames, Delivery.Split);
    }

    public async Task CallerAbandonsAsync(string callId)
    {
        var end = CallerLeg("CUSTOM", callId, _callers[callId]);
        end["Event-Subclass"] = "callcenter::info";
        end["CC-Queue"] = "方言@hotline";
        end["CC-Action"] = "member-queue-end";
        end["CC-Cause"] = "Cancel";
        end["CC-Cancel-Reason"] = "BREAK_OUT";
        end["CC-Member-Session-UUID"] = callId;
        var hangup = CallerLeg("CHANNEL_HANGUP_COMPLETE", callId, _callers[callId]);
        hangup["Hangup-Cause"] = "ORIGINATOR_CANCEL";
        hangup["variable_sip_hangup_disposition"] = "recv_bye";
        _callers.TryRemove(callId, out _);
        await _server.SendFramesAsync([FakeEslServer.Frame(end), FakeEslServer.Frame(hangup)], Delivery.Whole);
    }

    public async Task RedeliverLastAsync(string callId, string agentId) =>
        await _server.SendFramesAsync([_lastFrame[callId]], Delivery.Whole); // same Core-UUID + Event-Sequence

    public async Task EndThenLateAnswerAsync(string callId, string agentId)
    {
        var leg = _legsByCall[callId];
        var hangup = CallerLeg("CHANNEL_HANGUP_COMPLETE", callId, _callers[callId]);
        hangup["Hangup-Cause"] = "ORIGINATOR_CANCEL";
        hangup["variable_sip_hangup_disposition"] = "recv_bye";
        _callers.TryRemove(callId, out _);
        await _server.SendFramesAsync([FakeEslServer.Frame(hangup), FakeEslServer.Frame(AgentLegEvent("CHANNEL_ANSWER", leg))], Delivery.Burst);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _run;
        }
        catch (OperationCanceledException)
        {
        }
        _adapter.Dispose();
        await _server.DisposeAsync();
        _stop.Dispose();
    }
}
