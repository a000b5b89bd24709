using Hotline.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Hotline.Telephony.Kamailio.Tests;

/// <summary>
/// Hotline loses its evapi connection to Kamailio (a cut TCP relay between the real server and Kamailio) while calls are
/// up and new calls arrive. Real SIP throughout: sipp callers and phones, the shipped kamailio.cfg, the real server on
/// Redis. Kamailio keeps every event until Hotline acknowledges it; calls arriving within OUTAGE_GRACE_S are held, later
/// ones get 503 + Retry-After. After the reconnect the replay must make the server's record match what sipp saw exactly.
/// </summary>
public sealed class KamailioOutageTests(ITestOutputHelper output)
{
    private static readonly string[] Agents = ["agent1", "agent2"];

    [Fact]
    public async Task Calls_during_an_evapi_outage_are_kept_replayed_and_reconcile_exactly_with_sipp()
    {
        Assert.True(KamailioProcess.IsInstalled, "kamailio and sipp are needed: apt-get install kamailio kamailio-utils-modules kamailio-extra-modules sip-tester");
        var dir = Directory.CreateTempSubdirectory("hotline-outage-").FullName;
        var run = Guid.NewGuid().ToString("N")[..6];
        await using var redis = await RedisServer.StartAsync();
        await using var kamailio = await KamailioProcess.StartAsync(lifetimeSeconds: 200,
            defines: new Dictionary<string, string> { ["OUTAGE_GRACE_S"] = "3", ["RETRY_AFTER_S"] = "30" });
        await using var proxy = TcpCutProxy.Start(kamailio.EvapiPort);
        var ports = Agents.ToDictionary(a => a, _ => KamailioProcess.FreeUdpPort());
        var phones = Agents.Select(a => Sipp.Phone("agent-phone", ports[a], dir)).ToList();
        await using var stage = await SipStage.StartAsync(kamailio, redis, "o" + run, ports, evapiPort: proxy.Port,
            extraSettings: new Dictionary<string, string> { ["Hotline:Kamailio:ReconnectMaxDelay"] = "00:00:01" });
        var server = stage.Server;
        try
        {
            foreach (var hub in stage.Hubs.Values) await hub.InvokeAsync("GoReady");

            // ---- 1. Two callers are talking to the two agents.
            await using var talkers = Sipp.Callers("caller-talks", $"tk{run}", "61", calls: 2, rate: 10, limit: 2, kamailio.SipPort, dir, timeoutSeconds: 90, extra: ["-d", "6000"]);
            string[] talking = [Sipp.CallId($"tk{run}", 1), Sipp.CallId($"tk{run}", 2)];
            await SipStage.WaitUntilAsync(() => Count(server, "CallConnected", talking) == 2, TimeSpan.FromSeconds(30), "both talkers are connected");

            // ---- 2. The link between Hotline and Kamailio goes down.
            proxy.Cut();
            var cutAt = DateTime.UtcNow;
            await SipStage.WaitUntilAsync(() => kamailio.Log.Contains("disconnected; events are kept", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "Kamailio sees Hotline gone");

            // ---- 3. Within the grace two new callers arrive (held), and the talkers press 3 and hang up.
            await using var held = Sipp.Callers("caller-hangup", $"hd{run}", "62", calls: 2, rate: 10, limit: 2, kamailio.SipPort, dir, timeoutSeconds: 90);
            string[] waiting = [Sipp.CallId($"hd{run}", 1), Sipp.CallId($"hd{run}", 2)];
            Assert.True(await talkers.WaitAsync(TimeSpan.FromSeconds(40)) == 0, $"talkers: {talkers.Stats()}\n{talkers.Log}");
            Assert.Equal(new SippStats(2, 2, 0), talkers.Stats());

            // ---- 4. After the grace, new callers are turned away with 503 + Retry-After.
            var afterGrace = cutAt.AddSeconds(4.5) - DateTime.UtcNow;
            if (afterGrace > TimeSpan.Zero) await Task.Delay(afterGrace);
            await using (var rejected = Sipp.Callers("rejected", $"rj{run}", "63", calls: 3, rate: 10, limit: 3, kamailio.SipPort, dir, timeoutSeconds: 40))
            {
                Assert.True(await rejected.WaitAsync(TimeSpan.FromSeconds(40)) == 0, $"rejected: {rejected.Stats()}\n{rejected.Log}");
                Assert.Equal(new SippStats(3, 3, 0), rejected.Stats());
            }
            string[] turnedAway = [Sipp.CallId($"rj{run}", 1), Sipp.CallId($"rj{run}", 2), Sipp.CallId($"rj{run}", 3)];

            // Hotline has heard nothing of this yet.
            Assert.Equal(0, Count(server, "CallFinished", talking));
            Assert.Equal(0, Count(server, "CallQueued", [.. waiting, .. turnedAway]));

            // ---- 5. The link comes back: Hotline replays what it missed; the held callers are served.
            proxy.Restore();
            Assert.True(await held.WaitAsync(TimeSpan.FromSeconds(60)) == 0, $"held: {held.Stats()}\n{held.Log}");
            Assert.Equal(new SippStats(2, 2, 0), held.Stats());
            string[] all = [.. talking, .. waiting, .. turnedAway];
            var records = await stage.WaitForTerminalRecordsAsync(all.ToDictionary(id => id, id => turnedAway.Contains(id) ? "turned away" : talking.Contains(id) ? "talking" : "held"), TimeSpan.FromSeconds(30));

            var byCall = records.GroupBy(r => r.CallId).ToDictionary(g => g.Key, g => g.ToList());
            foreach (var callId in all)
            {
                var calls = byCall[callId];
                int Of(string type) => calls.Count(r => r.Type == type);
                var what = $"{callId}: {string.Join(", ", calls.Select(r => r.Type))}";
                Assert.True(Of("CallQueued") == 1, what);
                if (turnedAway.Contains(callId))
                {
                    // Counted as offered and lost (so it is called back), never connected.
                    Assert.True(Of("CallAbandonedInQueue") == 1 && Of("CallConnected") == 0 && Of("CallFinished") == 0, what);
                    continue;
                }
                Assert.True(Of("CallConnected") == 1 && Of("CallFinished") == 1 && Of("CallAbandonedInQueue") == 0, what);
                Assert.Equal("Caller", calls.Single(r => r.Type == "CallFinished").Text("endedBy"));
                var digits = calls.Where(r => r.Type == "CallDigitsReceived").Select(r => r.Text("digits")).ToList();
                Assert.Equal([talking.Contains(callId) ? "3" : "2"], digits);
            }

            // The phones answered exactly the calls the server connected; nothing is left up in Kamailio.
            foreach (var p in phones) await p.StopAsync();
            Assert.Equal(4, phones.Sum(p => p.Stats().Successful));
            Assert.Empty(await kamailio.Rpc.ListDialogsAsync(CancellationToken.None));
            Assert.Contains("hotline: replayed", kamailio.Log, StringComparison.Ordinal);
            output.WriteLine($"outage of {(DateTime.UtcNow - cutAt).TotalSeconds:F1} s: 2 talkers ended and 2 callers held while away, 3 turned away with 503; " +
                $"replayed: {string.Join(" | ", kamailio.Log.Split('\n').Where(l => l.Contains("hotline: replayed", StringComparison.Ordinal)).Select(l => l.Trim()))}");
        }
        catch
        {
            await stage.ReportFailureAsync(output, dir, run);
            throw;
        }
        finally
        {
            foreach (var p in phones) await p.DisposeAsync();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static int Count(ServerProcess server, string type, IReadOnlyCollection<string> callIds) =>
        CallRecordReader.Read(server.DataDirectory).Count(r => r.Type == type && callIds.Contains(r.CallId));
}
