using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Hotline.Telephony.Simulator;

public sealed class SimulatorOptions
{
    public const string SourceName = "simulator";

    public int Seed { get; set; } = 12345;

    public TrafficProfile Traffic { get; set; } = new();

    /// <summary>Simulated time runs this many times faster than the clock (demos: 10–60). Arrival gaps, patience,
    /// ring timeout and talk time are all divided by it.</summary>
    public double SpeedFactor { get; set; } = 1.0;

    /// <summary>Simulated time of the first arrival window; null = now.</summary>
    public DateTimeOffset? Start { get; set; }

    /// <summary>How much simulated traffic to play; null = until cancelled.</summary>
    public TimeSpan? Span { get; set; }

    /// <summary>An agent who does not accept within this (simulated) time is reported as <c>NO_ANSWER</c>.</summary>
    public TimeSpan RingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Share of answered calls that the agent (not the caller) hangs up.</summary>
    public double AgentHangsUpShare { get; set; } = 0.3;

    /// <summary>Whether <c>AddSimulatorTelephony</c> starts generating traffic with the host.</summary>
    public bool AutoStart { get; set; } = true;

    /// <summary>
    /// How many trunks deliver events at once. 1 (the default): one event at a time, in order. N: each call's events go, in
    /// order, through one of N lanes chosen by its call id, and the lanes publish concurrently, as a platform with several
    /// trunks or adapter connections would. Calls on different lanes may then be recorded a moment out of arrival order.
    /// </summary>
    public int PublishLanes { get; set; } = 1;
}

/// <summary>
/// A telephony platform in a box: plays the traffic model into a live system and obeys the ACD's commands.
/// <c>CallOffered</c> at each arrival; <c>CallAbandoned</c> when the caller's patience runs out before an agent
/// accepts; <c>CallRinging</c> on <see cref="RouteToAgentAsync"/> (or <c>CallFailed</c> when the agent is busy or does
/// not accept within the ring timeout); <c>CallAnswered</c> on <see cref="AgentAcceptedAsync"/> and
/// <c>CallEnded</c> after the talk time; <c>CallTransferred</c> + <c>CallEnded</c> on transfer; <c>CallEnded</c> on release.
/// Not a hosted service itself: <see cref="RunAsync"/> is driven by whoever owns it.
/// </summary>
public sealed class SimulatedTelephony : ITelephonyControl
{
    private enum Phase { Waiting, Ringing, Talking, Over }

    private sealed class LiveCall(SimulatedCall call)
    {
        public SimulatedCall Call { get; } = call;
        public Phase Phase { get; set; } = Phase.Waiting;
        public string? AgentId { get; set; }
        public ITimer? PatienceTimer { get; set; }
        public ITimer? RingTimer { get; set; }
        public ITimer? TalkTimer { get; set; }
        public int Sequence { get; set; }

        public void StopTimers()
        {
            PatienceTimer?.Dispose();
            RingTimer?.Dispose();
            TalkTimer?.Dispose();
        }
    }

    private sealed record Session(Channel<CallEvent> Outbox, TimeProvider Time, SimulatorOptions Options);

    private readonly ConcurrentDictionary<string, LiveCall> _calls = new();
    private readonly ConcurrentDictionary<string, bool> _busyAgents = new();
    private volatile Session? _session;
    private int _nameCounter;

    /// <summary>Calls not finished yet.</summary>
    public int LiveCalls => _calls.Count(c => c.Value.Phase != Phase.Over);

    /// <summary>Simulate an agent whose phone is busy (off-hook, on a private call): routing to it fails with USER_BUSY.</summary>
    public void SetAgentBusy(string agentId, bool busy)
    {
        if (busy)
        {
            _busyAgents[agentId] = true;
        }
        else
        {
            _busyAgents.TryRemove(agentId, out _);
        }
    }

