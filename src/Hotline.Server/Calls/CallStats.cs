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
/// </list>
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

    /// <summary>A call queued and not yet finished or abandoned, as the records tell it (what a Redis restart recovery puts back).</summary>
    public sealed record LiveCall(CallQueued Queued, int Priority, string? AgentId, DateTimeOffset? ConnectedAt);

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
    public sealed record CallLine(DateTimeOffset OfferedAt, bool Answered, double WaitSeconds, double TalkSeconds, bool Abandoned);

    public IReadOnlyList<CallLine> Lines(DateTimeOffset from, DateTimeOffset to) => _lines.Values.Where(l => l.OfferedAt >= from && l.OfferedAt < to).ToList();

    public void Apply(ICallRecord record)
    {
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
                    _live.TryRemove(a.CallId, out _);
                    _lines.AddOrUpdate(a.CallId, _ => new CallLine(a.At, false, a.WaitSeconds, 0, true), (_, l) => l with { Abandoned = true, WaitSeconds = a.WaitSeconds });
                    break;
                case CallFinished f:
                    _connectedAt.TryRemove(f.CallId, out _);
                    _live.TryRemove(f.CallId, out _);
                    _lines.AddOrUpdate(f.CallId, _ => new CallLine(f.At, true, 0, f.TalkSeconds, false), (_, l) => l with { TalkSeconds = f.TalkSeconds });
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
        int offered = lines.Count, answered = 0, abandoned = 0, within15 = 0, within20 = 0, finished = 0;
        double waitSum = 0, talkSum = 0;
        foreach (var l in lines)
        {
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
        };
    }

    private static double Ratio(int n, int d) => d == 0 ? 0 : Math.Round((double)n / d, 4);
}
