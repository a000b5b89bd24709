using System.Collections.Concurrent;

namespace Hotline.Server.Calls;

/// <summary>
/// Today's telephony figures for the wallboard, folded from the call records. Formulas (defined once, here):
/// 接通率 = connected / offered; service level 15 s = connected within 15 s of queueing / offered;
/// 呼损率 = abandoned / offered; averages over connected (wait) and finished (talk) calls. "Today" is Asia/Shanghai.
/// </summary>
public sealed class CallStats
{
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _connectedAt = new();
    private readonly ConcurrentDictionary<string, List<DateTimeOffset>> _callsByCaller = new();
    private readonly HashSet<string> _seen = [];
    private readonly ConcurrentDictionary<string, CallLine> _lines = new();

    /// <summary>One call as the weekly facts need it.</summary>
    public sealed record CallLine(DateTimeOffset OfferedAt, bool Answered, double WaitSeconds, double TalkSeconds, bool Abandoned);

    public IReadOnlyList<CallLine> Lines(DateTimeOffset from, DateTimeOffset to) => _lines.Values.Where(l => l.OfferedAt >= from && l.OfferedAt < to).ToList();
    private DateOnly _day;
    private int _offered, _answered, _abandoned, _within15, _finished;
    private double _waitSum, _talkSum;

    public void Apply(ICallRecord record)
    {
        lock (_gate)
        {
            // The same record can reach us twice (inline after the write, then from the subscription).
            if (!_seen.Add(record.GetType().Name + "|" + record.CallId + "|" + record.At.ToUnixTimeMilliseconds())) return;
            var day = DateOnly.FromDateTime(Tickets.TimeZones.ToLocal(record.At).DateTime);
            if (day > _day)
            {
                _day = day;
                _offered = _answered = _abandoned = _within15 = _finished = 0;
                _waitSum = _talkSum = 0;
                if (_seen.Count > 500_000) _seen.Clear();
            }
            var today = day == _day;
            switch (record)
            {
                case CallQueued q:
                    _callsByCaller.AddOrUpdate(q.Caller, _ => [q.At], (_, list) => { lock (list) list.Add(q.At); return list; });
                    _lines.TryAdd(q.CallId, new CallLine(q.At, false, 0, 0, false));
                    if (today) _offered++;
                    break;
                case CallConnected c:
                    _connectedAt[c.CallId] = c.At;
                    _lines.AddOrUpdate(c.CallId, _ => new CallLine(c.At, true, c.WaitSeconds, 0, false), (_, l) => l with { Answered = true, WaitSeconds = c.WaitSeconds });
                    if (today) { _answered++; _waitSum += c.WaitSeconds; if (c.WaitSeconds <= 15) _within15++; }
                    break;
                case CallAbandonedInQueue a:
                    _lines.AddOrUpdate(a.CallId, _ => new CallLine(a.At, false, a.WaitSeconds, 0, true), (_, l) => l with { Abandoned = true, WaitSeconds = a.WaitSeconds });
                    if (today) _abandoned++;
                    break;
                case CallFinished f:
                    _connectedAt.TryRemove(f.CallId, out _);
                    _lines.AddOrUpdate(f.CallId, _ => new CallLine(f.At, true, 0, f.TalkSeconds, false), (_, l) => l with { TalkSeconds = f.TalkSeconds });
                    if (today) { _finished++; _talkSum += f.TalkSeconds; }
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
        lock (_gate)
        {
            var day = DateOnly.FromDateTime(Tickets.TimeZones.ToLocal(now).DateTime);
            if (day != _day) return new TodayFigures(0, 0, 0, 0, 0, 0, 0);
            return new TodayFigures(_offered, _answered, _abandoned,
                Ratio(_answered, _offered), Ratio(_within15, _offered),
                _answered == 0 ? 0 : Math.Round(_waitSum / _answered, 1), _finished == 0 ? 0 : Math.Round(_talkSum / _finished, 1));
        }
    }

    private static double Ratio(int n, int d) => d == 0 ? 0 : Math.Round((double)n / d, 4);
}