    /// <summary>Simulate the caller putting the phone down now: abandoned while queued or ringing, ended while talking.</summary>
    public void CallerHangsUp(string callId)
    {
        var session = RequireSession();
        if (!_calls.TryGetValue(callId, out var live))
        {
            return;
        }
        lock (live)
        {
            switch (live.Phase)
            {
                case Phase.Waiting or Phase.Ringing:
                    Finish(live, session, (id, at) => new CallAbandoned(id, callId, at, SimulatorOptions.SourceName, live.Call.Skill, "caller hung up in queue"));
                    break;
                case Phase.Talking:
                    Finish(live, session, (id, at) => new CallEnded(id, callId, at, SimulatorOptions.SourceName, CallEndedBy.Caller, "NORMAL_CLEARING"));
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>Simulate the caller pressing keys during the call (DTMF): one <see cref="DtmfReceived"/> unless the call is over.</summary>
    public void CallerPresses(string callId, string digits)
    {
        var session = RequireSession();
        if (!_calls.TryGetValue(callId, out var live))
        {
            return;
        }
        lock (live)
        {
            if (live.Phase != Phase.Over)
            {
                Emit(live, session, (id, at) => new DtmfReceived(id, callId, at, SimulatorOptions.SourceName, digits));
            }
        }
    }

    public async Task RunAsync(ICallEventSink sink, TimeProvider time, SimulatorOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.SpeedFactor);

        var session = new Session(Channel.CreateUnbounded<CallEvent>(new UnboundedChannelOptions { SingleReader = true }), time, options);
        if (Interlocked.CompareExchange(ref _session, session, null) is not null)
        {
            throw new InvalidOperationException("The simulator is already running.");
        }

        var pump = PumpAsync(session.Outbox.Reader, sink, Math.Clamp(options.PublishLanes, 1, 64), ct);
        try
        {
            await PlayTrafficAsync(session, ct);
            // A finite run ends when its last call is over.
            while (LiveCalls > 0)
            {
                await Task.Delay(Scaled(TimeSpan.FromSeconds(1), options), time, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var live in _calls.Values)
            {
                lock (live)
                {
                    live.StopTimers();
                }
            }
            session.Outbox.Writer.TryComplete();
            _session = null;
            try
            {
                await pump;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
            _calls.Clear();
        }
    }

    private async Task PlayTrafficAsync(Session session, CancellationToken ct)
    {
        var options = session.Options;
        var time = session.Time;
        var model = new TrafficModel(options.Traffic, options.Seed);
        var realStart = time.GetUtcNow();
        var simStart = options.Start ?? realStart;
        var simEnd = options.Span is { } span ? simStart + span : DateTimeOffset.MaxValue;
        var window = TimeSpan.FromHours(1);

        for (var from = simStart; from < simEnd; from += window)
        {
            var length = simEnd - from < window ? simEnd - from : window;
            foreach (var call in model.Generate(from, length))
            {
                await DelayUntilAsync(realStart + (call.ArrivesAt - simStart) / options.SpeedFactor, time, ct);
                Offer(call, session);
            }
            await DelayUntilAsync(realStart + (from + length - simStart) / options.SpeedFactor, time, ct);
        }
    }

    private static async Task DelayUntilAsync(DateTimeOffset due, TimeProvider time, CancellationToken ct)
    {
        var wait = due - time.GetUtcNow();
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, time, ct);
        }
    }

    private static async Task PumpAsync(ChannelReader<CallEvent> reader, ICallEventSink sink, int lanes, CancellationToken ct)
    {
        if (lanes == 1)
        {
            await foreach (var e in reader.ReadAllAsync(ct))
            {
                await sink.PublishAsync(e, ct);
            }
            return;
        }

        // One call always takes the same lane, so its events stay in order; different calls are published concurrently.
        var channels = Enumerable.Range(0, lanes).Select(_ => Channel.CreateUnbounded<CallEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true })).ToArray();
        var workers = channels.Select(c => Task.Run(async () =>
        {
            await foreach (var e in c.Reader.ReadAllAsync(ct))
            {
                await sink.PublishAsync(e, ct);
            }
        }, ct)).ToArray();
        try
        {
            await foreach (var e in reader.ReadAllAsync(ct))
            {
                var lane = (int)((uint)StringComparer.Ordinal.GetHashCode(e.CallId) % (uint)lanes);
                channels[lane].Writer.TryWrite(e);
            }
        }
        finally
        {
            foreach (var c in channels) c.Writer.TryComplete();
            await Task.WhenAll(workers);
        }
    }

