using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hotline.EventStore;
using Hotline.Server.Hosting;
using Hotline.Server.Tests.Faults;
using Hotline.Testing;

namespace Hotline.Server.Tests.Calls;

/// <summary>
/// 转接 through the agent hub on a real server with the simulated telephony; the 漏接回拨 list across a Redis restart; a hub
/// connection whose session expires is closed.
/// </summary>
public sealed class TransferAndSessionTests
{
    [Fact]
    public async Task An_agent_transfers_its_connected_call_to_120_the_transfer_is_recorded_the_call_ends_and_the_agent_wraps_up()
    {
        await using var server = await ServerProcess.StartAsync(FaultSettings.Relaxed());
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        await using var hub = await HubClient.ConnectAsync(server.BaseAddress, "hubs/agent", agent.Token);
        Assert.Equal("Ready", (string?)(await hub.InvokeAsync("GoReady"))!["status"]);
        var targets = (await hub.InvokeAsync("GetTransferTargets"))!.AsArray().Select(t => (string?)t!["number"]).ToList();
        Assert.Contains("110", targets);
        Assert.Contains("120", targets);

        var (status, injected, _) = await agent.SendAsync(HttpMethod.Post, "api/dev/calls", new { caller = "13700007777" });
        Assert.Equal(HttpStatusCode.OK, status);
        var callId = (string)injected!["callId"]!;
        await hub.WaitForAsync("CallOffered", a => (string?)a[0]!["callId"] == callId);
        Assert.True((bool)(await hub.InvokeAsync("Accept", callId))!);
        await hub.WaitForAsync("CallConnected", a => (string?)a[0]!["callId"] == callId);

        // Refused with the field named: a number not on the list, a missing reason; a call that is not the agent's is false.
        var badTarget = await Assert.ThrowsAnyAsync<Exception>(() => hub.InvokeAsync("Transfer", callId, "13800000000", "转错了"));
        Assert.Contains("target", badTarget.Message, StringComparison.Ordinal);
        var noReason = await Assert.ThrowsAnyAsync<Exception>(() => hub.InvokeAsync("Transfer", callId, "120", " "));
        Assert.Contains("reason", noReason.Message, StringComparison.Ordinal);
        Assert.False((bool)(await hub.InvokeAsync("Transfer", "no-such-call", "120", "来电人突发疾病"))!);
        Assert.Equal("OnCall", (string?)(await hub.InvokeAsync("GetState"))!["status"]);

        Assert.True((bool)(await hub.InvokeAsync("Transfer", callId, "120", "来电人家属突发疾病，需急救"))!);
        var ended = await hub.WaitForAsync("CallEnded", a => (string?)a[0]!["callId"] == callId);
        Assert.Equal("Transferred", (string?)ended[0]!["endedBy"]);
        Assert.Equal("WrapUp", (string?)(await hub.InvokeAsync("GetState"))!["status"]);
        Assert.False((bool)(await hub.InvokeAsync("Transfer", callId, "120", "再转一次"))!); // over

        // The record: one CallTransferredOut (the hub's and the simulator's CallTransferred are the same record), then CallFinished.
        await using var store = new Hotline.EventStore.Sqlite.SqliteEventStore($"Data Source={Path.Combine(server.DataDirectory, "hotline-events.db")}", TimeProvider.System);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        List<RecordedEvent> events;
        do
        {
            events = [];
            await foreach (var e in store.ReadStreamAsync("call-" + callId)) events.Add(e);
            if (events.Any(e => e.Type == "V1.CallFinished")) break;
            await Task.Delay(200);
        } while (DateTime.UtcNow < deadline);
        var transfer = Assert.Single(events, e => e.Type == "V1.CallTransferredOut");
        var data = JsonNode.Parse(transfer.Data.Span)!;
        Assert.Equal("120", (string?)data["target"]);
        Assert.Equal("来电人家属突发疾病，需急救", (string?)data["reason"]);
        var finished = JsonNode.Parse(Assert.Single(events, e => e.Type == "V1.CallFinished").Data.Span)!;
        Assert.Equal("Transferred", (string?)finished["endedBy"]);
        Assert.True(events.FindIndex(e => e.Type == "V1.CallTransferredOut") < events.FindIndex(e => e.Type == "V1.CallFinished"));
    }

    [Fact]
    public async Task The_missed_call_list_comes_back_after_a_redis_restart_with_the_same_entries_claims_and_attempts()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var server = await ServerProcess.StartAsync(FaultSettings.Relaxed(redis));
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        await using var hub = await HubClient.ConnectAsync(server.BaseAddress, "hubs/agent", agent.Token);

