using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hotline.Telephony.Kamailio;

/// <summary>Connection state for health checks.</summary>
public enum KamailioConnectionState { Disconnected, Connecting, Connected }

/// <summary>
/// Kamailio as the SIP front door. kamailio.cfg holds each caller's INVITE (<c>t_suspend</c>) and pushes an
/// <c>offered</c> event over evapi; <see cref="RouteToAgentAsync"/> answers with the agent's SIP URI and Kamailio
/// resumes the INVITE towards the agent's phone (<c>t_continue</c>). Ringing, busy/no-answer, answer, DTMF (SIP INFO),
/// REFER, hang-up and CANCEL come back over the same socket and are mapped to <see cref="CallEvent"/>s through a
/// <see cref="CallEventNormalizer"/>. Dialogs are released and reconciled through JSON-RPC (<c>dlg.terminate_dlg</c>,
/// <c>dlg.list</c>). <see cref="RunAsync"/> keeps the evapi connection up, reconnecting with exponential backoff.
/// </summary>
public sealed class KamailioTelephony : ITelephonyControl, IDisposable
{
    private sealed class CallState
    {
        public (long Index, long Label)? Held;
        public string? Agent;
        public string? Skill;
        public bool Answered;
        public bool Released;
        public bool Transferred;
        public CallTransferred? PendingTransfer;
    }

    private readonly ICallEventSink _sink;
    private readonly KamailioOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly KamailioJsonRpc _rpc;
    private readonly HttpClient _http;
    private const int PublishAttempts = 4;
    private readonly ConcurrentDictionary<string, CallState> _calls = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Lock _gate = new();
    private NetworkStream? _stream;
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _connections;

    // At-least-once delivery from kamailio.cfg, numbered per Kamailio boot. Kamailio sends in number order from its workers,
    // but an event the evapi dispatcher emits itself (the "ringing" of a resumed INVITE, a "route_failed") can overtake one a
    // worker queued a moment before. So: every seq up to _handledUpTo is handled; _ahead holds the ones handled past a gap;
    // only _handledUpTo is acknowledged, so a gap that never fills comes back in the replay after a reconnect.
    private const int MaxAhead = 10_000;
    private long _boot;
    private long _handledUpTo;
    private long _ackedSeq;
    private readonly SortedSet<long> _ahead = [];

    public KamailioTelephony(ICallEventSink sink, KamailioOptions options, TimeProvider? time = null, ILogger<KamailioTelephony>? logger = null, HttpClient? http = null)
    {
        _sink = sink;
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _http = http ?? new HttpClient { Timeout = options.CommandTimeout };
        _rpc = new KamailioJsonRpc(_http, options.JsonRpcUrl);
    }

    public KamailioConnectionState State { get; private set; } = KamailioConnectionState.Disconnected;

    /// <summary>How many times the evapi connection was established.</summary>
    public int Connections => Volatile.Read(ref _connections);

    public KamailioJsonRpc Rpc => _rpc;

    public Task WaitUntilConnectedAsync(CancellationToken ct)
    {
        lock (_gate) return _connected.Task.WaitAsync(ct);
    }

    // ---- the evapi connection ----

