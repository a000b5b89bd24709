using Hotline.Telephony.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Hotline.Telephony.Kamailio.Tests;

/// <summary>
/// The adapter's commands against a real Kamailio with real SIP (no server): the ACD routes, the caller's DTMF by SIP
/// INFO arrives, and the hotline releases talking calls (dlg.terminate_dlg, then dlg.list reconciliation).
/// A hotline-initiated transfer moves the caller to the external line (REFER to the caller, the caller's new INVITE
/// through Kamailio to TRANSFER_GW) and releases the agent's phone.
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
        await using var connected = await ConnectedAdapter.StartAsync(kamailio, port);
        var (adapter, sink) = (connected.Adapter, connected.Sink);
        try
        {
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
            output.WriteLine("---- adapter log (every evapi event) ----\n" + connected.Log);
            output.WriteLine("---- kamailio log (tail) ----\n" + SipStage.Tail(kamailio.Log, 4000));
            foreach (var f in Directory.GetFiles(dir, "*_errors.log")) output.WriteLine($"---- {Path.GetFileName(f)} ----\n" + await File.ReadAllTextAsync(f));
            throw;
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task Hotline_transfer_moves_the_caller_to_110_and_releases_the_agent_phone()
    {
        Assert.True(KamailioProcess.IsInstalled, "kamailio and sipp are needed");
        var dir = Directory.CreateTempSubdirectory("hotline-sipxfer-").FullName;
        var port = KamailioProcess.FreeUdpPort();
        var linePort = KamailioProcess.FreeUdpPort();
        await using var kamailio = await KamailioProcess.StartAsync(lifetimeSeconds: 90,
            defines: new Dictionary<string, string> { ["TRANSFER_GW"] = $"\"sip:127.0.0.1:{linePort}\"" });
        await using var phone = Sipp.Phone("agent-phone", port, dir, timeoutSeconds: 90);
        await using var line110 = Sipp.Phone("external-line", linePort, dir, timeoutSeconds: 90); // the 110 side behind the trunk
        await using var connected = await ConnectedAdapter.StartAsync(kamailio, port);
        var (adapter, sink) = (connected.Adapter, connected.Sink);
        try
        {
            await using var caller = Sipp.Callers("caller-transferred", "xfer", "33", calls: 1, rate: 1, limit: 1, kamailio.SipPort, dir, timeoutSeconds: 60);
            var callId = Sipp.CallId("xfer", 1);
            var ct = CancellationToken.None;
            await sink.WaitForAsync<CallOffered>(callId);
            await adapter.RouteToAgentAsync(callId, "A7", "ignored-by-template", ct);
            await sink.WaitForAsync<CallAnswered>(callId, a => a.AgentId == "A7");
            Assert.Equal("5", (await sink.WaitForAsync<DtmfReceived>(callId)).Digits);

            var before = DateTimeOffset.UtcNow;
            await adapter.TransferAsync(callId, "110", "市民报警：小区内有人持刀争执", ct);
            // Generous waits: the machine running the tests may be busy; the order of events is what is checked.
            var transferred = await sink.WaitForAsync<CallTransferred>(callId, timeout: TimeSpan.FromSeconds(30));
            var ended = await sink.WaitForAsync<CallEnded>(callId, timeout: TimeSpan.FromSeconds(30));

            // The record: where to, why, by which agent, when.
            Assert.Equal("110", transferred.Target);
            Assert.Equal("市民报警：小区内有人持刀争执", transferred.Reason);
            Assert.Equal("A7", transferred.AgentId);
            Assert.InRange(transferred.OccurredAt, before.AddSeconds(-1), DateTimeOffset.UtcNow);
            Assert.Equal(CallEndedBy.System, ended.EndedBy);
            Assert.Equal("transferred", ended.Cause);

            // The caller took the REFER and the BYE of the hotline leg, called 110 through Kamailio, talked and hung up.
            Assert.True(await caller.WaitAsync(TimeSpan.FromSeconds(30)) == 0, $"{caller.Stats()}\n{caller.Log}");
            Assert.Equal(new SippStats(1, 1, 0), caller.Stats());
            await line110.StopAsync();
            Assert.Equal(new SippStats(1, 1, 0), line110.Stats()); // 110 answered the caller and got the caller's BYE
            await phone.StopAsync();
            Assert.Equal(new SippStats(1, 1, 0), phone.Stats()); // the agent's phone was released (BYE)
            Assert.Contains("hotline: transfer leg [" + callId + "]", kamailio.Log, StringComparison.Ordinal);
            await Task.Delay(300);
            Assert.Empty(await kamailio.Rpc.ListDialogsAsync(ct));
            Assert.Equal(["CallOffered", "CallRinging", "CallAnswered", "DtmfReceived", "CallTransferred", "CallEnded"], sink.KindsFor(callId));
        }
        catch
        {
            output.WriteLine("---- adapter log (every evapi event) ----\n" + connected.Log);
            output.WriteLine("---- kamailio log (tail) ----\n" + SipStage.Tail(kamailio.Log, 4000));
            foreach (var f in Directory.GetFiles(dir, "*_errors.log")) output.WriteLine($"---- {Path.GetFileName(f)} ----\n" + await File.ReadAllTextAsync(f));
            throw;
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>The adapter alone (no server), connected to <paramref name="kamailio"/>'s evapi, ringing agents at a sipp phone on one port;
    /// what it publishes goes through the normalizer to a recording sink.</summary>
    private sealed class ConnectedAdapter : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly LinesLogger _log = new();
        private Task _run = Task.CompletedTask;

        private ConnectedAdapter(KamailioProcess kamailio, int phonePort)
        {
            Adapter = new KamailioTelephony(new CallEventNormalizer(Sink), new KamailioOptions
            {
                EvapiPort = kamailio.EvapiPort,
                JsonRpcUrl = kamailio.JsonRpcUrl,
                AgentUriTemplate = $"sip:{{agentId}}@127.0.0.1:{phonePort}",
            }, logger: _log);
        }

        /// <summary>What the adapter logged, Debug up (each evapi event it read).</summary>
        public string Log => _log.Text;

        public RecordingSink Sink { get; } = new();

        public KamailioTelephony Adapter { get; }

        public static async Task<ConnectedAdapter> StartAsync(KamailioProcess kamailio, int phonePort)
        {
            var connected = new ConnectedAdapter(kamailio, phonePort);
            connected._run = connected.Adapter.RunAsync(connected._stop.Token);
            try
            {
                await connected.Adapter.WaitUntilConnectedAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
                return connected;
            }
            catch
            {
                await connected.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            try { await _run; } catch (OperationCanceledException) { }
            Adapter.Dispose();
            _stop.Dispose();
        }
    }

    private sealed class LinesLogger : Microsoft.Extensions.Logging.ILogger<KamailioTelephony>
    {
        private readonly System.Text.StringBuilder _lines = new();

        public string Text { get { lock (_lines) return _lines.ToString(); } }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines) _lines.Append(DateTime.UtcNow.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture)).Append(' ').Append(logLevel).Append(": ").AppendLine(formatter(state, exception) + (exception is null ? "" : " " + exception.Message));
        }
    }
}
