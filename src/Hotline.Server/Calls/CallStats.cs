using System.Collections.Concurrent;

namespace Hotline.Server.Calls;

/// <summary>
/// The wallboard's telephony figures, folded from the call records (inline after a write and from the event-store
/// subscription, so every node sees every node's calls). Each formula is defined once, in <see cref="Compute"/>, over
/// the calls <b>queued</b> in the window (a call belongs to the window it entered in):
/// <list type="bullet">
/// <item>offered = calls queued (entered the ACD) in the window;</item>
/// <item>answered = of those, connected to an agent; abandoned = of those, the caller hung up before being connected;</item>
/// <item>接通率 answerRate = answered / offered; 呼损率 abandonRate = abandoned / offered;</item>
/// <item>serviceLevel15 / serviceLevel20 = answered with a wait ≤ 15 s / ≤ 20 s, divided by offered (calls still waiting count
/// against it; no exclusion of short abandons);</item>
/// <item>avgWaitSeconds = mean wait of the answered calls; avgTalkSeconds = mean talk time of the finished calls.</item>
/// <item>avgWrapUpSeconds (平均话后处理时长) = mean wrap-up time of the calls whose wrap-up has ended (<see cref="CallWrappedUp"/>:
/// from the call's end until the agent left 话后处理 — finished, made ready by the wrap-up maximum, forced, not ready or logged out);
/// calls still in wrap-up and calls without one (abandoned) are excluded.</item>
/// </list>
/// The callback offer uses <see cref="ExpectedWaitSeconds"/> (defined here too).
/// Windows: "today" = since 00:00 Asia/Shanghai; "last 15 minutes" = queued within the 15 minutes before now. All
/// ratios are fractions 0–1 rounded to 4 places; 0 when the denominator is 0.
/// </summary>
public sealed class CallStats
{
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _connectedAt = new();
    private readonly ConcurrentDictionary<string, List<DateTimeOffset>> _callsByCaller = new();
    private readonly HashSet<string> _seen = [];
    private readonly ConcurrentDictionary<string, CallLine> _lines = new();
    private readonly ConcurrentDictionary<string, LiveCall> _live = new();

    private readonly ConcurrentDictionary<string, Hotline.Calls.MissedCall> _missed = new();
    private readonly ConcurrentDictionary<string, CallQueued> _abandoned = new();

    private readonly ConcurrentDictionary<string, AgentStateChanged> _agentStates = new();
    private readonly ConcurrentDictionary<string, string> _lastCallOf = new();

    /// <summary>A call queued and not yet finished or abandoned, as the records tell it (what a Redis restart recovery puts back).
    /// <see cref="Callback"/>: the caller accepted a callback (a virtual entry).</summary>
    public sealed record LiveCall(CallQueued Queued, int Priority, string? AgentId, DateTimeOffset? ConnectedAt, bool Callback = false, bool CallbackOffered = false);

    /// <summary>Whether the caller of this live call was offered a callback (so a DTMF "1" means "yes").</summary>
    public bool CallbackWasOffered(string callId) => _live.TryGetValue(callId, out var l) && l.CallbackOffered && !l.Callback;

    /// <summary>The open 漏接回拨 entries as the records tell them (<see cref="MissedCallListed"/>, <see cref="MissedCallClaimed"/>,
    /// <see cref="MissedCallbackRecorded"/>), with claim, attempts and last result, for the Redis restart recovery.</summary>
    public IReadOnlyList<Hotline.Calls.MissedCall> OpenMissed() => [.. _missed.Values.OrderBy(m => m.MissedAt)];

    /// <summary>Every agent's last recorded state (from <see cref="AgentStateChanged"/>), for the Redis restart recovery.</summary>
    public IReadOnlyList<AgentStateChanged> AgentStates() => [.. _agentStates.Values];

    /// <summary>The last call the agent finished (the one its wrap-up belongs to), from <see cref="CallFinished"/>.</summary>
    public string? LastCallOf(string agentId) => _lastCallOf.TryGetValue(agentId, out var id) ? id : null;

