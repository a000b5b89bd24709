using Hotline.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Hotline.Telephony.Kamailio.Tests;

/// <summary>
/// Real SIP end to end: Kamailio (the shipped kamailio.cfg) on loopback, the real Hotline server (Kamailio adapter,
/// Redis queue, SQLite event store) as a process, agents signed in over SignalR, sipp UASs as the agents' phones and
/// sipp UACs as callers. Every call sipp placed is checked against what the server recorded: nothing lost, nothing doubled.
/// </summary>
public sealed class KamailioSipTests(ITestOutputHelper output)
{
    private static readonly string[] Agents = ["agent1", "agent2", "agent3"];

    [Fact]
    public async Task Calls_queue_fail_over_abandon_transfer_and_reconcile_exactly_with_sipp()
    {
        Assert.True(KamailioProcess.IsInstalled, "kamailio and sipp are needed: apt-get install kamailio kamailio-utils-modules kamailio-extra-modules sip-tester");
        var dir = Directory.CreateTempSubdirectory("hotline-sip-").FullName;
        var run = Guid.NewGuid().ToString("N")[..6];
        await using var redis = await RedisServer.StartAsync();
        // Generous lifetimes and timeouts: about 40 s on a quiet machine, but the callers must not give up on a busy one.
        await using var kamailio = await KamailioProcess.StartAsync(lifetimeSeconds: 480);
        var ports = Agents.ToDictionary(a => a, _ => KamailioProcess.FreeUdpPort());
        var phones = new List<Sipp>
        {
            Sipp.Phone("agent-phone", ports["agent1"], dir, timeoutSeconds: 460),
            Sipp.Phone("agent-phone", ports["agent2"], dir, timeoutSeconds: 460),
        };
        var busyPhone = Sipp.Phone("agent-busy", ports["agent3"], dir, timeoutSeconds: 460);
        using var stop = new CancellationTokenSource();
        await using var stage = await SipStage.StartAsync(kamailio, redis, "k" + run, ports);
        var hubs = stage.Hubs;
        try
        {
            // ---- 1. A busy phone: agent3 (longest idle) gets the call first, its phone says 486, agent1 takes it.
            await hubs["agent3"].InvokeAsync("GoReady");
            await Task.Delay(300);
            await hubs["agent1"].InvokeAsync("GoReady");
            await using (var first = Sipp.Callers("caller-hangup", $"busy{run}", "10", calls: 1, rate: 1, limit: 1, kamailio.SipPort, dir, timeoutSeconds: 60))
            {
                Assert.True(await first.WaitAsync(TimeSpan.FromSeconds(60)) == 0, "busy-failover caller: " + first.Log + SipStage.Tail(kamailio.Log));
            }
            await hubs["agent3"].WaitForAsync("AgentState", a => (string?)a[0]!["status"] == "NotReady");
            await busyPhone.StopAsync();
            var busyStats = busyPhone.Stats();
            phones.Add(Sipp.Phone("agent-phone", ports["agent3"], dir, timeoutSeconds: 460));
            await Task.Delay(300);
            await hubs["agent3"].InvokeAsync("GoReady");
            await hubs["agent2"].InvokeAsync("GoReady");

            // ---- 2. 58 callers at once: queued in Redis, served by three agents, some hang up, some are hung up on,
            //         some are transferred to 120, and six give up while queued.
            var maxDialogs = 0;
            var sampler = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try { maxDialogs = Math.Max(maxDialogs, (await kamailio.Rpc.ListDialogsAsync(CancellationToken.None)).Count); }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or TelephonyCommandException) { }
                    await Task.Delay(200);
                }
            });
            var groups = new (string Scenario, string Tag, string Prefix, int Calls)[]
            {
                ("caller-hangup", $"ch{run}", "21", 30),
                ("agent-hangup", $"ah{run}", "22", 14),
                ("transfer", $"tr{run}", "23", 8),
                ("abandon", $"ab{run}", "24", 6),
            };
            var expected = new Dictionary<string, string> { [Sipp.CallId($"busy{run}", 1)] = "busy" };
            foreach (var g in groups)
            {
                for (var n = 1; n <= g.Calls; n++) expected[Sipp.CallId(g.Tag, n)] = g.Scenario;
            }
            var callers = new List<Sipp>();
            foreach (var g in groups)
            {
                if (g.Scenario == "abandon") await Task.Delay(1000); // they join the back of the queue and leave before their turn
                callers.Add(Sipp.Callers(g.Scenario, g.Tag, g.Prefix, g.Calls, rate: 100, limit: g.Calls, kamailio.SipPort, dir, timeoutSeconds: 400));
            }
            foreach (var c in callers)
            {
                if (await c.WaitAsync(TimeSpan.FromSeconds(420)) != 0)
                {
                    // What the ACD saw (agents by state, queues) and the trace of every call still open say why a caller was left waiting.
                    Assert.Fail($"{c.Name}: {c.Stats()}\nwallboard: {await stage.WallboardAsync()}\n{stage.OpenCalls(expected)}\n{c.Log}{SipStage.Tail(kamailio.Log)}");
                }
            }
            var stats = callers.ToDictionary(c => c.Name, c => c.Stats());
            foreach (var (g, c) in groups.Zip(callers))
            {
                Assert.Equal(new SippStats(g.Calls, g.Calls, 0), stats[c.Name]);
            }

            // ---- 3. Reconcile every call sipp placed with the server's record.
            var records = await stage.WaitForTerminalRecordsAsync(expected, TimeSpan.FromSeconds(30));
            await stop.CancelAsync();
            await sampler;

            var byCall = records.GroupBy(r => r.CallId).ToDictionary(g => g.Key, g => g.ToList());
            Assert.Equal(expected.Keys.Order(), byCall.Keys.Where(expected.ContainsKey).Order());
            Assert.DoesNotContain(byCall.Keys, k => k.EndsWith("@hotline", StringComparison.Ordinal) && !expected.ContainsKey(k)); // nothing invented
            foreach (var (callId, kind) in expected)
            {
                var calls = byCall[callId];
                int Count(string type) => calls.Count(r => r.Type == type);
                var what = $"{callId} ({kind}): {string.Join(", ", calls.Select(r => r.Type))}";
                Assert.True(Count("CallQueued") == 1, what);
                if (kind == "abandon")
                {
                    Assert.True(Count("CallAbandonedInQueue") == 1 && Count("CallConnected") == 0 && Count("CallFinished") == 0, what);
                    continue;
                }
                Assert.True(Count("CallConnected") == 1 && Count("CallFinished") == 1 && Count("CallAbandonedInQueue") == 0, what);
                // The caller's SIP INFO (Signal=2) is on the record once; calls without INFO have no digits.
                var digits = calls.Where(r => r.Type == "CallDigitsReceived").Select(r => r.Text("digits")).ToList();
                Assert.True(kind is "caller-hangup" or "busy" ? digits.SequenceEqual(["2"]) : digits.Count == 0, what);
                var finished = calls.Single(r => r.Type == "CallFinished");
                var connected = calls.Single(r => r.Type == "CallConnected");
                Assert.True(finished.Text("agentId") == connected.Text("agentId"), what);
                switch (kind)
                {
                    case "caller-hangup":
                    case "busy":
                        Assert.True(finished.Text("endedBy") == "Caller", what + " endedBy " + finished.Text("endedBy"));
                        break;
                    case "agent-hangup":
                        Assert.True(finished.Text("endedBy") == "Agent", what + " endedBy " + finished.Text("endedBy"));
                        break;
                    case "transfer":
                        Assert.True(Count("CallTransferredOut") == 1, what);
                        Assert.Equal("120", calls.Single(r => r.Type == "CallTransferredOut").Text("target"));
                        break;
                    default:
                        break;
                }
                if (kind != "transfer") Assert.True(Count("CallTransferredOut") == 0, what);
            }

            // The busy phone: offered to agent3 first, declined as USER_BUSY, then answered by agent1.
            var busyCall = byCall[Sipp.CallId($"busy{run}", 1)];
            var declined = busyCall.Single(r => r.Type == "CallOfferDeclined");
            Assert.Equal("agent3", declined.Text("agentId"));
            Assert.Contains("USER_BUSY", declined.Text("reason"), StringComparison.Ordinal);
            Assert.Equal("agent1", busyCall.Single(r => r.Type == "CallConnected").Text("agentId"));
            Assert.Equal(new SippStats(1, 1, 0), busyStats);

            // Agents are reserved in queue order: the first offers follow the order the calls were queued in.
            var answeredBulk = expected.Where(e => e.Value is "caller-hangup" or "agent-hangup" or "transfer").Select(e => e.Key).ToHashSet();
            // Queue order is the ACD's: priority, then arrival at Kamailio (ms). No call is offered before one that was queued ahead
            // of it. Calls of the same millisecond may go either way: the queue breaks such ties by call id, but a call that
            // reached the server a moment before the other is offered at once when an agent is free.
            var place = records.Where(r => r.Type == "CallQueued" && answeredBulk.Contains(r.CallId)).ToDictionary(r => r.CallId, r =>
                (Priority: -((int?)r.Data["priority"] ?? 0), Ms: DateTimeOffset.Parse(r.Text("at")!, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds()));
            var offerOrder = records.Where(r => r.Type == "CallOfferedToAgent" && answeredBulk.Contains(r.CallId)).Select(r => r.CallId).Distinct().ToList();
            Assert.Equal(place.Keys.Order(StringComparer.Ordinal), offerOrder.Order(StringComparer.Ordinal));
            var overtaken = offerOrder.Zip(offerOrder.Skip(1)).Where(p => place[p.First].CompareTo(place[p.Second]) > 0).ToList();
            Assert.True(overtaken.Count == 0, "offered before a call queued ahead of it: " + string.Join("; ", overtaken.Select(p => $"{p.First} {place[p.First]} before {p.Second} {place[p.Second]}")));

            // The phones answered exactly the calls the server connected.
            foreach (var p in phones) await p.StopAsync();
            var answeredByPhones = phones.Sum(p => p.Stats().Successful);
            var connectedCalls = expected.Keys.Count(k => byCall[k].Any(r => r.Type == "CallConnected"));
            Assert.Equal(connectedCalls, answeredByPhones);

            // Nothing is left up in Kamailio.
            Assert.Empty(await kamailio.Rpc.ListDialogsAsync(CancellationToken.None));
            Assert.True(maxDialogs >= 50, $"at most {maxDialogs} calls were up at once");

            var connectedBy = records.Where(r => r.Type == "CallConnected" && expected.ContainsKey(r.CallId)).GroupBy(r => r.Text("agentId")).ToDictionary(g => g.Key ?? "?", g => g.Count());
            output.WriteLine($"sipp callers: {expected.Count} calls ({string.Join("; ", stats.Select(s => $"{s.Key}: {s.Value}"))}; busy-failover caller 1/1)");
            output.WriteLine($"peak {maxDialogs} dialogs up at once in Kamailio; connected {connectedCalls} (= {answeredByPhones} answered by the sipp phones), abandoned {expected.Count(e => e.Value == "abandon")}, transferred {records.Count(r => r.Type == "CallTransferredOut")}");
            output.WriteLine($"connected per agent: {string.Join(", ", connectedBy.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value}"))}; busy phone: {busyStats}");
        }
        catch
        {
            await stage.ReportFailureAsync(output, dir, run);
            throw;
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var p in phones) await p.DisposeAsync();
            await busyPhone.DisposeAsync();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
