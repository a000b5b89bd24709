using Hotline.Telephony.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Hotline.Telephony.Kamailio.Tests;

/// <summary>
/// The adapter's commands against a real Kamailio with real SIP (no server): the ACD routes, the caller's DTMF by SIP
/// INFO arrives, and the hotline releases talking calls (dlg.terminate_dlg, then dlg.list reconciliation).
/// A hotline-initiated transfer (TransferAsync → dlg_refer) is not covered with real SIP yet: see the adapter README.
/// </summary>
public sealed class KamailioControlTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Release_from_the_hotline_and_dtmf_by_sip_info()
    {
        Assert.True(KamailioProcess.IsInstalled, "kamailio and sipp are needed");
        var dir = Directory.CreateTempSubdirectory("hotline-sipctl-").FullName;
        await using var kamailio = await KamailioProcess.StartAsync(lifetimeSeconds: 90);
        var port = KamailioProcess.FreeUdpPort();
        await using var phone = Sipp.Phone("agent-phone", port, dir, timeoutSeconds: 90);
        var sink = new RecordingSink();
        using var adapter = new KamailioTelephony(new CallEventNormalizer(sink), new KamailioOptions
        {
            EvapiPort = kamailio.EvapiPort,
            JsonRpcUrl = kamailio.JsonRpcUrl,
            AgentUriTemplate = $"sip:{{agentId}}@127.0.0.1:{port}",
        });
        using var stop = new CancellationTokenSource();
        var run = adapter.RunAsync(stop.Token);
        try
        {
            await adapter.WaitUntilConnectedAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            await using var callers = Sipp.Callers("caller-waits", "ctl", "31", calls: 2, rate: 10, limit: 2, kamailio.SipPort, dir, timeoutSeconds: 60);
            string released = Sipp.CallId("ctl", 1), second = Sipp.CallId("ctl", 2);
            var ct = CancellationToken.None;

            foreach (var callId in new[] { released, second })
            {
                await sink.WaitForAsync<CallOffered>(callId);
                await adapter.RouteToAgentAsync(callId, "A1", "ignored-by-template", ct);
                await sink.WaitForAsync<CallAnswered>(callId, a => a.AgentId == "A1");
                Assert.Equal("5", (await sink.WaitForAsync<DtmfReceived>(callId)).Digits);
            }

            await adapter.ReleaseAsync(released, "supervisor forced release", ct);
            var ended = await sink.WaitForAsync<CallEnded>(released);
            Assert.Equal(CallEndedBy.System, ended.EndedBy);

            // The second call is released by its Call-ID alone, with the ended event racing the reconciliation.
            await adapter.ReleaseAsync(second, "end of shift", ct);
            Assert.Equal(CallEndedBy.System, (await sink.WaitForAsync<CallEnded>(second)).EndedBy);

            Assert.True(await callers.WaitAsync(TimeSpan.FromSeconds(30)) == 0, $"{callers.Stats()}\n{callers.Log}");
            Assert.Equal(new SippStats(2, 2, 0), callers.Stats());
            await Task.Delay(500);
            Assert.Empty(await kamailio.Rpc.ListDialogsAsync(ct));
            Assert.Equal(["CallOffered", "CallRinging", "CallAnswered", "DtmfReceived", "CallEnded"], sink.KindsFor(released));
            Assert.Equal(["CallOffered", "CallRinging", "CallAnswered", "DtmfReceived", "CallEnded"], sink.KindsFor(second));
            // A second release of a finished call is harmless (idempotent) and publishes nothing new.
            await adapter.ReleaseAsync(released, "again", ct);
            await Task.Delay(300);
            Assert.Single(sink.For(released), e => e is CallEnded);
        }
        catch
        {
            output.WriteLine("---- kamailio log (tail) ----\n" + (kamailio.Log.Length > 4000 ? kamailio.Log[^4000..] : kamailio.Log));
            foreach (var f in Directory.GetFiles(dir, "*_errors.log")) output.WriteLine($"---- {Path.GetFileName(f)} ----\n" + await File.ReadAllTextAsync(f));
            throw;
        }
        finally
        {
            await stop.CancelAsync();
            try { await run; } catch (OperationCanceledException) { }
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