        // Nobody is ready: three callers give up; one entry gets a failed attempt, one is claimed, one is closed.
        var ids = new List<string>();
        foreach (var caller in new[] { "13600003331", "13600003332", "13600003333" })
        {
            var (status, injected, _) = await agent.SendAsync(HttpMethod.Post, "api/dev/calls", new { caller, patienceSeconds = 1 });
            Assert.Equal(HttpStatusCode.OK, status);
            ids.Add((string)injected!["callId"]!);
        }
        foreach (var id in ids) await hub.WaitForAsync("MissedCallsChanged", a => (string?)a[0]!["callId"] == id && (string?)a[0]!["change"] == "listed", TimeSpan.FromSeconds(20));
        Assert.True((bool)(await hub.InvokeAsync("ClaimMissed", ids[0]))!);
        Assert.True((bool)(await hub.InvokeAsync("CompleteMissed", ids[0], "无人接听", false))!);
        Assert.True((bool)(await hub.InvokeAsync("ClaimMissed", ids[1]))!);
        Assert.True((bool)(await hub.InvokeAsync("ClaimMissed", ids[2]))!);
        Assert.True((bool)(await hub.InvokeAsync("CompleteMissed", ids[2], "已回拨", true))!);
        var before = Rows(await hub.InvokeAsync("GetMissed"));
        Assert.Equal(2, before.Count);

        await redis.RestartAsync(); // SIGKILL, empty dataset

        var deadline = DateTime.UtcNow.AddSeconds(20);
        List<string> after;
        while (true)
        {
            try { after = Rows(await hub.InvokeAsync("GetMissed")); }
            catch (InvalidOperationException) { after = []; } // the multiplexer is reconnecting
            if (after.Count > 0 || DateTime.UtcNow > deadline) break;
            await Task.Delay(250);
        }
        Assert.Equal(before, after);
        Assert.Contains(after, r => r.StartsWith(ids[0] + "|", StringComparison.Ordinal) && r.EndsWith("|1|无人接听", StringComparison.Ordinal));
        Assert.False((bool)(await hub.InvokeAsync("CompleteMissed", ids[2], "x", true))!); // the closed one stays closed
        Assert.True((bool)(await hub.InvokeAsync("CompleteMissed", ids[1], "已回拨", true))!); // the claim survived

        static List<string> Rows(JsonNode? list) => [.. list!.AsArray().Select(m =>
            $"{m!["callId"]}|{m["caller"]}|{m["skill"]}|{m["reason"]}|{m["claimedBy"]}|{m["attempts"]}|{m["lastResult"]}")];
    }

    [Fact]
    public async Task A_hub_connection_is_closed_when_its_session_expires()
    {
        await using var server = await ServerProcess.StartAsync(FaultSettings.Relaxed());
        using var agent = await ApiClient.LoginAsync(server, "agent1");
        await using var lasting = await HubClient.ConnectAsync(server.BaseAddress, "hubs/agent", agent.Token);
        var agentId = (string)(await lasting.InvokeAsync("GetState"))!["agentId"]!;

        // A session that ends in 3 s (the same HS256 token the server issues, with a short exp), on a raw WebSocket so the close is seen.
        var lifetime = TimeSpan.FromSeconds(3);
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        var uri = new Uri($"ws://127.0.0.1:{server.Port}/hubs/agent?access_token={Uri.EscapeDataString(ShortToken(agentId, lifetime))}");
        await socket.ConnectAsync(uri, CancellationToken.None);
        await socket.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e"), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);
        var opened = DateTime.UtcNow;

        // Read until the server sends its Close message (type 7) or closes the socket; pings (type 6) and the handshake reply pass.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var buffer = new byte[8192];
        var closedBy = "";
        while (closedBy.Length == 0)
        {
            var r = await socket.ReceiveAsync(buffer, timeout.Token);
            if (r.MessageType == System.Net.WebSockets.WebSocketMessageType.Close) closedBy = "websocket close";
            else if (Encoding.UTF8.GetString(buffer, 0, r.Count).Contains("\"type\":7", StringComparison.Ordinal)) closedBy = "hub close message";
        }
        var after = DateTime.UtcNow - opened;
        Assert.True(after >= lifetime - TimeSpan.FromSeconds(1.5), $"closed after {after.TotalSeconds:F1} s ({closedBy}), before the session expired");
        Assert.Equal(agentId, (string?)(await lasting.InvokeAsync("GetState"))!["agentId"]); // a live session keeps its connection
    }

    private static string ShortToken(string userId, TimeSpan lifetime)
    {
        static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = B64(JsonSerializer.SerializeToUtf8Bytes(new { alg = "HS256", typ = "JWT" }));
        var payload = B64(JsonSerializer.SerializeToUtf8Bytes(new { iss = "hotline", sub = userId, iat = now, exp = now + (long)lifetime.TotalSeconds, sid = Guid.NewGuid().ToString("N") }));
        var signed = header + "." + payload;
        return signed + "." + B64(HMACSHA256.HashData(Encoding.UTF8.GetBytes(HotlineOptions.DevelopmentSigningKey), Encoding.ASCII.GetBytes(signed)));
    }
}
