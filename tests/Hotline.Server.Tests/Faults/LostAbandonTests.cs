using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Hotline.Calls.Redis;
using Hotline.Server.Calls;
using Hotline.Telephony.Webhook;
using Hotline.Testing;
using StackExchange.Redis;

namespace Hotline.Server.Tests.Faults;

/// <summary>
/// A node killed between the queue's abandon (the Redis script that ends the waiting call and lists it on 漏接回拨 in one step)
/// and its <see cref="CallAbandonedInQueue"/> record: the switch re-delivers the hang-up (to this or another node), which
/// finds no call in the queue. The record must catch up, once, so every call keeps exactly one terminal record.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class LostAbandonTests : IAsyncLifetime
{
    private const string Secret = "lost-abandon-webhook-secret-0123456789";
    private RedisServer? _redis;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_redis is not null) await _redis.DisposeAsync();
    }

    [Fact]
    public async Task A_redelivered_hang_up_records_the_abandon_a_dead_node_left_unrecorded_exactly_once()
    {
        var settings = FaultSettings.Relaxed(_redis!);
        settings["Hotline:RedisPrefix"] = "la" + Guid.NewGuid().ToString("N")[..6];
        settings["Hotline:Telephony"] = "Webhook";
        settings["Hotline:Webhook:Secret"] = Secret;
        settings["Hotline:Calls:CallbackOfferWaitSeconds"] = "0";
        await using var server = await ServerProcess.StartAsync(settings);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        var callId = "lost-" + Guid.NewGuid().ToString("N")[..8];
        var offered = new
        {
            type = "call.offered", eventId = callId + ":offered", callId, occurredAt = DateTimeOffset.Now.ToString("o"),
            callerNumber = "13700001234", dialledNumber = "12345", skill = CallCenter.DefaultSkill,
        };
        Assert.Equal(HttpStatusCode.OK, await SendAsync(http, offered));

        // The node that heard the hang-up ran the abandon script, then died before writing the record.
        using var redis = await ConnectionMultiplexer.ConnectAsync(_redis!.ConnectionString);
        var queue = new RedisCallQueue(redis, settings["Hotline:RedisPrefix"]);
        Assert.True(await queue.AbandonAsync(callId, DateTimeOffset.UtcNow), "the call was not waiting in Redis");
        Assert.Null(await queue.GetCallAsync(callId));
        Assert.DoesNotContain(await ReadCallAsync(server, settings, callId), r => r is CallAbandonedInQueue);

        // The switch did not hear an answer and delivers the hang-up again, twice.
        var ended = new { type = "call.ended", eventId = callId + ":ended", callId, occurredAt = DateTimeOffset.Now.ToString("o"), endedBy = "caller" };
        Assert.Equal(HttpStatusCode.OK, await SendAsync(http, ended));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(http, ended));

        var records = await ReadCallAsync(server, settings, callId);
        Assert.Single(records.OfType<CallQueued>());
        Assert.Single(records.OfType<CallAbandonedInQueue>());
        var listed = Assert.Single(records.OfType<MissedCallListed>());
        Assert.Equal("13700001234", listed.Caller);
        Assert.DoesNotContain(records, r => r is CallFinished);
        Assert.Empty(await queue.VerifyInvariantsAsync());
    }

    [Fact]
    public async Task A_hang_up_for_a_call_that_was_never_recorded_records_nothing()
    {
        var settings = FaultSettings.Relaxed(_redis!);
        settings["Hotline:RedisPrefix"] = "lb" + Guid.NewGuid().ToString("N")[..6];
        settings["Hotline:Telephony"] = "Webhook";
        settings["Hotline:Webhook:Secret"] = Secret;
        await using var server = await ServerProcess.StartAsync(settings);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        var callId = "never-" + Guid.NewGuid().ToString("N")[..8];
        var ended = new { type = "call.ended", eventId = callId + ":ended", callId, occurredAt = DateTimeOffset.Now.ToString("o"), endedBy = "caller" };
        Assert.Equal(HttpStatusCode.OK, await SendAsync(http, ended));
        Assert.Empty(await ReadCallAsync(server, settings, callId));
    }

    private static async Task<HttpStatusCode> SendAsync(HttpClient http, object e)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(e);
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/telephony/webhook") { Content = new ByteArrayContent(json) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(WebhookSignature.TimestampHeader, ts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Compute(Secret, ts, json));
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<List<object>> ReadCallAsync(ServerProcess server, IReadOnlyDictionary<string, string> settings, string callId)
    {
        var store = StoreAudit.Open(server, settings);
        try
        {
            var records = new List<object>();
            await foreach (var e in store.ReadStreamAsync("call-" + callId))
                if (StoreAudit.Serializer.Deserialize(e) is { } data) records.Add(data);
            return records;
        }
        finally
        {
            if (store is IAsyncDisposable d) await d.DisposeAsync();
        }
    }
}
