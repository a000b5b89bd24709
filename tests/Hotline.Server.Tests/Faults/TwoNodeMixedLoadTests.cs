using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hotline.Calls.Redis;
using Hotline.Domain.Tickets;
using Hotline.EventStore;
using Hotline.Server.Calls;
using Hotline.Telephony.Webhook;
using Hotline.Testing;
using Npgsql;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Hotline.Server.Tests.Faults;

/// <summary>
/// Issue 10's scale-out test: two server processes on one Redis and one PostgreSQL carry a mixed load while each is
/// killed in turn (kill -9 node A, restart it, later kill -9 node B and leave it dead). The test plays every outside
/// party: the switch (signed CTI webhook events to either node, each retried on the other when a node does not answer,
/// some delivered twice), three agents on hub connections that fail over to the other node, ticket clients behind a
/// "load balancer" (registration with an Idempotency-Key, dispatch and sign-for with If-Match, a write without an
/// answer retried unchanged on the other node, some registrations delivered to both nodes), and watchers (agent
/// consoles pinned to each node) that must hear every ticket change. Auto-dispatch runs every second in the Quartz
/// cluster and flags or dispatches tickets during the run. Afterwards, read from the store and Redis: every
/// acknowledged write is there exactly once and nothing else is; every call has one record of its entry and exactly
/// one terminal record and Redis holds no call of the run (its invariants verify); each job decision is written once;
/// every console connected through a write heard it, including consoles on the node that did not write it.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class TwoNodeMixedLoadTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string WebhookSecret = "two-node-mixed-load-webhook-secret-0123456789";

    /// <summary>Seconds of load (70 by default; HOTLINE_TWO_NODE_SECONDS for a longer run).</summary>
    private static readonly double LoadSeconds = double.TryParse(Environment.GetEnvironmentVariable("HOTLINE_TWO_NODE_SECONDS"), System.Globalization.CultureInfo.InvariantCulture, out var s) && s >= 40 ? s : 70;

    private static readonly string[] Registrants = ["agent1", "agent2", "agent3"];

    private RedisServer? _redis;
    private PostgresServer? _postgres;

    public async Task InitializeAsync()
    {
        var redis = RedisServer.StartAsync();
        var postgres = PostgresServer.StartNewAsync();
        _redis = await redis;
        _postgres = await postgres;
    }

    public async Task DisposeAsync()
    {
        if (_redis is not null) await _redis.DisposeAsync();
        if (_postgres is not null) await _postgres.DisposeAsync();
    }

    private enum Kind { Manual, Flag, Auto }

    private sealed record TicketRecord(string Key, Guid Id, Kind Kind, string Registrant);

    /// <summary>A write the client saw acknowledged: ticket, the version it produced, first send and answer times.</summary>
    private sealed record Write(Guid TicketId, long Version, string Registrant, int Node, DateTime SentAt, DateTime AnsweredAt);

    [Fact]
    public async Task Two_nodes_carry_calls_tickets_pushes_and_jobs_with_nothing_lost_or_duplicated_while_each_is_killed()
    {
        var clock = Stopwatch.StartNew();
        var run = Guid.NewGuid().ToString("N")[..8];
        var settings = FaultSettings.RelaxedOnPostgres(await _postgres!.CreateDatabaseAsync("twonode"));
        settings["Hotline:Queue"] = "Redis";
        settings["ConnectionStrings:Redis"] = _redis!.ConnectionString;
        settings["Hotline:RedisPrefix"] = "m" + run;
        settings["Hotline:Telephony"] = "Webhook"; // one switch shared by both nodes: events may go to either
        settings["Hotline:Webhook:Secret"] = WebhookSecret;
        settings["Hotline:ReservationTimeoutSeconds"] = "8"; // an offer to a console on a dead node comes back soon
        settings["Hotline:Calls:CallbackOfferWaitSeconds"] = "0";
        settings["Hotline:Jobs:AutoDispatchSeconds"] = "1";
        settings["Hotline:Jobs:AutoDispatchDelayMinutes"] = "1";
        settings["Hotline:Jobs:ClusterCheckinSeconds"] = "1";
        settings["Hotline:Jobs:ClusterCheckinMisfireSeconds"] = "4";

        var startA = ServerProcess.StartAsync(settings);
        var startB = ServerProcess.StartAsync(settings);
        await using var nodeA = await startA;
        await using var nodeB = await startB;
        var startup = clock.Elapsed;
        using var cluster = new Cluster([nodeA, nodeB]);

        var tokens = new Dictionary<string, string>();
        foreach (var user in Registrants.Append("disp1").Append("handler1").Append("admin"))
        {
            using var login = await ApiClient.LoginAsync(nodeA, user);
            tokens[user] = login.Token; // one signing key: a token from node A is good on node B
        }

        var failures = new ConcurrentQueue<string>();
        var timeline = new ConcurrentQueue<string>();
        var load = Stopwatch.StartNew();
        void Note(string what) => timeline.Enqueue($"{load.Elapsed.TotalSeconds,6:F1} s  {what}");

        using var stopLoad = new CancellationTokenSource();
        using var stopAgents = new CancellationTokenSource();
        using var stopWatchers = new CancellationTokenSource();

        // ---- watchers: one console per registrant on each node, reconnecting to the same node ----
        var sessions = new ConcurrentBag<WatchSession>();
        var watchers = new List<Task>();
        foreach (var user in Registrants)
            foreach (var node in (int[])[0, 1])
                watchers.Add(Task.Run(() => WatchAsync(cluster, node, user, tokens[user], sessions, stopWatchers.Token)));
        await WaitUntilAsync(() => sessions.Count(x => x.Started) >= 6 || watchers.Any(w => w.IsFaulted), TimeSpan.FromSeconds(60), "six watcher consoles connected");
        if (watchers.FirstOrDefault(w => w.IsFaulted) is { } faulted) await faulted;

        // ---- agents: answer calls on whichever node is alive ----
        var accepted = new ConcurrentDictionary<string, string>(); // call → agent whose Accept returned true
        var offersByPush = 0;
        var agentFailovers = 0;
        var agents = Registrants.Select((user, i) => Task.Run(async () =>
        {
            var (byPush, failovers) = await AgentAsync(cluster, user, tokens[user], i % 2, accepted, failures, stopAgents.Token);
            Interlocked.Add(ref offersByPush, byPush);
            Interlocked.Add(ref agentFailovers, failovers);
        })).ToList();

        // ---- the switch: a call every ~0.8 s (more than three agents answer), alternating nodes; the caller hangs up after 3-15 s ----
        var calls = new ConcurrentDictionary<string, int>(); // call → node whose answer acknowledged call.offered
        var duplicateDeliveries = 0;
        var lateDeliveries = 0;
        var pbx = Task.Run(async () =>
        {
            var random = new Random(7);
            var ends = new List<Task>();
            for (var n = 0; !stopLoad.IsCancellationRequested; n++)
            {
                var callId = $"{run}-call{n:D3}";
                var offered = new
                {
                    type = "call.offered", eventId = callId + ":offered", callId, occurredAt = DateTimeOffset.Now.ToString("o"),
                    callerNumber = $"137{n:D8}", dialledNumber = "12345", skill = CallCenter.DefaultSkill,
                };
                var answer = await cluster.WebhookAsync(offered, n % 2, callId);
                if (answer.Status != HttpStatusCode.OK) { failures.Enqueue($"call.offered {callId} → {answer.Status}: {answer.Body}"); continue; }
                calls[callId] = answer.Node;
                if (n % 5 == 0)
                {
                    // The switch did not hear the answer and delivers the same event again, to the other node.
                    var again = await cluster.WebhookAsync(offered, 1 - answer.Node, callId);
                    if (again.Status != HttpStatusCode.OK) failures.Enqueue($"second call.offered {callId} → {again.Status}: {again.Body}");
                    Interlocked.Increment(ref duplicateDeliveries);
                }
                var patience = TimeSpan.FromSeconds(3 + random.Next(13));
                var endNode = 1 - (n % 2);
                var lateRedelivery = n % 7 == 3;
                ends.Add(Task.Run(async () =>
                {
                    await Task.WhenAny(Task.Delay(patience), Task.Delay(Timeout.Infinite, stopLoad.Token));
                    var ended = new { type = "call.ended", eventId = callId + ":ended", callId, occurredAt = DateTimeOffset.Now.ToString("o"), endedBy = "caller" };
                    var e = await cluster.WebhookAsync(ended, endNode, callId);
                    if (e.Status != HttpStatusCode.OK) failures.Enqueue($"call.ended {callId} → {e.Status}: {e.Body}");
                    if (lateRedelivery)
                    {
                        // A late re-delivery of the call's offer (the switch's retry queue flushed after the call ended):
                        // the call must not come back (tombstone), or an agent would take it twice or it would wait forever.
                        var late = await cluster.WebhookAsync(offered, endNode, callId);
                        if (late.Status != HttpStatusCode.OK) failures.Enqueue($"late call.offered {callId} → {late.Status}: {late.Body}");
                        Interlocked.Increment(ref lateDeliveries);
                    }
                }));
                await Task.WhenAny(Task.Delay(500 + random.Next(600)), Task.Delay(Timeout.Infinite, stopLoad.Token));
            }
            await Task.WhenAll(ends);
        });

        // ---- ticket clients: register (Idempotency-Key), dispatch and sign for (If-Match), alternating nodes ----
        var tickets = new ConcurrentDictionary<string, TicketRecord>();
        var writes = new ConcurrentBag<Write>();
        var duplicateRegistrations = 0;
        var lostRaces = 0;
        var next = -1;
        var autoUntil = TimeSpan.FromSeconds(LoadSeconds * 0.35);
        DateTime lastAutoAt = default;

        async Task TicketWorkerAsync()
        {
            while (!stopLoad.IsCancellationRequested)
            {
                var i = Interlocked.Increment(ref next);
                var kind = (i % 4) switch { 0 or 1 => Kind.Manual, 2 => Kind.Flag, _ => load.Elapsed < autoUntil ? Kind.Auto : Kind.Manual };
                var registrant = Registrants[i % Registrants.Length];
                var key = $"{run}-t{i:D4}";
                var prefer = i % 2;
                var body = Registration(run, i, kind);
                var reg = await cluster.SendAsync(tokens[registrant], HttpMethod.Post, "api/tickets", body, null, key, prefer);
                if (reg.Status != HttpStatusCode.Created) { failures.Enqueue($"register {key} → {reg.Status}: {reg.Body}"); continue; }
                var id = Guid.Parse((string)reg.Body!["id"]!);
                var version = (long)reg.Body["version"]!;
                tickets[key] = new TicketRecord(key, id, kind, registrant);
                writes.Add(new Write(id, version, registrant, reg.Node, reg.SentAt, reg.AnsweredAt));
                if (kind == Kind.Auto) lastAutoAt = DateTime.UtcNow;
                if (i % 5 == 0)
                {
                    // The balancer lost the answer and sends the same registration to the other node: the same ticket comes back.
                    var again = await cluster.SendAsync(tokens[registrant], HttpMethod.Post, "api/tickets", body, null, key, 1 - reg.Node);
                    Interlocked.Increment(ref duplicateRegistrations);
                    if (again.Status != HttpStatusCode.Created || (string?)again.Body?["id"] != id.ToString())
                        failures.Enqueue($"second delivery of {key} → {again.Status}: {again.Body?["id"]} (first {id})");
                }
                if (kind != Kind.Manual) continue;

                var dispatched = await cluster.SendAsync(tokens["disp1"], HttpMethod.Post, $"api/tickets/{id}/dispatch", new { unitId = "zjj", reason = "双节点负载测试" }, version, key + "-dispatch", 1 - prefer);
                if (dispatched.Status is HttpStatusCode.Conflict or HttpStatusCode.PreconditionFailed)
                {
                    // Only auto-dispatch may have come first (after its one-minute delay, when a failover held this client up).
                    var now = await cluster.SendAsync(tokens["admin"], HttpMethod.Get, $"api/tickets/{id}", null, null, null, prefer);
                    if ((string?)now.Body?["history"]?.AsArray().LastOrDefault()?["actor"] != "system" || (string?)now.Body?["state"] != "Dispatched")
                    {
                        failures.Enqueue($"dispatch {key} → {dispatched.Status}: {dispatched.Body}; ticket is {now.Body?["state"]}");
                        continue;
                    }
                    Interlocked.Increment(ref lostRaces);
                    version = (long)now.Body!["version"]!;
                    tickets[key] = tickets[key] with { Kind = Kind.Auto };
                }
                else if (dispatched.Status != HttpStatusCode.OK) { failures.Enqueue($"dispatch {key} → {dispatched.Status}: {dispatched.Body}"); continue; }
                else
                {
                    version = (long)dispatched.Body!["version"]!;
                    writes.Add(new Write(id, version, registrant, dispatched.Node, dispatched.SentAt, dispatched.AnsweredAt));
                }

                var signed = await cluster.SendAsync(tokens["handler1"], HttpMethod.Post, $"api/tickets/{id}/sign-for", new { }, version, key + "-sign", prefer);
                if (signed.Status != HttpStatusCode.OK) { failures.Enqueue($"sign-for {key} → {signed.Status}: {signed.Body}"); continue; }
                writes.Add(new Write(id, (long)signed.Body!["version"]!, registrant, signed.Node, signed.SentAt, signed.AnsweredAt));
                await Task.WhenAny(Task.Delay(150), Task.Delay(Timeout.Infinite, stopLoad.Token));
            }
        }
        var ticketWorkers = Enumerable.Range(0, 3).Select(_ => Task.Run(TicketWorkerAsync)).ToList();

        // ---- the faults: kill -9 A a quarter in and restart it; once A is back, kill -9 B and leave it dead ----
        await WaitUntilAsync(() => load.Elapsed.TotalSeconds >= LoadSeconds * 0.25, TimeSpan.FromSeconds(LoadSeconds), "the first kill");
        await nodeA.KillAsync();
        var killedA = DateTime.UtcNow;
        Note("kill -9 node A");
        await nodeA.RestartAsync();
        Note("node A ready again");
        await WaitUntilAsync(() => load.Elapsed.TotalSeconds >= LoadSeconds * 0.6 && DateTime.UtcNow > killedA.AddSeconds(1), TimeSpan.FromSeconds(LoadSeconds), "the second kill");
        await Task.Delay(TimeSpan.FromSeconds(5)); // the watchers and agents find node A again
        await nodeB.KillAsync();
        var killedB = DateTime.UtcNow;
        Note("kill -9 node B (left dead)");
        var loadEnd = Math.Max(LoadSeconds, load.Elapsed.TotalSeconds + LoadSeconds * 0.2);
        await WaitUntilAsync(() => load.Elapsed.TotalSeconds >= loadEnd, TimeSpan.FromSeconds(LoadSeconds), "the end of the load");
        await stopLoad.CancelAsync();
        Note("load stopped; draining");

        await Task.WhenAll(ticketWorkers).WaitAsync(TimeSpan.FromMinutes(3));
        await pbx.WaitAsync(TimeSpan.FromMinutes(3));
        Note($"every call ended by the switch ({calls.Count} calls)");
        await Task.Delay(TimeSpan.FromSeconds(2));
        await stopAgents.CancelAsync();
        await Task.WhenAll(agents).WaitAsync(TimeSpan.FromMinutes(1));
        var loadTime = load.Elapsed;

        // Tickets left for auto-dispatch get it once their minute is up (the job now runs on node A alone).
        using var adminA = new HttpClient { BaseAddress = nodeA.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        adminA.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens["admin"]);
        var autos = tickets.Values.Where(t => t.Kind == Kind.Auto).ToList();
        var autoDeadline = (lastAutoAt == default ? DateTime.UtcNow : lastAutoAt).AddSeconds(60 + 60);
        foreach (var t in autos)
        {
            while (true)
            {
                var details = await adminA.GetFromJsonAsync<JsonNode>($"api/tickets/{t.Id}");
                if ((string?)details!["state"] != "Registered") break;
                Assert.True(DateTime.UtcNow < autoDeadline, $"auto-dispatch did not take {t.Key} within its minute plus 60 s");
                await Task.Delay(500);
            }
        }
        Note($"{autos.Count} tickets auto-dispatched");

        // Every console connected through a write hears it (pushes come from each node's event subscription).
        var expectations = Expected(writes, sessions);
        await WaitUntilAsync(() => expectations.All(x => x.Session.Heard(x.Write.TicketId, x.Write.Version)), TimeSpan.FromSeconds(30), "the pushes", throwOnTimeout: false);
        await stopWatchers.CancelAsync();
        await Task.WhenAll(watchers).WaitAsync(TimeSpan.FromMinutes(1));

        output.WriteLine(string.Join("\n", timeline));
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(30)));

        // ---- the store: read directly, not through a node ----
        var audit = await StoreAudit.RunAsync(nodeA, settings);
        Assert.True(audit.Problems.Count == 0, string.Join("\n", audit.Problems.Take(20)));
        var streams = await ReadStreamsAsync(nodeA, settings);

        // Registrations: each acknowledged key is one ticket, and no ticket of the run exists without its key.
        var ours = audit.Tickets.Values.Where(t => t.Content.Contains(run, StringComparison.Ordinal)).ToList();
        Assert.Equal(tickets.Count, ours.Count);
        Assert.All(tickets.Values, t => Assert.True(audit.Tickets.ContainsKey(t.Id), $"acknowledged ticket {t.Key} ({t.Id}) is missing"));
        foreach (var t in tickets.Values)
        {
            var events = streams[TicketStoreStream(t.Id)];
            int Count<T>() => events.Count(e => e is T);
            var flags = events.OfType<DispatcherAttentionFlagged>().ToList();
            var dispatches = events.OfType<TicketDispatched>().ToList();
            Assert.True(Count<TicketRegistered>() == 1, $"{t.Key}: {Count<TicketRegistered>()} registrations");
            var urges = events.OfType<TicketUrged>().Select(u => u.Reason).ToList();
            Assert.True(urges.Count == urges.Distinct().Count(), $"{t.Key}: an urge written twice: {string.Join(", ", urges)}");
            switch (t.Kind)
            {
                case Kind.Manual:
                    Assert.True(dispatches.Count == 1 && dispatches[0].By == "disp1", $"{t.Key}: dispatches {string.Join(", ", dispatches.Select(d => d.By))}");
                    Assert.True(Count<TaskSignedFor>() == 1, $"{t.Key}: {Count<TaskSignedFor>()} sign-fors");
                    Assert.Empty(flags);
                    Assert.Equal(3 + urges.Count, events.Count);
                    break;
                case Kind.Auto:
                    Assert.True(dispatches.Count == 1 && dispatches[0].By == "system" && dispatches[0].Reason!.StartsWith("自动派单", StringComparison.Ordinal),
                        $"{t.Key}: dispatches {string.Join(", ", dispatches.Select(d => d.By + " " + d.Reason))}");
                    Assert.Empty(flags);
                    break;
                case Kind.Flag:
                    Assert.True(flags.Count == 1 && flags[0].ReasonCode == "no-catalogue-entry", $"{t.Key}: flags {string.Join(", ", flags.Select(f => f.ReasonCode))}");
                    Assert.Empty(dispatches);
                    Assert.Equal(2 + urges.Count, events.Count);
                    break;
            }
        }
        foreach (var w in writes)
            Assert.True(audit.Tickets[w.TicketId].Version >= w.Version, $"ticket {w.TicketId}: acknowledged version {w.Version} lost");

        // Calls: each entered once and ended exactly once, in the record and in Redis.
        var callKinds = new Dictionary<string, int>();
        foreach (var (callId, _) in calls)
        {
            Assert.True(streams.TryGetValue("call-" + callId, out var records), $"call {callId} has no record");
            var queued = records!.OfType<CallQueued>().Count();
            var connected = records!.OfType<CallConnected>().ToList();
            var finished = records!.OfType<CallFinished>().Count();
            var abandoned = records!.OfType<CallAbandonedInQueue>().Count();
            Assert.True(queued == 1, $"call {callId}: {queued} CallQueued");
            Assert.True(finished + abandoned == 1, $"call {callId}: {finished} CallFinished and {abandoned} CallAbandonedInQueue: {string.Join(", ", records!.Select(r => r.GetType().Name))}");
            Assert.True(connected.Select(c => c.AgentId).Distinct().Count() <= 1 && connected.Count <= 1, $"call {callId} connected {connected.Count} times");
            if (accepted.TryGetValue(callId, out var agent))
                Assert.True(connected.Count == 1 && connected[0].AgentId == agent && finished == 1, $"call {callId} accepted by {agent}: {string.Join(", ", records!.Select(r => r.GetType().Name))}");
            var what = finished == 1 ? "finished" : "abandoned";
            callKinds[what] = callKinds.GetValueOrDefault(what) + 1;
        }
        Assert.True(accepted.Count > calls.Count / 4, $"only {accepted.Count} of {calls.Count} calls were answered");
        Assert.True(offersByPush > accepted.Count / 4, $"only {offersByPush} of {accepted.Count} answered calls were taken from a pushed offer");
        Assert.True(callKinds.GetValueOrDefault("abandoned") > 0, "no caller gave up waiting: the load did not exceed the agents");
        using (var redis = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString))
        {
            var queue = new RedisCallQueue(redis, settings["Hotline:RedisPrefix"]);
            var problems = await queue.VerifyInvariantsAsync();
            Assert.True(problems.Count == 0, "the Redis queue does not verify: " + string.Join("; ", problems));
            foreach (var callId in calls.Keys)
                Assert.True(await queue.GetCallAsync(callId) is null, $"call {callId} is still live in Redis after its end");
        }

        // Jobs: no firing ran twice in the cluster; the job went on on node A alone after B died.
        await using (var db = new NpgsqlConnection(settings["ConnectionStrings:Postgres"]))
        {
            await db.OpenAsync();
            await using (var dup = new NpgsqlCommand("SELECT job || ' @ ' || scheduled_at || ' × ' || count(*) FROM hotline_job_runs WHERE NOT recovering GROUP BY job, scheduled_at HAVING count(*) > 1", db))
            {
                var duplicates = new List<string>();
                await using var reader = await dup.ExecuteReaderAsync();
                while (await reader.ReadAsync()) duplicates.Add(reader.GetString(0));
                Assert.True(duplicates.Count == 0, "firings run twice: " + string.Join(", ", duplicates));
            }
            await using var after = new NpgsqlCommand("SELECT count(*), count(DISTINCT node) FROM hotline_job_runs WHERE job = 'tickets.auto-dispatch' AND started_at > $1", db);
            after.Parameters.AddWithValue(killedB.AddSeconds(10));
            await using var r = await after.ExecuteReaderAsync();
            await r.ReadAsync();
            Assert.True(r.GetInt64(0) >= 5, $"auto-dispatch ran {r.GetInt64(0)} times after node B died");
        }

        // Pushes: every console connected through a write heard it; some heard writes of the other node.
        var missing = expectations.Where(x => !x.Session.Heard(x.Write.TicketId, x.Write.Version)).ToList();
        var crossNode = expectations.Count(x => x.Session.Node != x.Write.Node);
        Assert.True(missing.Count == 0, $"{missing.Count} of {expectations.Count} pushes not heard, e.g. " +
            string.Join("; ", missing.Take(5).Select(x => $"{x.Write.TicketId} v{x.Write.Version} written via node {"AB"[x.Write.Node]} at {x.Write.AnsweredAt:HH:mm:ss.fff}, console {x.Session.User} on node {"AB"[x.Session.Node]} {x.Session.Span}")));
        Assert.True(crossNode >= 20, $"only {crossNode} pushes were checked across nodes");
        Assert.True(sessions.Any(x => x.Node == 0 && x.ConnectedAt > killedA) && sessions.Any(x => x.Node == 1 && x.End is { } end && end < killedB.AddSeconds(5)),
            "the watchers did not see node A come back and node B die");

        output.WriteLine($"start-up of both nodes {startup.TotalSeconds:F0} s; load {loadTime.TotalSeconds:F0} s; test {clock.Elapsed.TotalSeconds:F0} s");
        output.WriteLine($"tickets: {tickets.Count} ({tickets.Values.Count(t => t.Kind == Kind.Manual)} dispatched and signed for by people, {autos.Count} auto-dispatched, " +
            $"{tickets.Values.Count(t => t.Kind == Kind.Flag)} flagged), {writes.Count} acknowledged writes, {duplicateRegistrations} registrations delivered to both nodes, " +
            $"{lostRaces} dispatches lost to auto-dispatch, {cluster.Retries} sends retried on the other node");
        output.WriteLine($"calls: {calls.Count} ({string.Join(", ", callKinds.Select(k => $"{k.Value} {k.Key}"))}), {accepted.Count} answered, {offersByPush} offers taken from a push, " +
            $"{duplicateDeliveries} call.offered delivered twice at once and {lateDeliveries} again after the call ended, {agentFailovers} agent console failovers");
        output.WriteLine($"pushes: {expectations.Count} checked ({crossNode} across nodes) over {sessions.Count} watcher sessions; {audit.Events} events audited");
    }

    private static string TicketStoreStream(Guid id) => global::Hotline.Server.Tickets.TicketStore.StreamOf(id);

    private static object Registration(string run, int i, Kind kind) => new
    {
        channel = "电话", type = "投诉", urgency = "一般",
        categoryCode = kind == Kind.Flag ? "180101" : "010201", // 其他: no catalogue entry → flagged; 物业服务 → 市住房和城乡建设局
        areaCode = "010101", address = $"湖滨路 {i} 号", content = $"物业不作为（双节点 {run} 第 {i} 件）", callerName = "王建华", callerPhone = $"139{i:D8}",
    };

    // ---- the agents ----

    private static async Task<(int ByPush, int Failovers)> AgentAsync(Cluster cluster, string user, string token, int home,
        ConcurrentDictionary<string, string> accepted, ConcurrentQueue<string> failures, CancellationToken stop)
    {
        var random = new Random(user.GetHashCode(StringComparison.Ordinal));
        var node = home;
        HubClient? hub = null;
        int byPush = 0, failovers = 0;

        var handled = new HashSet<string>(StringComparer.Ordinal);

        async Task TakeAsync(string callId, bool viaPush)
        {
            handled.Add(callId);
            if (!(bool)(await hub!.InvokeAsync("Accept", callId))!) return; // the caller hung up, or the offer expired
            if (!accepted.TryAdd(callId, user)) failures.Enqueue($"call {callId} accepted by {accepted[callId]} and by {user}");
            if (viaPush) byPush++;
            await TalkAsync(callId);
        }

        async Task TalkAsync(string callId)
        {
            await Task.Delay(1500 + random.Next(3000), CancellationToken.None);
            await hub!.InvokeAsync("HangUp", callId); // false when the caller hung up first
            await hub.InvokeAsync("FinishWrapUp");
        }

        while (!stop.IsCancellationRequested)
        {
            try
            {
                hub ??= await HubClient.ConnectAsync(cluster.Nodes[node].BaseAddress, "hubs/agent", token);
                // The offer normally arrives as a push (from the ACD of either node, over Redis pub/sub); the state is
                // read when none came within a second (an offer pushed while the console was on a dead node).
                try
                {
                    var pushed = await hub.WaitForAsync("CallOffered", a => !handled.Contains((string)a[0]!["callId"]!), TimeSpan.FromSeconds(1));
                    await TakeAsync((string)pushed[0]!["callId"]!, true);
                    continue;
                }
                catch (TimeoutException) { }
                var state = (await hub.InvokeAsync("GetState"))!;
                var offered = (string?)state["offer"]?["callId"];
                var connected = (string?)state["call"]?["callId"];
                switch ((string?)state["status"])
                {
                    case "Reserved" when offered is not null:
                        await TakeAsync(offered, false);
                        break;
                    case "OnCall" when connected is not null:
                        await TalkAsync(connected);
                        break;
                    case "WrapUp":
                        await hub.InvokeAsync("FinishWrapUp");
                        break;
                    case "Ready":
                        break;
                    default: // signed out, or not ready after an offer timed out on a console that was on a dead node
                        await hub.InvokeAsync("GoReady");
                        break;
                }
            }
            catch (Exception e) when (e is WebSocketException or TimeoutException or InvalidOperationException or ObjectDisposedException or IOException or HttpRequestException)
            {
                if (hub is not null)
                {
                    await hub.DisposeAsync();
                    hub = null;
                    failovers++;
                }
                node = 1 - node; // the console connects to the other node
                await Task.Delay(300, CancellationToken.None);
            }
        }
        if (hub is not null) await hub.DisposeAsync();
        return (byPush, failovers);
    }

    // ---- the watchers ----

    private sealed class WatchSession(int node, string user)
    {
        private readonly ConcurrentDictionary<Guid, long> _heard = new(); // ticket → highest version heard

        public int Node { get; } = node;
        public string User { get; } = user;
        public bool Started { get; private set; }
        public DateTime ConnectedAt { get; private set; }
        public DateTime LastAlive { get; private set; }

        /// <summary>When the connection was found dead (the last moment it was known alive); null while it lives.</summary>
        public DateTime? End { get; private set; }

        public string Span => $"{ConnectedAt:HH:mm:ss.fff}–{(End is { } e ? e.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture) : "end")}";

        public void Start() { ConnectedAt = LastAlive = DateTime.UtcNow; Started = true; }

        public void Alive() => LastAlive = DateTime.UtcNow;

        public void Ended() => End = LastAlive;

        public void Hear(Guid ticket, long version)
        {
            _heard.AddOrUpdate(ticket, version, (_, v) => Math.Max(v, version));
            Alive();
        }

        /// <summary>
        /// A push names the ticket's version in the node's index when it was sent, which may already be past the event
        /// that caused it (the node applied its own later write inline first): a push of a later version covers it.
        /// </summary>
        public bool Heard(Guid ticket, long version) => _heard.TryGetValue(ticket, out var v) && v >= version;
    }

    private static async Task WatchAsync(Cluster cluster, int node, string user, string token, ConcurrentBag<WatchSession> sessions, CancellationToken stop)
    {
        using var probe = new HttpClient { BaseAddress = cluster.Nodes[node].BaseAddress, Timeout = TimeSpan.FromSeconds(3) };
        while (!stop.IsCancellationRequested)
        {
            HubClient hub;
            try
            {
                // As a balancer with a readiness probe: a console reaches a node only once its read models caught up
                // (a restarted node replays the log first; what it replays is not pushed).
                using (var ready = await probe.GetAsync("readyz", CancellationToken.None)) ready.EnsureSuccessStatusCode();
                hub = await HubClient.ConnectAsync(cluster.Nodes[node].BaseAddress, "hubs/agent", token);
            }
            catch (Exception e) when (e is WebSocketException or InvalidOperationException or HttpRequestException or IOException or TaskCanceledException)
            {
                await Task.Delay(300, CancellationToken.None); // the node is down: wait for it
                continue;
            }
            var session = new WatchSession(node, user);
            try
            {
                await hub.InvokeAsync("GetState"); // answered after OnConnectedAsync: the console is in its groups now
                session.Start();
                sessions.Add(session);
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        var change = (await hub.WaitForAsync("TicketChanged", null, TimeSpan.FromSeconds(1)))[0]!;
                        session.Hear(Guid.Parse((string)change["ticketId"]!), (long)change["version"]!);
                    }
                    catch (TimeoutException)
                    {
                        await hub.InvokeAsync("GetState");
                        session.Alive();
                    }
                }
            }
            catch (Exception e) when (e is WebSocketException or TimeoutException or InvalidOperationException or ObjectDisposedException or IOException)
            {
                session.Ended();
            }
            await hub.DisposeAsync();
        }
    }

    /// <summary>The pushes to expect: each acknowledged write to every console of its registrant connected from before the
    /// write was first sent until at least 10 s after its answer (or to the end).</summary>
    private static List<(Write Write, WatchSession Session)> Expected(IEnumerable<Write> writes, IEnumerable<WatchSession> sessions) =>
        [.. from w in writes
            from s in sessions
            where s.Started && s.User == w.Registrant && s.ConnectedAt < w.SentAt && (s.End is null || s.End > w.AnsweredAt.AddSeconds(10))
            select (w, s)];

    // ---- the store ----

    private static async Task<Dictionary<string, List<object>>> ReadStreamsAsync(ServerProcess server, IReadOnlyDictionary<string, string> settings)
    {
        var store = StoreAudit.Open(server, settings);
        var streams = new Dictionary<string, List<object>>(StringComparer.Ordinal);
        try
        {
            long last = 0;
            while (true)
            {
                var page = 0;
                await foreach (var e in store.ReadAllAsync(last, 1000))
                {
                    page++;
                    last = e.Position;
                    if (StoreAudit.Serializer.Deserialize(e) is { } data)
                        (streams.TryGetValue(e.StreamId, out var list) ? list : streams[e.StreamId] = []).Add(data);
                }
                if (page < 1000) break;
            }
        }
        finally
        {
            if (store is IAsyncDisposable d) await d.DisposeAsync();
        }
        return streams;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what, bool throwOnTimeout = true)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                if (throwOnTimeout) throw new TimeoutException($"waited {timeout.TotalSeconds:F0} s for {what}");
                return;
            }
            await Task.Delay(100);
        }
    }

    // ---- the two nodes behind a "load balancer" ----

    private sealed record Answer(HttpStatusCode Status, JsonNode? Body, int Node, DateTime SentAt, DateTime AnsweredAt);

    /// <summary>
    /// What a load balancer in front of the two nodes does: a request goes to the preferred node; one that gets no
    /// answer (refused, reset, timeout, 502/503) is sent again, unchanged, to the other node, and so on.
    /// </summary>
    private sealed class Cluster : IDisposable
    {
        private readonly HttpClient[] _http;
        private int _retries;

        public Cluster(ServerProcess[] nodes)
        {
            Nodes = nodes;
            _http = [.. nodes.Select(n => new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(2), PooledConnectionLifetime = TimeSpan.FromSeconds(30) })
            {
                BaseAddress = n.BaseAddress,
                Timeout = TimeSpan.FromSeconds(15),
            })];
        }

        public ServerProcess[] Nodes { get; }

        public int Retries => _retries;

        public Task<Answer> SendAsync(string token, HttpMethod method, string url, object? body, long? ifMatch, string? key, int prefer) =>
            SendAsync(() =>
            {
                var request = new HttpRequestMessage(method, url);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                if (body is not null) request.Content = JsonContent.Create(body);
                if (ifMatch is { } v) request.Headers.TryAddWithoutValidation("If-Match", $"\"{v}\"");
                if (key is not null) request.Headers.Add("Idempotency-Key", key);
                return request;
            }, prefer, $"{method} {url}");

        /// <summary>A signed CTI webhook event (the switch signs each attempt with the current time).</summary>
        public Task<Answer> WebhookAsync(object e, int prefer, string callId)
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(e);
            return SendAsync(() =>
            {
                var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                var request = new HttpRequestMessage(HttpMethod.Post, "api/telephony/webhook") { Content = new ByteArrayContent(json) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.Add(WebhookSignature.TimestampHeader, ts.ToString(System.Globalization.CultureInfo.InvariantCulture));
                request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Compute(WebhookSecret, ts, json));
                return request;
            }, prefer, "webhook " + callId);
        }

        private async Task<Answer> SendAsync(Func<HttpRequestMessage> make, int prefer, string what)
        {
            var sentAt = DateTime.UtcNow;
            var deadline = sentAt.AddSeconds(150);
            var node = prefer;
            while (true)
            {
                using var request = make();
                try
                {
                    using var response = await _http[node].SendAsync(request);
                    var text = await response.Content.ReadAsStringAsync();
                    if (response.StatusCode is not (HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway))
                    {
                        JsonNode? parsed;
                        try { parsed = text.Length == 0 ? null : JsonNode.Parse(text); }
                        catch (JsonException) { parsed = JsonValue.Create(text); }
                        return new Answer(response.StatusCode, parsed, node, sentAt, DateTime.UtcNow);
                    }
                }
                catch (HttpRequestException) { }
                catch (TaskCanceledException) { }
                catch (IOException) { }
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what}: neither node answered for 150 s");
                Interlocked.Increment(ref _retries);
                node = 1 - node;
                await Task.Delay(150);
            }
        }

        public void Dispose()
        {
            foreach (var h in _http) h.Dispose();
        }
    }
}

