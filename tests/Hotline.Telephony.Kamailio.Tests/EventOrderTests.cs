using Hotline.Telephony.Tests.Support;
using Xunit;

namespace Hotline.Telephony.Kamailio.Tests;

/// <summary>
/// The adapter's at-least-once intake of kamailio.cfg's numbered events, without Kamailio. Found with the real SIP test under
/// load: the evapi dispatcher's own events (the "ringing" of a resumed INVITE) can overtake an event a worker queued a moment
/// before, so numbers arrive out of order; a number past a gap must not make the smaller one look like a replay.
/// </summary>
public sealed class EventOrderTests
{
    private static string Offered(long seq, string callId, long boot = 1795364608) =>
        $$"""{"seq":{{seq}},"boot":{{boot}},"event":"offered","callid":"{{callId}}","tindex":1,"tlabel":2,"caller":"13800000000","dialled":"12345","skill":"普通话","ts":1795364620.141}""";

    private static string Ringing(long seq, string callId, long boot = 1795364608) =>
        $$"""{"seq":{{seq}},"boot":{{boot}},"event":"ringing","callid":"{{callId}}","agent":"agent3","uri":"sip:agent3@127.0.0.1:5060","branch":1,"ts":1795364620.2}""";

    [Fact]
    public async Task An_event_overtaken_by_a_later_number_is_still_published_once_and_acknowledged_only_when_the_gap_fills()
    {
        var sink = new RecordingSink();
        using var adapter = new KamailioTelephony(sink, new KamailioOptions());

        await adapter.HandlePayloadAsync(Offered(1, "a"), CancellationToken.None);
        await adapter.HandlePayloadAsync(Ringing(3, "a"), CancellationToken.None); // overtook 2
        Assert.Equal(1, adapter.HandledUpTo); // 2 is not acknowledged yet: a reconnect's replay would bring it
        await adapter.HandlePayloadAsync(Offered(2, "b"), CancellationToken.None);
        Assert.Equal(3, adapter.HandledUpTo);

        // Replays and duplicates of every number are dropped.
        foreach (var again in new[] { Offered(2, "b"), Ringing(3, "a"), Offered(1, "a") }) await adapter.HandlePayloadAsync(again, CancellationToken.None);

        Assert.Equal(["a:CallOffered", "a:CallRinging", "b:CallOffered"], sink.Events.Select(e => $"{e.CallId}:{e.GetType().Name}"));
    }

    [Fact]
    public async Task A_restarted_Kamailio_numbers_from_one_again_and_is_not_taken_for_a_replay()
    {
        var sink = new RecordingSink();
        using var adapter = new KamailioTelephony(sink, new KamailioOptions());

        await adapter.HandlePayloadAsync(Offered(1, "a", boot: 100), CancellationToken.None);
        await adapter.HandlePayloadAsync(Offered(2, "b", boot: 100), CancellationToken.None);
        await adapter.HandlePayloadAsync(Offered(1, "c", boot: 200), CancellationToken.None);

        Assert.Equal(["a", "b", "c"], sink.Events.Select(e => e.CallId));
        Assert.Equal(1, adapter.HandledUpTo);
    }

    /// <summary>Kamailio's <c>dlg.list</c> over JSON-RPC, answering with whatever dialogs the test says are up.</summary>
    private sealed class DialogList : HttpMessageHandler
    {
        public volatile string[] Up = [];

        public int Calls;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            var dialogs = string.Join(",", Up.Select(id => $$$"""{"call-id":"{{{id}}}","state":4,"caller":{"tag":"a"},"callee":{"tag":"b"}}"""));
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK)
            {
                Content = new StringContent($$"""{"jsonrpc":"2.0","id":1,"result":[{{dialogs}}]}""", System.Text.Encoding.UTF8, "application/json"),
            });
        }
    }

    private static string Event(long seq, string name, string callId, string extra = "") =>
        $$"""{"seq":{{seq}},"boot":7,"event":"{{name}}","callid":"{{callId}}"{{extra}},"ts":1795364620.2}""";

    [Fact]
    public async Task Reconciliation_after_a_replay_does_not_close_a_call_whose_end_is_still_on_its_way()
    {
        var sink = new RecordingSink();
        var list = new DialogList();
        using var adapter = new KamailioTelephony(sink, new KamailioOptions { ReconcileConfirmDelay = TimeSpan.FromMilliseconds(300) }, http: new HttpClient(list));
        foreach (var e in new[] { Offered(1, "talking", boot: 7), Offered(2, "hungup", boot: 7), Offered(3, "vanished", boot: 7) }) await adapter.HandlePayloadAsync(e, CancellationToken.None);
        foreach (var (seq, id) in new[] { (4L, "talking"), (5L, "hungup"), (6L, "vanished") }) await adapter.HandlePayloadAsync(Event(seq, "answered", id, ",\"agent\":\"agent1\""), CancellationToken.None);

        // dlg.list no longer has "hungup" (the caller's BYE is through) nor "vanished" (its end was never reported) ...
        list.Up = ["talking"];
        var reconcile = adapter.ReconcileAsync(CancellationToken.None);
        // ... and the "ended" of "hungup" reaches the adapter while the reconciliation runs.
        await adapter.HandlePayloadAsync(Event(7, "ended", "hungup", ",\"agent\":\"agent1\",\"by\":\"caller\""), CancellationToken.None);
        Assert.Equal(1, await reconcile);

        var ends = sink.Events.OfType<CallEnded>().ToDictionary(e => e.CallId);
        Assert.Equal(CallEndedBy.Caller, ends["hungup"].EndedBy); // from Kamailio's own event, not "Unknown" from the reconciliation
        Assert.Equal("gone from Kamailio", ends["vanished"].Cause);
        Assert.False(ends.ContainsKey("talking"));
        Assert.Equal(2, list.Calls); // the list and the confirmation
    }
}
