using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Hotline.Telephony.Webhook;
using Xunit;

namespace Hotline.Telephony.Tests.Webhook;

public sealed class WebhookEndpointTests : IAsyncLifetime
{
    private WebhookHost _host = null!;

    public async Task InitializeAsync() => _host = await WebhookHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static string Offered(string eventId, string callId = "c-1") => JsonSerializer.Serialize(new
    {
        eventId, type = "call.offered", callId, occurredAt = "2025-03-01T10:15:30+08:00",
        callerNumber = "13800138000", dialledNumber = "12345", skill = "适老化", elderly = true,
    });

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task A_signed_event_is_published()
    {
        using var response = await _host.PostAsync(Offered("e-1"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var offered = Assert.IsType<CallOffered>(Assert.Single(_host.Sink.Events));
        Assert.True(offered.Elderly);
        Assert.Equal("适老化", offered.RequestedSkill);
        Assert.Equal(new DateTimeOffset(2025, 3, 1, 10, 15, 30, TimeSpan.FromHours(8)), offered.OccurredAt);
    }

    [Fact]
    public async Task Bad_signature_is_401_problem_and_nothing_is_published()
    {
        using var wrongSecret = await _host.PostAsync(Offered("e-2"), secret: "another-secret-0123456789-abcdefghijk");
        using var garbage = await _host.PostAsync(Offered("e-3"), signature: "sha256=zz");
        using var missingPrefix = await _host.PostAsync(Offered("e-4"), signature: new string('0', 64));

        foreach (var r in new[] { wrongSecret, garbage, missingPrefix })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        }
        Assert.Empty(_host.Sink.Events);
    }

    [Fact]
    public async Task Body_changed_after_signing_is_rejected()
    {
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var signature = WebhookSignature.Compute(WebhookHost.Secret, ts, System.Text.Encoding.UTF8.GetBytes(Offered("e-5")));
        using var response = await _host.PostAsync(Offered("e-5", callId: "c-other"), timestamp: ts, signature: signature);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Old_timestamp_is_rejected_as_replay_even_with_a_valid_signature()
    {
        var old = DateTimeOffset.UtcNow.AddMinutes(-6).ToUnixTimeSeconds();
        using var response = await _host.PostAsync(Offered("e-6"), timestamp: old);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("replay", (await Json(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);

        var future = DateTimeOffset.UtcNow.AddMinutes(6).ToUnixTimeSeconds();
        using var fromTheFuture = await _host.PostAsync(Offered("e-7"), timestamp: future);
        Assert.Equal(HttpStatusCode.Unauthorized, fromTheFuture.StatusCode);
        Assert.Empty(_host.Sink.Events);
    }

    [Fact]
    public async Task The_same_event_twice_is_accepted_once()
    {
        using var first = await _host.PostAsync(Offered("e-8"));
        using var second = await _host.PostAsync(Offered("e-8"));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.False((await first.Content.ReadFromJsonAsync<WebhookAck>())!.Duplicate);
        Assert.True((await Json(second)).GetProperty("duplicate").GetBoolean());
        Assert.Single(_host.Sink.Events);
    }

    [Theory]
    [InlineData("""{"type":"call.offered","callId":"c","occurredAt":"2025-03-01T10:00:00+08:00","callerNumber":"1","dialledNumber":"12345"}""", "eventId")]
    [InlineData("""{"eventId":"x1","type":"call.offered","occurredAt":"2025-03-01T10:00:00+08:00","callerNumber":"1","dialledNumber":"12345"}""", "callId")]
    [InlineData("""{"eventId":"x2","type":"call.offered","callId":"c","occurredAt":"2025-03-01T10:00:00+08:00","dialledNumber":"12345"}""", "callerNumber")]
    [InlineData("""{"eventId":"x3","type":"call.answered","callId":"c","occurredAt":"2025-03-01T10:00:00+08:00"}""", "agentId")]
    [InlineData("""{"eventId":"x4","type":"call.exploded","callId":"c","occurredAt":"2025-03-01T10:00:00+08:00"}""", "type")]
    [InlineData("""{"eventId":"x5","type":"call.held","callId":"c","occurredAt":"yesterday"}""", "occurredAt")]
    [InlineData("""{"eventId":"x6","type":"call.ended","callId":"c","occurredAt":"2025-03-01T10:00:00+08:00","endedBy":"cat"}""", "endedBy")]
    [InlineData("""{"eventId":"x7","type":"call.offered","callId":"c","occurredAt":"2025-03-01T10:00:00+08:00","callerNumber":"1","dialledNumber":"12345","elderly":"yes"}""", "elderly")]
    [InlineData("""{"eventId":"x8","type":"call.dtmf","callId":42,"occurredAt":"2025-03-01T10:00:00+08:00","digits":"1"}""", "callId")]
    [InlineData("""{"eventId": """, "$")]
    [InlineData("""[1,2]""", "$")]
    public async Task Malformed_body_is_400_naming_the_field(string body, string field)
    {
        using var response = await _host.PostAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(field, (await Json(response)).GetProperty("field").GetString());
        Assert.Empty(_host.Sink.Events);
    }

    [Fact]
    public async Task Every_documented_type_parses()
    {
        var at = "2025-03-01T10:00:00+08:00";
        object[] events =
        [
            new { eventId = "t1", type = "call.offered", callId = "k", occurredAt = at, callerNumber = "13800138000", dialledNumber = "12345", trunk = "CT-1", ivrPath = "1-2", skill = "普通话", elderly = false, vip = true },
            new { eventId = "t2", type = "call.ringing", callId = "k", occurredAt = at, agentId = "A1", agentEndpoint = "sip:1001@pbx" },
            new { eventId = "t3", type = "call.failed", callId = "k", occurredAt = at, agentId = "A1", cause = "USER_BUSY" },
            new { eventId = "t4", type = "call.answered", callId = "k", occurredAt = at, agentId = "A2" },
            new { eventId = "t5", type = "call.dtmf", callId = "k", occurredAt = at, digits = "3" },
            new { eventId = "t6", type = "call.held", callId = "k", occurredAt = at },
            new { eventId = "t7", type = "call.resumed", callId = "k", occurredAt = at },
            new { eventId = "t8", type = "call.transferred", callId = "k", occurredAt = at, target = "120", reason = "medical" },
            new { eventId = "t9", type = "call.ended", callId = "k", occurredAt = at, endedBy = "system", cause = "transferred" },
            new { eventId = "t10", type = "call.offered", callId = "q", occurredAt = at, callerNumber = "02188888888", dialledNumber = "12345" },
            new { eventId = "t11", type = "call.abandoned", callId = "q", occurredAt = at, queue = "普通话", reason = "caller hung up" },
        ];
        foreach (var e in events)
        {
            using var r = await _host.PostEventAsync(e);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
        Assert.Equal(
            ["CallOffered", "CallRinging", "CallFailed", "CallAnswered", "DtmfReceived", "CallHeld", "CallResumed", "CallTransferred", "CallEnded", "CallOffered", "CallAbandoned"],
            _host.Sink.Events.Select(e => e.GetType().Name));
        Assert.Equal(WebhookEventParser.Types.Count, events.Select(e => e.GetType().GetProperty("type")!.GetValue(e)).Distinct().Count());
    }

    [Fact]
    public async Task Commands_are_posted_signed_and_a_refusal_throws()
    {
        await _host.Control.TransferAsync("c-9", "119", "fire", CancellationToken.None);
        var command = Assert.Single(_host.Pbx.Commands); // the fake PBX verified the signature before recording
        Assert.Equal(("transfer", "c-9", "119"), (command.Command, command.CallId, command.Target));

        _host.Pbx.OnCommand = _ => throw new HttpRequestException("connection refused");
        await Assert.ThrowsAsync<TelephonyCommandException>(() => _host.Control.ReleaseAsync("c-9", "x", CancellationToken.None));
    }
}