    /// <summary>
    /// Expected wait (EWT, seconds) of a call entering a group — the one definition:
    /// <code>EWT = 0                                                  when readyInGroup &gt; waiting
    /// EWT = (waiting − readyInGroup + 1) × handle ÷ max(1, staffedInGroup)   otherwise</code>
    /// <paramref name="waiting"/> = calls of the group ahead of this one; <paramref name="readyInGroup"/> = the group's Ready agents;
    /// staffedInGroup = agents <b>having the group's skill</b> that are Ready, Reserved, OnCall or in WrapUp
    /// (<see cref="Hotline.Calls.SkillQueueFigures.StaffedAgents"/>; an agent with two skills counts in both groups);
    /// handle = today's avgTalkSeconds + avgWrapUpSeconds (<paramref name="defaultHandleSeconds"/> while nothing has been finished yet).
    /// Rounded to 0.1 s.
    /// </summary>
    public static double ExpectedWaitSeconds(int waiting, int readyInGroup, int staffedInGroup, TodayFigures today, double defaultHandleSeconds)
    {
        if (readyInGroup > waiting) return 0;
        var handle = today.AvgTalkSeconds + today.AvgWrapUpSeconds;
        if (handle <= 0) handle = defaultHandleSeconds;
        return Math.Round((waiting - readyInGroup + 1) * handle / Math.Max(1, staffedInGroup), 1);
    }

    /// <summary>The live calls queued since <paramref name="since"/> (older ones are dropped from the map).</summary>
    public IReadOnlyList<LiveCall> LiveCalls(DateTimeOffset since)
    {
        lock (_gate)
        {
            foreach (var old in _live.Values.Where(l => l.Queued.At < since).ToList()) _live.TryRemove(old.Queued.CallId, out _);
            return [.. _live.Values];
        }
    }

    /// <summary>One call as the weekly facts need it.</summary>
    public sealed record CallLine(DateTimeOffset OfferedAt, bool Answered, double WaitSeconds, double TalkSeconds, bool Abandoned)
    {
        /// <summary>Wrap-up after the call, once it has ended; null before (or without one).</summary>
        public double? WrapUpSeconds { get; init; }
    }

    public IReadOnlyList<CallLine> Lines(DateTimeOffset from, DateTimeOffset to) => _lines.Values.Where(l => l.OfferedAt >= from && l.OfferedAt < to).ToList();

    public void Apply(ICallRecord record)
    {
        if (record is AgentStateChanged changed)
        {
            // Latest by time wins; the same record arriving twice is harmless.
            _agentStates.AddOrUpdate(changed.AgentId, changed, (_, old) => changed.At >= old.At ? changed : old);
            return;
        }

        lock (_gate)
        {
            // The same record can reach us twice (inline after the write, then from the subscription).
            if (!_seen.Add(record.GetType().Name + "|" + record.CallId + "|" + record.At.ToUnixTimeMilliseconds())) return;
            if (_seen.Count > 500_000) _seen.Clear();
            switch (record)
            {
                case CallQueued q:
                    _callsByCaller.AddOrUpdate(q.Caller, _ => [q.At], (_, list) => { lock (list) list.Add(q.At); return list; });
                    _lines.TryAdd(q.CallId, new CallLine(q.At, false, 0, 0, false));
                    _live.TryAdd(q.CallId, new LiveCall(q, q.Priority, null, null));
                    break;
                case CallPriorityRaised p:
                    if (_live.TryGetValue(p.CallId, out var raised) && raised.AgentId is null) _live[p.CallId] = raised with { Priority = Math.Max(raised.Priority, p.Priority) };
                    break;
                case CallConnected c:
                    _connectedAt[c.CallId] = c.At;
                    if (_live.TryGetValue(c.CallId, out var live)) _live[c.CallId] = live with { AgentId = c.AgentId, ConnectedAt = c.At };
                    _lines.AddOrUpdate(c.CallId, _ => new CallLine(c.At, true, c.WaitSeconds, 0, false), (_, l) => l with { Answered = true, WaitSeconds = c.WaitSeconds });
                    break;
                case CallAbandonedInQueue a:
                    // kept until its MissedCallListed (next in the same stream) takes the skill, number and enqueue time
                    if (_live.TryRemove(a.CallId, out var abandonedCall)) _abandoned[a.CallId] = abandonedCall.Queued;
                    _lines.AddOrUpdate(a.CallId, _ => new CallLine(a.At, false, a.WaitSeconds, 0, true), (_, l) => l with { Abandoned = true, WaitSeconds = a.WaitSeconds });
                    break;
                case CallFinished f:
                    _connectedAt.TryRemove(f.CallId, out _);
                    _live.TryRemove(f.CallId, out _);
                    _lines.AddOrUpdate(f.CallId, _ => new CallLine(f.At, true, 0, f.TalkSeconds, false), (_, l) => l with { TalkSeconds = f.TalkSeconds });
                    if (f.AgentId is { } finishedBy) _lastCallOf[finishedBy] = f.CallId;
                    break;
                case CallWrappedUp w:
                    if (_lines.TryGetValue(w.CallId, out var wrappedLine)) _lines[w.CallId] = wrappedLine with { WrapUpSeconds = w.WrapUpSeconds };
                    break;
                case MissedCallListed ml:
                    _abandoned.TryRemove(ml.CallId, out var listedCall);
                    _missed.TryAdd(ml.CallId, new Hotline.Calls.MissedCall(ml.CallId, ml.Caller, listedCall?.DialledNumber ?? "", listedCall?.Skill ?? CallCenter.DefaultSkill,
                        listedCall?.At ?? ml.At, ml.At, ml.Reason, ml.AgentId, null, null, 0, null));
                    break;
                case MissedCallClaimed mc:
                    if (_missed.TryGetValue(mc.CallId, out var claimed)) _missed[mc.CallId] = claimed with { ClaimedBy = mc.AgentId, ClaimedAt = claimed.ClaimedBy == mc.AgentId ? claimed.ClaimedAt : mc.At };
                    break;
                case MissedCallbackRecorded mr:
                    if (mr.Done) _missed.TryRemove(mr.CallId, out _);
                    else if (_missed.TryGetValue(mr.CallId, out var attempted)) _missed[mr.CallId] = attempted with { ClaimedBy = null, ClaimedAt = null, Attempts = attempted.Attempts + 1, LastResult = mr.Result };
                    break;
                case CallbackOffered co:
                    if (_live.TryGetValue(co.CallId, out var offeredCall)) _live[co.CallId] = offeredCall with { CallbackOffered = true };
                    break;
                case CallbackAccepted cb:
                    if (_live.TryGetValue(cb.CallId, out var virtualCall)) _live[cb.CallId] = virtualCall with { Callback = true };
                    break;
                default:
                    break;
            }
        }
    }