    public async Task RunAsync(CancellationToken ct)
    {
        var delay = _options.ReconnectInitialDelay;
        while (!ct.IsCancellationRequested)
        {
            State = KamailioConnectionState.Connecting;
            try
            {
                using var client = new TcpClient { NoDelay = true };
                using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    connectTimeout.CancelAfter(_options.ConnectTimeout);
                    await client.ConnectAsync(_options.EvapiHost, _options.EvapiPort, connectTimeout.Token);
                }
                var stream = client.GetStream();
                var reconnect = Interlocked.Increment(ref _connections) > 1;
                lock (_gate)
                {
                    _stream = stream;
                    State = KamailioConnectionState.Connected;
                    _connected.TrySetResult();
                }
                _logger.LogInformation("Connected to Kamailio evapi at {Host}:{Port}", _options.EvapiHost, _options.EvapiPort);
                delay = _options.ReconnectInitialDelay;
                if (reconnect) _logger.LogInformation("Reconnected to Kamailio evapi; asking for the events kept while we were away");
                // kamailio.cfg keeps every event until we acknowledge it; "replay" sends the unacknowledged ones again, in
                // order, followed by a "replayed" marker, and only then resumes live delivery.
                await SendAsync("replay", ct);
                await ReadLoopAsync(stream, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or FormatException)
            {
                _logger.LogWarning("Kamailio evapi connection lost or refused ({Message}); retrying in {Delay}", e.Message, delay);
            }
            finally
            {
                lock (_gate)
                {
                    _stream = null;
                    State = KamailioConnectionState.Disconnected;
                    if (_connected.Task.IsCompleted) _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }
            try
            {
                var jitter = 0.8 + (Random.Shared.NextDouble() * 0.4);
                await Task.Delay(delay * jitter, _time, ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.ReconnectMaxDelay.Ticks));
        }
    }

    private async Task ReadLoopAsync(NetworkStream stream, CancellationToken ct)
    {
        var reader = new NetstringReader();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var n = await stream.ReadAsync(buffer, ct);
            if (n == 0) throw new IOException("Kamailio closed the evapi connection.");
            reader.Feed(buffer.AsSpan(0, n));
            while (reader.TryRead(out var payload))
            {
                await HandlePayloadAsync(payload, ct);
            }
            await AcknowledgeAsync(ct);
        }
    }

    /// <summary>Tells Kamailio it may forget every event up to the last one handled (one small command per read).</summary>
    private async Task AcknowledgeAsync(CancellationToken ct)
    {
        long boot, seq;
        lock (_gate)
        {
            (boot, seq) = (_boot, _handledUpTo);
            if (seq <= _ackedSeq) return;
            _ackedSeq = seq;
        }
        try
        {
            await SendAsync(FormattableString.Invariant($"ack {boot} {seq}"), ct);
        }
        catch (TelephonyCommandException e)
        {
            // Not acknowledged: Kamailio replays these after the reconnect, and the sequence check drops them.
            _logger.LogDebug(e, "ack {Seq} not sent", seq);
        }
    }

    /// <summary>Every sequence number up to this one is handled (what the next "ack" tells Kamailio).</summary>
    internal long HandledUpTo { get { lock (_gate) return _handledUpTo; } }

    /// <summary>False when the event was handled before (a replay, or a duplicate, of something we already had). Events may
    /// arrive out of number order; each number is admitted once.</summary>
    private bool Admit(KamailioEvent e)
    {
        if (e.Seq is not { } seq || e.Boot is not { } boot) return true;
        lock (_gate)
        {
            if (boot != _boot)
            {
                // Kamailio restarted: its numbering starts again.
                _boot = boot;
                _handledUpTo = 0;
                _ackedSeq = 0;
                _ahead.Clear();
            }
            if (seq <= _handledUpTo || !_ahead.Add(seq)) return false;
            while (_ahead.Count > 0 && _ahead.Min == _handledUpTo + 1)
            {
                _handledUpTo = _ahead.Min;
                _ahead.Remove(_handledUpTo);
            }
            if (_ahead.Count > MaxAhead)
            {
                // A number that never came while connected: reconnect, and Kamailio's replay (everything after the last ack) brings it.
                throw new IOException($"Kamailio event {_handledUpTo + 1} is missing after {_ahead.Count} later ones; reconnecting for the replay.");
            }
            return true;
        }
    }