/// <summary>
/// Read-after-write across nodes: node B's ticket index follows the log, so it may not yet hold a dispatch written on
/// node A a moment ago. A handler of the unit it went to signs for on node B at once (If-Match the dispatch's
/// version): B decides on the ticket's stream, not on its lagging index, and the sign-for goes through (it used to
/// answer 404 工单不存在; the mixed-load test above found it).
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class TwoNodeReadAfterWriteTests(ServersFixture servers)
{
    [Fact]
    public async Task A_handler_signs_for_on_node_B_right_after_the_dispatch_was_written_on_node_A()
    {
        var settings = await servers.ProductionSettingsAsync();
        var startA = ServerProcess.StartAsync(settings);
        var startB = ServerProcess.StartAsync(settings);
        await using var nodeA = await startA;
        await using var nodeB = await startB;
        using var agentOnA = await ApiClient.LoginAsync(nodeA, "agent1");
        using var dispatcherOnA = await ApiClient.LoginAsync(nodeA, "disp1");
        using var handlerOnB = await ApiClient.LoginAsync(nodeB, "handler1");
        using var handler3OnB = await ApiClient.LoginAsync(nodeB, "handler3");
        await using var console = await HubClient.ConnectAsync(nodeB.BaseAddress, "hubs/agent", agentOnA.Token);
        await console.InvokeAsync("GetState"); // in its groups from here on

        for (var i = 0; i < 5; i++)
        {
            var (status, ticket, _) = await agentOnA.SendAsync(HttpMethod.Post, "api/tickets", new
            {
                channel = "电话", type = "投诉", urgency = "一般", categoryCode = "010201", areaCode = "010101",
                address = $"湖滨路 {i} 号", content = "物业不作为，电梯停运三天", callerName = "王建华", callerPhone = "13900001111",
            }, idempotencyKey: Guid.NewGuid().ToString());
            Assert.True(status == HttpStatusCode.Created, $"register → {status}: {ticket}");
            var id = (string)ticket!["id"]!;
            // B's index has applied the registration (its push to the registrant's console on B says so), not yet the dispatch.
            await console.WaitForAsync("TicketChanged", a => (string?)a[0]!["ticketId"] == id && (long?)a[0]!["version"] == 1, TimeSpan.FromSeconds(30));
            var dispatched = await dispatcherOnA.ActAsync(id, "dispatch", new { unitId = "zjj", reason = "物业监管" }, 1);

            var (signStatus, signed, _) = await handlerOnB.SendAsync(HttpMethod.Post, $"api/tickets/{id}/sign-for", new { }, (long)dispatched["version"]!);
            Assert.True(signStatus == HttpStatusCode.OK, $"sign-for on B right after the dispatch on A → {signStatus}: {signed}");
            Assert.Equal("InProgress", (string?)signed!["state"]);

            // A handler of another unit is still refused, on the stream's word too.
            var (other, _, _) = await handler3OnB.SendAsync(HttpMethod.Post, $"api/tickets/{id}/sign-for", new { }, 3);
            Assert.Equal(HttpStatusCode.NotFound, other);
        }
    }
}