    public DateTimeOffset? ConnectedAt(string callId) => _connectedAt.TryGetValue(callId, out var at) ? at : null;

    public bool IsRecentCaller(string caller, DateTimeOffset now, TimeSpan window) => CallsFrom(caller, now - window) > 0;

    public int CallsFrom(string caller, DateTimeOffset since)
    {
        if (!_callsByCaller.TryGetValue(caller, out var list)) return 0;
        lock (list) return list.Count(at => at >= since);
    }

    public TodayFigures Today(DateTimeOffset now)
    {
        var local = Tickets.TimeZones.ToLocal(now);
        var midnight = new DateTimeOffset(local.Date, local.Offset);
        return Compute(Lines(midnight, now.AddTicks(1)));
    }

    /// <summary>The same figures over the calls queued in the last 15 minutes.</summary>
    public TodayFigures Last15Minutes(DateTimeOffset now) => Compute(Lines(now.AddMinutes(-15), now.AddTicks(1)));

    /// <summary>The one definition of every wallboard figure (see the class summary).</summary>
    public static TodayFigures Compute(IReadOnlyCollection<CallLine> lines)
    {
        int offered = lines.Count, answered = 0, abandoned = 0, within15 = 0, within20 = 0, finished = 0, wrapped = 0;
        double waitSum = 0, talkSum = 0, wrapSum = 0;
        foreach (var l in lines)
        {
            if (l.WrapUpSeconds is { } wrap) { wrapped++; wrapSum += wrap; }
            if (l.Answered)
            {
                answered++;
                waitSum += l.WaitSeconds;
                if (l.WaitSeconds <= 15) within15++;
                if (l.WaitSeconds <= 20) within20++;
                if (l.TalkSeconds > 0) { finished++; talkSum += l.TalkSeconds; }
            }
            if (l.Abandoned) abandoned++;
        }
        return new TodayFigures(offered, answered, abandoned, Ratio(answered, offered), Ratio(within15, offered),
            answered == 0 ? 0 : Math.Round(waitSum / answered, 1), finished == 0 ? 0 : Math.Round(talkSum / finished, 1))
        {
            ServiceLevel20 = Ratio(within20, offered),
            AbandonRate = Ratio(abandoned, offered),
            AvgWrapUpSeconds = wrapped == 0 ? 0 : Math.Round(wrapSum / wrapped, 1),
        };
    }

    private static double Ratio(int n, int d) => d == 0 ? 0 : Math.Round((double)n / d, 4);
}