    /// <summary>Puts one call (generated or hand-made) into the running simulation.</summary>
    public void Inject(SimulatedCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        Offer(call, RequireSession());
    }

    private void Offer(SimulatedCall call, Session session)
    {
        var live = new LiveCall(call);
        if (!_calls.TryAdd(call.CallId, live))
        {
            throw new InvalidOperationException($"Call {call.CallId} is already in the simulation.");
        }
        lock (live)
        {
            Emit(live, session, (id, at) => new CallOffered(id, call.CallId, at, SimulatorOptions.SourceName,
                call.CallerNumber, call.DialledNumber, call.Trunk, call.IvrPath, call.Skill, call.Elderly, call.Vip));
            live.PatienceTimer = session.Time.CreateTimer(_ => Abandon(live, session), null,
                Scaled(call.Patience, session.Options), Timeout.InfiniteTimeSpan);
        }
    }

    private void Abandon(LiveCall live, Session session)
    {
        lock (live)
        {
            if (live.Phase is Phase.Waiting or Phase.Ringing)
            {
                Finish(live, session, (id, at) => new CallAbandoned(id, live.Call.CallId, at, SimulatorOptions.SourceName,
                    live.Call.Skill, "caller hung up in queue"));
            }
        }
    }

    public Task RouteToAgentAsync(string callId, string agentId, string agentEndpoint, CancellationToken ct)
    {
        var session = RequireSession();
        var live = Find(callId);
        lock (live)
        {
            if (live.Phase is not (Phase.Waiting or Phase.Ringing))
            {
                throw new TelephonyCommandException($"Call {callId} cannot be routed: it is {live.Phase}.");
            }
            if (_busyAgents.ContainsKey(agentId))
            {
                Emit(live, session, (id, at) => new CallFailed(id, callId, at, SimulatorOptions.SourceName, agentId, "USER_BUSY"));
                return Task.CompletedTask;
            }
            live.RingTimer?.Dispose();
            live.Phase = Phase.Ringing;
            live.AgentId = agentId;
            Emit(live, session, (id, at) => new CallRinging(id, callId, at, SimulatorOptions.SourceName, agentId, agentEndpoint));
            live.RingTimer = session.Time.CreateTimer(_ => RingTimedOut(live, agentId, session), null,
                Scaled(session.Options.RingTimeout, session.Options), Timeout.InfiniteTimeSpan);
        }
        return Task.CompletedTask;
    }

    private void RingTimedOut(LiveCall live, string agentId, Session session)
    {
        lock (live)
        {
            if (live.Phase == Phase.Ringing && live.AgentId == agentId)
            {
                live.Phase = Phase.Waiting;
                live.AgentId = null;
                Emit(live, session, (id, at) => new CallFailed(id, live.Call.CallId, at, SimulatorOptions.SourceName, agentId, "NO_ANSWER"));
            }
        }
    }

    public Task AgentAcceptedAsync(string callId, string agentId, CancellationToken ct)
    {
        var session = RequireSession();
        if (!_calls.TryGetValue(callId, out var live))
        {
            // The caller hung up (or was released) before the console accept arrived: nothing to answer.
            return Task.CompletedTask;
        }
        lock (live)
        {
            // A second click, or an accept that lost the race against the caller's hang-up, changes nothing.
            if (live.Phase is Phase.Talking or Phase.Over)
            {
                return Task.CompletedTask;
            }
            if (_busyAgents.ContainsKey(agentId))
            {
                throw new TelephonyCommandException($"Agent {agentId} is busy.");
            }
            live.PatienceTimer?.Dispose();
            live.RingTimer?.Dispose();
            live.Phase = Phase.Talking;
            live.AgentId = agentId;
            Emit(live, session, (id, at) => new CallAnswered(id, callId, at, SimulatorOptions.SourceName, agentId));
            // Deterministic per call: which side hangs up depends on the call id, not on timing.
            var byAgent = (StableFraction(callId) < session.Options.AgentHangsUpShare);
            live.TalkTimer = session.Time.CreateTimer(_ => HangUp(live, session, byAgent ? CallEndedBy.Agent : CallEndedBy.Caller), null,
                Scaled(live.Call.TalkTime, session.Options), Timeout.InfiniteTimeSpan);
        }
        return Task.CompletedTask;
    }

