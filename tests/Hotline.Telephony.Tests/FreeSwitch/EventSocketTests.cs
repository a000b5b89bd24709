using System.Text;
using Hotline.Telephony.FreeSwitch;
using Hotline.Telephony.Tests.Contract;
using Hotline.Telephony.Tests.Support;
using Xunit;

namespace Hotline.Telephony.Tests.FreeSwitch;

public sealed class EventSocketTests
{
    [Fact]
    public void Parser_reassembles_frames_fed_one_byte_at_a_time_and_cuts_bursts()
    {
        var e1 = new Dictionary<string, string> { ["Event-Name"] = "DTMF", ["Unique-ID"] = "u1", ["DTMF-Digit"] = "5" };
        var e2 = new Dictionary<string, string> { ["Event-Name"] = "BACKGROUND_JOB", ["Job-UUID"] = "j1" };
        var bytes = FakeEslServer.Frame(e1).Concat(Encoding.UTF8.GetBytes("Content-Type: api/response\nContent-Length: 4\n\n+OK\n"))
            .Concat(FakeEslServer.Frame(e2, "-ERR USER_BUSY\n")).ToArray();

        // one byte per read
        var parser = new EslFrameParser();
        var frames = new List<EslFrame>();
        foreach (var b in bytes)
        {
            parser.Feed([b]);
            while (parser.TryRead(out var f))
            {
                frames.Add(f);
            }
        }
        // everything in one read
        var burst = new EslFrameParser();
        burst.Feed(bytes);
        var burstFrames = new List<EslFrame>();
        while (burst.TryRead(out var f))
        {
            burstFrames.Add(f);
        }

        foreach (var list in new[] { frames, burstFrames })
        {
            Assert.Equal(["text/event-plain", "api/response", "text/event-plain"], list.Select(f => f.ContentType));
            Assert.Equal("5", EslEvent.ParsePlain(list[0].Body)["DTMF-Digit"]);
            Assert.Equal("+OK\n", list[1].Body);
            var job = EslEvent.ParsePlain(list[2].Body);
            Assert.Equal("j1", job["Job-UUID"]);
            Assert.Equal("-ERR USER_BUSY\n", job.Body);
        }
    }

    [Fact]
    public void Header_values_are_url_decoded()
    {
        var body = "Event-Name: CHANNEL_CREATE\nCaller-Caller-ID-Name: %E5%BC%A0%E4%B8%89\nEvent-Date-Local: 2025-03-01%2010%3A15%3A30\n\n";
        var e = EslEvent.ParsePlain(body);
        Assert.Equal("张三", e["Caller-Caller-ID-Name"]);
        Assert.Equal("2025-03-01 10:15:30", e["Event-Date-Local"]);
    }

    [Fact]
    public async Task Url_encoded_caller_name_reaches_the_offer()
    {
        await using var driver = await FreeSwitchDriver.StartAsync();
        var callId = Guid.NewGuid().ToString();
        await driver.CallArrivesAsync(callId, "13512345678", "普通话");
        var offered = await driver.Sink.WaitForAsync<CallOffered>(callId);
        Assert.Equal("张三", offered.CallerName);
        Assert.Equal("12345", offered.DialledNumber);
        Assert.Equal("CT-SIP-01", offered.Trunk);
        Assert.Equal("freeswitch", offered.Source);
        Assert.StartsWith(FakeEslServer.CoreUuid, offered.EventId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_password_is_an_authentication_error()
    {
        await using var server = new FakeEslServer("right-password");
        using var adapter = new FreeSwitchTelephony(new RecordingSink(), new FreeSwitchOptions { Port = server.Port, Password = "wrong" });

        var ex = await Assert.ThrowsAsync<FreeSwitchAuthenticationException>(() => adapter.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("-ERR invalid", ex.Message, StringComparison.Ordinal);
        Assert.Equal(FreeSwitchConnectionState.AuthenticationFailed, adapter.State);
        Assert.Equal(0, server.AuthenticatedSessions);
    }

    [Fact]
    public async Task Reconnects_after_the_server_drops_the_connection_and_keeps_receiving()
    {
        await using var driver = await FreeSwitchDriver.StartAsync();
        var adapter = (FreeSwitchTelephony)driver.Control;
        Assert.Equal(1, adapter.Connections);

        driver.Server.DropConnections();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (adapter.Connections < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.Equal(2, adapter.Connections);
        await adapter.WaitUntilConnectedAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));

        var callId = Guid.NewGuid().ToString();
        await driver.CallArrivesAsync(callId, "13612345678", "English");
        await driver.Sink.WaitForAsync<CallOffered>(callId);
        Assert.Equal(2, driver.Server.Commands.Count(c => c.StartsWith("event plain", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Commands_use_api_and_bgapi_with_their_replies()
    {
        await using var driver = await FreeSwitchDriver.StartAsync();
        var callId = Guid.NewGuid().ToString();
        await driver.CallArrivesAsync(callId, "13712345678", "普通话");
        await driver.Sink.WaitForAsync<CallOffered>(callId);

        await driver.Control.RouteToAgentAsync(callId, "A7", "user/1007", CancellationToken.None);
        await driver.Sink.WaitForAsync<CallRinging>(callId);
        await driver.AgentAnswersAsync(callId, "A7");
        await driver.Sink.WaitForAsync<CallAnswered>(callId);
        await driver.Control.ReleaseAsync(callId, "test", CancellationToken.None);

        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!driver.Server.Commands.Any(c => c.StartsWith("api uuid_bridge", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
        var commands = driver.Server.Commands.ToList();
        Assert.Contains(commands, c => c.StartsWith("bgapi originate {hotline_call_id=" + callId + ",hotline_agent_id=A7", StringComparison.Ordinal)
            && c.EndsWith("}user/1007 &park()", StringComparison.Ordinal));
        Assert.Contains(commands, c => c.StartsWith($"api uuid_bridge {callId} ", StringComparison.Ordinal));
        Assert.Contains($"api uuid_kill {callId} NORMAL_CLEARING", commands);

        // A refused api command surfaces as TelephonyCommandException.
        await Assert.ThrowsAsync<TelephonyCommandException>(() =>
            driver.Control.TransferAsync("no-such-call", "110", "test", CancellationToken.None));
        // Dial-string injection is refused before anything is sent.
        await Assert.ThrowsAsync<ArgumentException>(() =>
            driver.Control.RouteToAgentAsync(callId, "A1", "user/1001,user/1002", CancellationToken.None));
    }
}