    internal async Task HandlePayloadAsync(string payload, CancellationToken ct)
    {
        KamailioEvent? e;
        try
        {
            e = KamailioEvent.Parse(payload, _time.GetUtcNow());
        }
        catch (System.Text.Json.JsonException ex)
        {
            _logger.LogWarning(ex, "Kamailio sent a payload that is not JSON: {Payload}", payload);
            return;
        }
        if (e is null) return;
        if (!Admit(e))
        {
            _logger.LogDebug("evapi (already handled, dropped): {Payload}", payload);
            return;
        }
        _logger.LogDebug("evapi: {Payload}", payload);
        if (e.Event == "replayed")
        {
            _logger.LogInformation("Kamailio replayed {Count} kept events (up to {Last})", e["count"] ?? "0", e["last"] ?? "0");
            // The replay brought every fact we missed; a call we still think is up but Kamailio no longer has is over.
            _ = Task.Run(() => ReconcileAsync(ct), ct);
            return;
        }
        foreach (var callEvent in Map(e))
        {
            // Events are idempotent (each has its id), so a publish that failed for a moment (the store or Redis busy) is tried again.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await _sink.PublishAsync(callEvent, ct);
                    break;
                }
                catch (Exception ex) when (ex is not OperationCanceledException && attempt < PublishAttempts)
                {
                    _logger.LogWarning(ex, "Publishing {Event} of call {CallId} failed (attempt {Attempt}); trying again", callEvent.GetType().Name, callEvent.CallId, attempt);
                    await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), _time, ct);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    _logger.LogError(ex, "Publishing {Event} of call {CallId} failed {Attempts} times; dropped", callEvent.GetType().Name, callEvent.CallId, attempt);
                    break;
                }
            }
        }
    }

    // ---- Kamailio events → call events ----

    internal IReadOnlyList<CallEvent> Map(KamailioEvent e)
    {
        var src = _options.Source;
        var id = e.CallId;
        var state = _calls.GetOrAdd(id, _ => new CallState());
        lock (state)
        {
            switch (e.Event)
            {
                case "offered":
                    if (e.Number("tindex") is { } ti && e.Number("tlabel") is { } tl) state.Held = (ti, tl);
                    state.Skill = e["skill"];
                    return [new CallOffered($"{id}:offered", id, e.At, src,
                        CallerNumber: e["caller"] ?? "anonymous",
                        DialledNumber: e["dialled"] ?? "",
                        Trunk: e["trunk"],
                        IvrPath: e["ivr"],
                        RequestedSkill: e["skill"],
                        Elderly: IsYes(e["elderly"]),
                        Vip: IsYes(e["vip"]),
                        CallerName: e["callerName"]?.Trim('"', ' ') is { Length: > 0 } name ? name : null)];
                case "ringing":
                    state.Held = null;
                    state.Agent = e["agent"];
                    return [new CallRinging($"{id}:ringing:{e["branch"] ?? Ms(e)}", id, e.At, src, e["agent"] ?? "", e["uri"])];
                case "agent_failed":
                    if (e.Number("tindex") is { } fi && e.Number("tlabel") is { } fl) state.Held = (fi, fl);
                    return [new CallFailed($"{id}:failed:{e["agent"]}:{Ms(e)}", id, e.At, src, e["agent"], CauseOf(e.Code("code") ?? 0))];
                case "route_failed":
                    return [new CallFailed($"{id}:route-failed:{e["agent"]}:{Ms(e)}", id, e.At, src, e["agent"], "NO_TRANSACTION")];
                case "answered":
                    state.Held = null;
                    state.Answered = true;
                    state.Agent = e["agent"] ?? state.Agent;
                    return [new CallAnswered($"{id}:answered", id, e.At, src, state.Agent ?? "")];
                case "dtmf":
                    return e["digits"] is { } digits ? [new DtmfReceived($"{id}:dtmf:{e["cseq"] ?? Ms(e)}", id, e.At, src, digits)] : [];
                case "transferred":
                    state.Transferred = true;
                    return [new CallTransferred($"{id}:transferred", id, e.At, src, e["target"] ?? "", e["reason"] ?? "REFER from the agent's phone", state.Agent)];
                case "ended":
                    _calls.TryRemove(id, out _);
                    var by = e["by"] switch
                    {
                        "caller" => CallEndedBy.Caller,
                        "agent" => CallEndedBy.Agent,
                        _ => state.Released ? CallEndedBy.System : CallEndedBy.Unknown,
                    };
                    if ((state.Released || state.PendingTransfer is not null) && by == CallEndedBy.Unknown) by = CallEndedBy.System;
                    var cause = state.Released ? "released" : state.Transferred ? "transferred" : "NORMAL_CLEARING";
                    CallEvent ended = new CallEnded($"{id}:ended", id, e.At, src, by, cause);
                    return state.PendingTransfer is { } transfer ? [transfer, ended] : [ended];
                case "rejected":
                case "overflowed":
                    // A call that arrived while Hotline was unreachable for longer than OUTAGE_GRACE_S: the caller got 503
                    // (or went to the overflow destination). Recorded as offered and lost, so it is counted and called back.
                    _calls.TryRemove(id, out _);
                    return [
                        new CallOffered($"{id}:offered", id, e.At, src,
                            CallerNumber: e["caller"] ?? "anonymous",
                            DialledNumber: e["dialled"] ?? "",
                            Trunk: e["trunk"],
                            IvrPath: e["ivr"],
                            RequestedSkill: e["skill"],
                            Elderly: IsYes(e["elderly"]),
                            Vip: IsYes(e["vip"]),
                            CallerName: e["callerName"]?.Trim('"', ' ') is { Length: > 0 } rejectedName ? rejectedName : null),
                        new CallAbandoned($"{id}:abandoned", id, e.At, src, e["skill"],
                            e.Event == "rejected" ? $"hotline unreachable: {e["code"] ?? "503"} to the caller" : $"hotline unreachable: overflow to {e["target"]}"),
                    ];
                case "transfer_failed":
                    _logger.LogWarning("Kamailio could not transfer {CallId}: {Reason}", id, e["reason"]);
                    return [];
                case "cancel":
                    _calls.TryRemove(id, out _);
                    return state.Answered ? [] : [new CallAbandoned($"{id}:abandoned", id, e.At, src, state.Skill, "caller hung up (CANCEL)")];
                case "failed":
                    // dialog:failed: a final error went to the caller before anyone answered.
                    _calls.TryRemove(id, out _);
                    if (state.Answered) return [];
                    return state.Released
                        ? [new CallEnded($"{id}:ended", id, e.At, src, CallEndedBy.System, "released")]
                        : [new CallAbandoned($"{id}:abandoned", id, e.At, src, state.Skill, $"caller gone before answer ({e["code"] ?? "?"})")];
                default:
                    _logger.LogDebug("Ignoring Kamailio event {Event}", e.Event);
                    return [];
            }
        }
    }

    private static string Ms(KamailioEvent e) => e.At.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    private static bool IsYes(string? v) => v is "1" or "true" or "yes" or "TRUE" or "Yes";

    internal static string CauseOf(int code) => code switch
    {
        486 or 600 => "USER_BUSY",
        408 => "NO_ANSWER",
        480 => "UNAVAILABLE",
        404 => "NOT_REGISTERED",
        603 => "DECLINED",
        487 => "ORIGINATOR_CANCEL",
        _ => "SIP_" + code.ToString(CultureInfo.InvariantCulture),
    };

    // ---- commands ----

    public async Task RouteToAgentAsync(string callId, string agentId, string agentEndpoint, CancellationToken ct)
    {
        var uri = _options.AgentUri(agentId, agentEndpoint);
        Refuse(callId, nameof(callId));
        Refuse(agentId, nameof(agentId));
        Refuse(uri, nameof(agentEndpoint));
        if (!_calls.TryGetValue(callId, out var state)) throw new TelephonyCommandException($"Kamailio holds no call {callId}.");
        (long Index, long Label) held;
        lock (state)
        {
            held = state.Held ?? throw new TelephonyCommandException($"Call {callId} is not waiting for an agent.");
            state.Held = null;
            state.Agent = agentId;
        }
        try
        {
            await SendAsync(FormattableString.Invariant($"route {held.Index} {held.Label} {callId} {agentId} {uri}"), ct);
        }
        catch
        {
            lock (state) state.Held ??= held;
            throw;
        }
    }

    /// <summary>The SIP phone answering is the accept: nothing to do.</summary>
    public Task AgentAcceptedAsync(string callId, string agentId, CancellationToken ct) => Task.CompletedTask;

    public async Task TransferAsync(string callId, string target, string reason, CancellationToken ct)
    {
        Refuse(callId, nameof(callId));
        Refuse(target, nameof(target));
        var uri = _options.TransferUriTemplate.Replace("{target}", target, StringComparison.Ordinal);
        var dialog = await FindDialogAsync(callId, ct) ?? throw new TelephonyCommandException($"Kamailio has no dialog {callId}.");
        if (dialog.State < 4) throw new TelephonyCommandException($"Call {callId} is not answered yet (dialog state {dialog.State}).");
        var state = _calls.GetOrAdd(callId, _ => new CallState());
        CallTransferred record;
        lock (state)
        {
            // The REFER comes from Kamailio's dialog module (it never passes request_route), so the record is ours. It is
            // kept pending so that an "ended" racing ahead of our publish still comes after it.
            record = new CallTransferred($"{callId}:transferred", callId, _time.GetUtcNow(), _options.Source, target, reason, state.Agent ?? dialog.Agent);
            state.Transferred = true;
            state.PendingTransfer = record;
        }
        try
        {
            await SendAsync($"transfer {callId} {dialog.CallerTag} {dialog.CalleeTag} {uri}", ct);
        }
        catch
        {
            lock (state)
            {
                state.PendingTransfer = null;
                state.Transferred = false;
            }
            throw;
        }
        await _sink.PublishAsync(record, ct);
        _ = Task.Run(() => ConfirmTransferEndAsync(callId), CancellationToken.None);
    }

    /// <summary>
    /// After a hotline transfer Kamailio ends the dialog itself (the REFER's callback sends BYE to the caller, <c>dlg_bye</c> to the
    /// agent's phone) and reports "ended". If that has not come <see cref="KamailioOptions.TransferEndWindow"/> later (seen on a
    /// heavily loaded machine), the dialog is ended through <c>dlg.terminate_dlg</c> like a forced release, so the agent is not left
    /// on a call that is over.
    /// </summary>
    private async Task ConfirmTransferEndAsync(string callId)
    {
        try
        {
            var deadline = _time.GetUtcNow() + _options.TransferEndWindow;
            while (_time.GetUtcNow() < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), _time);
                if (!_calls.ContainsKey(callId)) return; // the ended event arrived
            }
            _logger.LogWarning("Kamailio reported no end of {CallId} {Window} after the transfer; ending the dialog", callId, _options.TransferEndWindow);
            if (await FindDialogAsync(callId, CancellationToken.None) is { } dialog)
            {
                try
                {
                    await _rpc.TerminateAsync(dialog, CancellationToken.None);
                }
                catch (KamailioRpcException e)
                {
                    _logger.LogInformation("dlg.terminate_dlg {CallId}: {Message} (reconciling)", callId, e.Message);
                }
            }
        }
        catch (Exception e) when (e is TelephonyCommandException or HttpRequestException or TaskCanceledException)
        {
            _logger.LogWarning(e, "Ending the transferred call {CallId} failed", callId);
        }
        await ReconcileReleaseAsync(callId, "transferred");
    }

    public async Task ReleaseAsync(string callId, string reason, CancellationToken ct)
    {
        Refuse(callId, nameof(callId));
        (long Index, long Label)? held = null;
        if (_calls.TryGetValue(callId, out var state))
        {
            lock (state)
            {
                state.Released = true;
                held = state.Held;
                state.Held = null;
            }
        }
        if (held is { } h)
        {
            // Still queued: Kamailio answers the held INVITE with 480; dialog:failed reports it.
            await SendAsync(FormattableString.Invariant($"release {h.Index} {h.Label} {callId}"), ct);
            return;
        }
        var dialog = await FindDialogAsync(callId, ct);
        if (dialog is not null)
        {
            try
            {
                await _rpc.TerminateAsync(dialog, ct);
            }
            catch (KamailioRpcException e)
            {
                _logger.LogInformation("dlg.terminate_dlg {CallId}: {Message} (reconciling)", callId, e.Message);
            }
        }
        // Do not trust one event (or its absence): confirm with dlg.list, and close the call ourselves if it is gone.
        _ = Task.Run(() => ReconcileReleaseAsync(callId, "released"), CancellationToken.None);
    }

    /// <summary>After a release (or a transfer) the dialog should be gone: confirm it with dlg.list, and close the call ourselves,
    /// with <paramref name="cause"/>, when it is gone but no "ended" came.</summary>
    private async Task ReconcileReleaseAsync(string callId, string cause)
    {
        var deadline = _time.GetUtcNow() + _options.ReleaseReconcileWindow;
        try
        {
            while (_time.GetUtcNow() < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), _time);
                if (!_calls.ContainsKey(callId)) return; // the ended event arrived
                if (await FindDialogAsync(callId, CancellationToken.None) is null) break;
            }
            if (await FindDialogAsync(callId, CancellationToken.None) is not null)
            {
                _logger.LogWarning("Call {CallId} is still up in Kamailio after the release", callId);
                return;
            }
            if (_calls.TryRemove(callId, out _))
            {
                await _sink.PublishAsync(new CallEnded($"{callId}:ended", callId, _time.GetUtcNow(), _options.Source, CallEndedBy.System, cause), CancellationToken.None);
            }
        }
        catch (Exception e) when (e is TelephonyCommandException or HttpRequestException or TaskCanceledException)
        {
            _logger.LogWarning(e, "Reconciling the release of {CallId} failed", callId);
        }
    }

    /// <summary>
    /// After a reconnect: calls we think are up but Kamailio no longer has are over. A call missing from <c>dlg.list</c> may only be
    /// one whose "ended" is still on its way to us (the list is taken while the read loop is still working through the events after
    /// the replay), so a call is closed here only when it is missing from two lists <see cref="KamailioOptions.ReconcileConfirmDelay"/>
    /// apart and its own end has not arrived in between.
    /// </summary>
    public async Task<int> ReconcileAsync(CancellationToken ct)
    {
        var suspects = await GoneFromKamailioAsync(_calls.Keys.ToHashSet(StringComparer.Ordinal), ct);
        if (suspects.Count == 0) return 0;
        await Task.Delay(_options.ReconcileConfirmDelay, _time, ct);
        suspects = await GoneFromKamailioAsync(suspects, ct);
        var closed = 0;
        foreach (var callId in suspects)
        {
            if (!_calls.TryRemove(callId, out var state)) continue; // its end arrived meanwhile
            bool answered, released;
            lock (state)
            {
                answered = state.Answered;
                released = state.Released;
            }
            var now = _time.GetUtcNow();
            CallEvent end = answered || released
                ? new CallEnded($"{callId}:ended", callId, now, _options.Source, released ? CallEndedBy.System : CallEndedBy.Unknown, "gone from Kamailio")
                : new CallAbandoned($"{callId}:abandoned", callId, now, _options.Source, state.Skill, "gone from Kamailio");
            _logger.LogInformation("Call {CallId} is gone from Kamailio with no end reported; closing it ({Event})", callId, end.GetType().Name);
            await _sink.PublishAsync(end, ct);
            closed++;
        }
        return closed;
    }

    /// <summary>Those of <paramref name="callIds"/> we still hold that <c>dlg.list</c> does not list (empty when the list cannot be read).</summary>
    private async Task<HashSet<string>> GoneFromKamailioAsync(IReadOnlySet<string> callIds, CancellationToken ct)
    {
        IReadOnlyList<KamailioDialog> dialogs;
        try
        {
            dialogs = await _rpc.ListDialogsAsync(ct);
        }
        catch (Exception e) when (e is TelephonyCommandException or HttpRequestException or TaskCanceledException)
        {
            _logger.LogWarning(e, "dlg.list failed; cannot reconcile now");
            return [];
        }
        var alive = dialogs.Select(d => d.CallId).ToHashSet(StringComparer.Ordinal);
        return callIds.Where(id => _calls.ContainsKey(id) && !alive.Contains(id)).ToHashSet(StringComparer.Ordinal);
    }

    private async Task<KamailioDialog?> FindDialogAsync(string callId, CancellationToken ct) =>
        (await _rpc.ListDialogsAsync(ct)).FirstOrDefault(d => d.CallId == callId);

    private async Task SendAsync(string command, CancellationToken ct)
    {
        NetworkStream stream;
        lock (_gate)
        {
            stream = _stream ?? throw new TelephonyCommandException("Not connected to Kamailio evapi.");
        }
        await _writeLock.WaitAsync(ct);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_options.CommandTimeout);
            await stream.WriteAsync(NetstringReader.Encode(command), timeout.Token);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            throw new TelephonyCommandException("Could not send to Kamailio evapi: " + e.Message, e);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Commands are space-separated words: a value with whitespace or control characters would inject a second field.</summary>
    private static void Refuse(string value, string name)
    {
        if (string.IsNullOrEmpty(value) || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new TelephonyCommandException($"{name} must be non-empty and contain no whitespace: '{value}'.");
        }
    }

    public void Dispose()
    {
        _writeLock.Dispose();
        _http.Dispose();
    }
}
