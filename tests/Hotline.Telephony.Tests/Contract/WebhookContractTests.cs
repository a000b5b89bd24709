using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Hotline.Telephony.Tests.Support;
using Hotline.Telephony.Tests.Webhook;
using Hotline.Telephony.Webhook;
using Xunit;

namespace Hotline.Telephony.Tests.Contract;

public sealed class WebhookContractTests : TelephonyAdapterContract
{
    protected override async Task<ITelephonyDriver> StartDriverAsync() => await WebhookDriver.StartAsync();
}

/// <summary>Plays a cloud contact center that reports through the signed webhook and takes commands by HTTP.</summary>
public sealed class WebhookDriver : ITelephonyDriver
{
    private readonly WebhookHost _host;
    private readonly ConcurrentDictionary<string, bool> _busy = new();
    private readonly ConcurrentDictionary<string, object> _last = new();
    private int _n;

    private WebhookDriver(WebhookHost host)
    {
        _host = host;
        host.Pbx.OnCommand = OnCommandAsync;
    }

    public static async Task<WebhookDriver> StartAsync() => new(await WebhookHost.StartAsync());

    public ITelephonyControl Control => _host.Control;

    public RecordingSink Sink => _host.Sink;

    private string NextId() => $"ccc-{Interlocked.Increment(ref _n)}-{Guid.NewGuid():N}";

    private static string Now() => DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).ToString("O");

    private async Task SendAsync(string callId, object evt)
    {
        _last[callId] = evt;
        using var response = await _host.PostEventAsync(evt);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task OnCommandAsync(WebhookCommand command)
    {
        switch (command.Command)
        {
            case "route" when _busy.ContainsKey(command.AgentId!):
                await SendAsync(command.CallId, new { eventId = NextId(), type = "call.failed", callId = command.CallId, occurredAt = Now(), agentId = command.AgentId, cause = "USER_BUSY" });
                break;
            case "route":
                await SendAsync(command.CallId, new { eventId = NextId(), type = "call.ringing", callId = command.CallId, occurredAt = Now(), agentId = command.AgentId, agentEndpoint = command.AgentEndpoint });
                break;
            case "accept":
                await SendAsync(command.CallId, new { eventId = NextId(), type = "call.answered", callId = command.CallId, occurredAt = Now(), agentId = command.AgentId });
                break;
            case "transfer":
                await SendAsync(command.CallId, new { eventId = NextId(), type = "call.transferred", callId = command.CallId, occurredAt = Now(), target = command.Target, reason = command.Reason });
                await SendAsync(command.CallId, new { eventId = NextId(), type = "call.ended", callId = command.CallId, occurredAt = Now(), endedBy = "system", cause = "transferred" });
                break;
            default:
                break;
        }
    }

    public Task CallArrivesAsync(string callId, string callerNumber, string skill, bool willAbandon = false) =>
        SendAsync(callId, new
        {
            eventId = NextId(), type = "call.offered", callId, occurredAt = Now(), callerNumber, dialledNumber = "12345",
            trunk = "CU-SIP-01", ivrPath = "1", skill, elderly = false, vip = false,
        });

    public void AgentIsBusy(string agentId) => _busy[agentId] = true;

    // The console accept is forwarded to the platform, which answers and reports call.answered.
    public Task AgentAnswersAsync(string callId, string agentId) => Control.AgentAcceptedAsync(callId, agentId, CancellationToken.None);

    public Task CallerHangsUpAsync(string callId) =>
        SendAsync(callId, new { eventId = NextId(), type = "call.ended", callId, occurredAt = Now(), endedBy = "caller", cause = "NORMAL_CLEARING" });

    public async Task CallerPressesAsync(string callId, string digits)
    {
        var evt = new { eventId = NextId(), type = "call.dtmf", callId, occurredAt = Now(), digits };
        await SendAsync(callId, evt);
        using var again = await _host.PostEventAsync(evt); // the platform's retry
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    public async Task CallerAbandonsAsync(string callId)
    {
        await SendAsync(callId, new { eventId = NextId(), type = "call.abandoned", callId, occurredAt = Now(), queue = "方言", reason = "caller hung up" });
        // Some platforms also report the hang-up itself.
        await SendAsync(callId, new { eventId = NextId(), type = "call.ended", callId, occurredAt = Now(), endedBy = "caller" });
    }

    public async Task RedeliverLastAsync(string callId, string agentId)
    {
        using var response = await _host.PostEventAsync(_last[callId]);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ack = await response.Content.ReadFromJsonAsync<WebhookAck>();
        Assert.True(ack!.Duplicate);
    }

    public async Task EndThenLateAnswerAsync(string callId, string agentId)
    {
        await SendAsync(callId, new { eventId = NextId(), type = "call.ended", callId, occurredAt = Now(), endedBy = "caller", cause = "ORIGINATOR_CANCEL" });
        await SendAsync(callId, new { eventId = NextId(), type = "call.answered", callId, occurredAt = Now(), agentId });
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