    private void HangUp(LiveCall live, Session session, CallEndedBy by)
    {
        lock (live)
        {
            if (live.Phase == Phase.Talking)
            {
                Finish(live, session, (id, at) => new CallEnded(id, live.Call.CallId, at, SimulatorOptions.SourceName, by, "NORMAL_CLEARING"));
            }
        }
    }

    public Task TransferAsync(string callId, string target, string reason, CancellationToken ct)
    {
        var session = RequireSession();
        var live = Find(callId);
        lock (live)
        {
            if (live.Phase == Phase.Over)
            {
                throw new TelephonyCommandException($"Call {callId} is over; it cannot be transferred.");
            }
            var agent = live.AgentId;
            Emit(live, session, (id, at) => new CallTransferred(id, callId, at, SimulatorOptions.SourceName, target, reason, agent));
            Finish(live, session, (id, at) => new CallEnded(id, callId, at, SimulatorOptions.SourceName, CallEndedBy.System, $"transferred to {target}"));
        }
        return Task.CompletedTask;
    }

    public Task ReleaseAsync(string callId, string reason, CancellationToken ct)
    {
        var session = RequireSession();
        if (!_calls.TryGetValue(callId, out var live))
        {
            return Task.CompletedTask;
        }
        lock (live)
        {
            if (live.Phase != Phase.Over)
            {
                Finish(live, session, (id, at) => new CallEnded(id, callId, at, SimulatorOptions.SourceName, CallEndedBy.System, reason));
            }
        }
        return Task.CompletedTask;
    }

    private void Finish(LiveCall live, Session session, Func<string, DateTimeOffset, CallEvent> make)
    {
        live.StopTimers();
        live.Phase = Phase.Over;
        Emit(live, session, make);
        _calls.TryRemove(live.Call.CallId, out _);
    }

    // Called under the call's lock: the outbox keeps each call's events in order.
    private static void Emit(LiveCall live, Session session, Func<string, DateTimeOffset, CallEvent> make)
    {
        var e = make($"{live.Call.CallId}#{++live.Sequence}", session.Time.GetUtcNow());
        session.Outbox.Writer.TryWrite(e);
    }

    private LiveCall Find(string callId) =>
        _calls.TryGetValue(callId, out var live) ? live : throw new TelephonyCommandException($"Unknown or finished call {callId}.");

    private Session RequireSession() =>
        _session ?? throw new InvalidOperationException("The simulator is not running: call RunAsync first.");

    private static TimeSpan Scaled(TimeSpan simulated, SimulatorOptions options) => simulated / options.SpeedFactor;

    private static double StableFraction(string s)
    {
        var h = 2166136261u;
        foreach (var c in s)
        {
            h = (h ^ c) * 16777619u;
        }
        return (h % 10_000) / 10_000.0;
    }

    /// <summary>A call made by hand for demos and tests (number, skill, patience, talk time as given).</summary>
    public SimulatedCall NewCall(string callerNumber, string skill = HotlineSkills.Mandarin, TimeSpan? patience = null,
        TimeSpan? talkTime = null, bool elderly = false, string? callId = null)
    {
        var n = Interlocked.Increment(ref _nameCounter);
        return new SimulatedCall(callId ?? $"sim-manual-{n}", (_session?.Time ?? TimeProvider.System).GetUtcNow(), callerNumber,
            "12345", "sim", "1", skill, elderly, false, false,
            patience ?? TimeSpan.FromMinutes(10), talkTime ?? TimeSpan.FromMinutes(3), TimeSpan.FromSeconds(30));
    }
}
