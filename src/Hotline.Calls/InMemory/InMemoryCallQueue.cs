namespace Hotline.Calls.InMemory;

/// <summary>
/// In-process <see cref="ICallQueue"/> for a single node (embedded default, tests). One lock guards all state, so every
/// operation is atomic exactly like the Redis scripts. Times are the ones passed in; nothing reads a clock.
/// </summary>
public sealed class InMemoryCallQueue : ICallQueue
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, CallEntry> _calls = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _tombstones = new(StringComparer.Ordinal);
    private readonly Queue<(string CallId, DateTimeOffset GoneAt)> _tombstoneOrder = new();
    private readonly Dictionary<string, AgentEntry> _agents = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _skills = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<CallEntry>> _waiting = new(StringComparer.Ordinal);

    // The same waiting calls per skill by enqueue time (UTC ticks, then call id): the snapshot's longest wait is its first entry,
    // not a walk over every waiting call (which, with thousands waiting, cost more than the rest of a call's entry).
    private readonly Dictionary<string, SortedSet<(long EnqueuedTicks, string CallId)>> _waitingByAge = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<(long Score, string AgentId)>> _ready = new(StringComparer.Ordinal);
    private readonly SortedSet<(DateTimeOffset ExpiresAt, string CallId)> _reservations = new(ReservationOrder.Instance);
    private readonly Dictionary<string, MissedCall> _missed = new(StringComparer.Ordinal);
    private IReadOnlyList<OverflowRule> _overflow = [];
    private HashSet<string> _levelFirst = new(StringComparer.Ordinal);
    private int _connected;

    /// <summary>How long an ended or abandoned call id is remembered (enqueue idempotency).</summary>
    public TimeSpan TombstoneTtl { get; init; } = CallQueueRules.DefaultTombstoneTtl;

    public Task<bool> EnqueueAsync(QueuedCall call, CancellationToken cancellationToken = default)
    {
        CallQueueRules.Validate(call);
        lock (_gate)
        {
            if (_calls.ContainsKey(call.CallId) || _tombstones.ContainsKey(call.CallId))
            {
                return Task.FromResult(false);
            }

            var entry = new CallEntry(call);
            _calls.Add(call.CallId, entry);
            _skills.Add(call.Skill);
            AddWaiting(entry);
            return Task.FromResult(true);
        }
    }

    public Task<bool> SetReadyAsync(string agentId, IReadOnlyList<AgentSkill> skills, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        CallQueueRules.ValidateAgentId(agentId);
        CallQueueRules.ValidateSkills(skills);
        lock (_gate)
        {
            _agents.TryGetValue(agentId, out var agent);
            if (agent is { Status: AgentStatus.Reserved or AgentStatus.OnCall })
            {
                return Task.FromResult(false);
            }

            var idleSince = now;
            if (agent is null)
            {
                agent = new AgentEntry(agentId);
                _agents.Add(agentId, agent);
            }
            else
            {
                if (agent.Status == AgentStatus.Ready)
                {
                    idleSince = agent.IdleSince; // already ready: a skill change keeps the place in line
                }

                RemoveFromReadySets(agent);
            }

            // Last level wins for a skill listed twice, as with HSET in the Redis script.
            var bySkill = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var s in skills)
            {
                bySkill[s.Skill] = s.Level;
            }

            agent.Skills = [.. bySkill.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new AgentSkill(p.Key, p.Value))];
            agent.ReadyOffsets = [.. agent.Skills.Select(x => CallQueueRules.ReadyOffset(_levelFirst.Contains(x.Skill), x.Level))];
            foreach (var s in agent.Skills)
            {
                _skills.Add(s.Skill);
            }

            MakeReady(agent, idleSince);
            return Task.FromResult(true);
        }
    }

    public Task<bool> SetNotReadyAsync(string agentId, string reason, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(agentId);
        lock (_gate)
        {
            if (!_agents.TryGetValue(agentId, out var agent) || agent.Status is AgentStatus.Reserved or AgentStatus.OnCall)
            {
                return Task.FromResult(false);
            }

            RemoveFromReadySets(agent);
            agent.Set(AgentStatus.NotReady, reason, now, callId: null);
            return Task.FromResult(true);
        }
    }

    public Task LogOutAsync(string agentId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(agentId);
        lock (_gate)
        {
            if (!_agents.TryGetValue(agentId, out var agent))
            {
                return Task.CompletedTask;
            }

            if (agent is { Status: AgentStatus.Reserved, CallId: { } reserved })
            {
                Requeue(_calls[reserved]);
            }

            // A connected call stays connected (the caller is still talking); EndCall later leaves the agent logged out.
            RemoveFromReadySets(agent);
            agent.Set(AgentStatus.LoggedOut, reason: null, now, callId: null);
            return Task.CompletedTask;
        }
    }

    public Task<IReadOnlyList<Offer>> DispatchAsync(DateTimeOffset now, TimeSpan reservationTimeout, int max, CancellationToken cancellationToken = default)
    {
        var offers = new List<Offer>();
        lock (_gate)
        {
            var expiresAt = now + reservationTimeout;
            while (offers.Count < max)
            {
                // The best candidate over all skills that have a ready agent: the skill's own head call, and per overflow rule
                // into the skill, the best call of the rule's skill that has waited at least the threshold (same order as dispatch.lua).
                CallEntry? best = null;
                string? serving = null;
                foreach (var skill in _skills)
                {
                    if (!_ready.TryGetValue(skill, out var ready) || ready.Count == 0)
                    {
                        continue;
                    }

                    if (_waiting.TryGetValue(skill, out var waiting) && waiting.Count > 0)
                    {
                        Consider(skill, waiting.Min!);
                    }

                    foreach (var rule in _overflow)
                    {
                        if (rule.Skill != skill && rule.To.Contains(skill, StringComparer.Ordinal)
                            && _waiting.TryGetValue(rule.Skill, out var from)
                            && from.FirstOrDefault(c => c.Call.EnqueuedAt.ToUnixTimeMilliseconds() <= now.ToUnixTimeMilliseconds() - (long)rule.After.TotalMilliseconds) is { } old)
                        {
                            Consider(skill, old);
                        }
                    }
                }

                void Consider(string skill, CallEntry candidate)
                {
                    var better = best is null || WaitingOrder.Instance.Compare(candidate, best) < 0
                        || (ReferenceEquals(candidate, best) && serving != best.Call.Skill
                            && (skill == candidate.Call.Skill || string.CompareOrdinal(skill, serving) < 0));
                    if (better)
                    {
                        best = candidate;
                        serving = skill;
                    }
                }

                if (best is null)
                {
                    break;
                }

                var agent = _agents[_ready[serving!].Min.AgentId];
                RemoveWaiting(best);
                RemoveFromReadySets(agent);
                best.Stage = CallStage.Reserved;
                best.AgentId = agent.AgentId;
                best.OfferedAt = now;
                best.ExpiresAt = expiresAt;
                _reservations.Add((expiresAt, best.Call.CallId));
                agent.Set(AgentStatus.Reserved, reason: null, now, best.Call.CallId);
                offers.Add(new Offer(best.Call.CallId, agent.AgentId, serving!, now, expiresAt, best.Call) { Callback = best.Callback });
            }
        }

        return Task.FromResult<IReadOnlyList<Offer>>(offers);
    }

    public Task<bool> AcceptAsync(string agentId, string callId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!TryGetReservation(agentId, callId, out var call))
            {
                return Task.FromResult(false);
            }

            _reservations.Remove((call.ExpiresAt, callId));
            call.Stage = CallStage.Connected;
            _connected++;
            _agents[agentId].Set(AgentStatus.OnCall, reason: null, now, callId);
            return Task.FromResult(true);
        }
    }

    public Task<bool> RejectAsync(string agentId, string callId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!TryGetReservation(agentId, callId, out var call))
            {
                return Task.FromResult(false);
            }

            Requeue(call);
            _agents[agentId].Set(AgentStatus.NotReady, CallQueueRules.RejectedReason, now, callId: null);
            return Task.FromResult(true);
        }
    }

    public Task<IReadOnlyList<Offer>> ExpireReservationsAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var expired = new List<Offer>();
        lock (_gate)
        {
            while (_reservations.Count > 0 && _reservations.Min.ExpiresAt <= now)
            {
                var call = _calls[_reservations.Min.CallId];
                var agentId = call.AgentId!;
                expired.Add(new Offer(call.Call.CallId, agentId, call.Call.Skill, call.OfferedAt, call.ExpiresAt, call.Call));
                Requeue(call);
                _agents[agentId].Set(AgentStatus.NotReady, CallQueueRules.NoAnswerReason, now, callId: null);
            }
        }

        return Task.FromResult<IReadOnlyList<Offer>>(expired);
    }

    public Task<bool> AbandonAsync(string callId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_calls.TryGetValue(callId, out var call))
            {
                return Task.FromResult(false);
            }

            if (call.Callback)
            {
                return Task.FromResult(false); // a virtual callback entry: the caller hung up on purpose
            }

            string? missedBy = null;
            switch (call.Stage)
            {
                case CallStage.Waiting:
                    RemoveWaiting(call);
                    break;
                case CallStage.Reserved:
                    _reservations.Remove((call.ExpiresAt, callId));
                    var agent = _agents[call.AgentId!];
                    MakeReady(agent, agent.IdleSince); // back in line at its old place
                    missedBy = agent.AgentId;
                    break;
                default:
                    return Task.FromResult(false);
            }

            _missed[callId] = new MissedCall(
                callId, call.Call.Caller, call.Call.DialledNumber, call.Call.Skill, call.Call.EnqueuedAt, now,
                missedBy is null ? CallQueueRules.AbandonedReason : CallQueueRules.MissedReason, missedBy, null, null, 0, null);
            Bury(callId, now);
            return Task.FromResult(true);
        }
    }

    public Task<bool> SetPriorityAsync(string callId, int priority, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(priority, CallQueueRules.MinPriority);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(priority, CallQueueRules.MaxPriority);
        lock (_gate)
        {
            if (!_calls.TryGetValue(callId, out var call))
            {
                return Task.FromResult(false);
            }

            switch (call.Stage)
            {
                case CallStage.Waiting:
                    _waiting[call.Call.Skill].Remove(call);
                    call.Reprioritize(priority);
                    _waiting[call.Call.Skill].Add(call);
                    return Task.FromResult(true);
                case CallStage.Reserved:
                    call.Reprioritize(priority);
                    return Task.FromResult(true);
                default:
                    return Task.FromResult(false);
            }
        }
    }

    public Task<bool> EndCallAsync(string callId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_calls.TryGetValue(callId, out var call) || call.Stage != CallStage.Connected)
            {
                return Task.FromResult(false);
            }

            _connected--;
            if (_agents.TryGetValue(call.AgentId!, out var agent) && agent.Status == AgentStatus.OnCall && agent.CallId == callId)
            {
                agent.Set(AgentStatus.WrapUp, reason: null, now, callId: null);
            }

            Bury(callId, now);
            return Task.FromResult(true);
        }
    }

    public Task<AgentState?> GetAgentAsync(string agentId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_agents.TryGetValue(agentId, out var a)
                ? new AgentState(a.AgentId, a.Status, a.Reason, a.Since, a.CallId, a.Skills)
                : null);
        }
    }

    public Task<CallPlacement?> GetCallAsync(string callId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_calls.TryGetValue(callId, out var c)
                ? new CallPlacement(c.Call, c.Stage, c.Stage == CallStage.Waiting ? null : c.AgentId) { Callback = c.Callback }
                : null);
        }
    }

    public Task<QueueSnapshot> GetSnapshotAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var skills = new List<SkillQueueFigures>(_skills.Count);
            foreach (var skill in _skills)
            {
                var waiting = _waiting.TryGetValue(skill, out var w) ? w : null;
                var longest = TimeSpan.Zero;
                if (waiting is { Count: > 0 } && _waitingByAge.TryGetValue(skill, out var byAge) && byAge.Count > 0)
                {
                    var oldest = new DateTimeOffset(byAge.Min.EnqueuedTicks, TimeSpan.Zero);
                    longest = now > oldest ? now - oldest : TimeSpan.Zero;
                }

                var staffed = _agents.Values.Count(a => a.Status is AgentStatus.Ready or AgentStatus.Reserved or AgentStatus.OnCall or AgentStatus.WrapUp
                    && a.Skills.Any(x => x.Skill == skill));
                skills.Add(new SkillQueueFigures(skill, waiting?.Count ?? 0, longest, _ready.TryGetValue(skill, out var r) ? r.Count : 0) { StaffedAgents = staffed });
            }

            var byStatus = Enum.GetValues<AgentStatus>().ToDictionary(s => s, _ => 0);
            foreach (var agent in _agents.Values)
            {
                byStatus[agent.Status]++;
            }

            return Task.FromResult(new QueueSnapshot(skills, byStatus, _reservations.Count, _connected) { Missed = _missed.Count });
        }
    }

    public void UseOverflow(IReadOnlyList<OverflowRule> rules)
    {
        CallQueueRules.ValidateOverflow(rules);
        lock (_gate)
        {
            _overflow = [.. rules];
        }
    }

    public void UseLevelFirst(IReadOnlyList<string> skills)
    {
        CallQueueRules.ValidateLevelFirst(skills);
        lock (_gate)
        {
            _levelFirst = new HashSet<string>(skills, StringComparer.Ordinal);
        }
    }

    public Task<bool> ConvertToCallbackAsync(string callId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_calls.TryGetValue(callId, out var call) || call.Stage != CallStage.Waiting || call.Callback)
            {
                return Task.FromResult(false);
            }

            call.Callback = true; // same entry, same place in its queue
            return Task.FromResult(true);
        }
    }

    public Task<IReadOnlyList<MissedCall>> GetMissedAsync(int limit, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<MissedCall>>(
                [.. _missed.Values.OrderBy(m => m.MissedAt.ToUnixTimeMilliseconds()).ThenBy(m => m.CallId, StringComparer.Ordinal).Take(Math.Max(0, limit))]);
        }
    }

    public Task<bool> ClaimMissedAsync(string callId, string agentId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(callId);
        ArgumentException.ThrowIfNullOrEmpty(agentId);
        lock (_gate)
        {
            if (!_missed.TryGetValue(callId, out var m) || (m.ClaimedBy is not null && m.ClaimedBy != agentId))
            {
                return Task.FromResult(false);
            }

            if (m.ClaimedBy is null)
            {
                _missed[callId] = m with { ClaimedBy = agentId, ClaimedAt = now };
            }

            return Task.FromResult(true);
        }
    }

    public Task<bool> CompleteMissedAsync(string callId, string agentId, string result, bool done, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(callId);
        ArgumentException.ThrowIfNullOrEmpty(agentId);
        lock (_gate)
        {
            if (!_missed.TryGetValue(callId, out var m) || m.ClaimedBy != agentId)
            {
                return Task.FromResult(false);
            }

            if (done)
            {
                _missed.Remove(callId);
            }
            else
            {
                _missed[callId] = m with { ClaimedBy = null, ClaimedAt = null, Attempts = m.Attempts + 1, LastResult = result };
            }

            return Task.FromResult(true);
        }
    }

    /// <summary>Checks the queue's invariants (diagnostics and tests); returns the violations found, none when healthy.</summary>
    public IReadOnlyList<string> VerifyInvariants()
    {
        var problems = new List<string>();
        lock (_gate)
        {
            var seen = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (skill, set) in _waiting)
            {
                foreach (var c in set)
                {
                    if (c.Stage != CallStage.Waiting || c.Call.Skill != skill || !seen.TryAdd(c.Call.CallId, "waiting"))
                    {
                        problems.Add($"call {c.Call.CallId} misplaced in waiting:{skill}");
                    }
                }
            }

            foreach (var (_, callId) in _reservations)
            {
                if (!seen.TryAdd(callId, "reserved") || _calls[callId].Stage != CallStage.Reserved)
                {
                    problems.Add($"call {callId} misplaced in reservations");
                }
            }

            foreach (var call in _calls.Values)
            {
                if (call.Stage != CallStage.Connected && !seen.ContainsKey(call.Call.CallId))
                {
                    problems.Add($"call {call.Call.CallId} ({call.Stage}) is nowhere");
                }
            }

            var holders = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var a in _agents.Values)
            {
                if (a.Status is AgentStatus.Reserved or AgentStatus.OnCall)
                {
                    var expected = a.Status == AgentStatus.Reserved ? CallStage.Reserved : CallStage.Connected;
                    if (a.CallId is null || !_calls.TryGetValue(a.CallId, out var c) || c.Stage != expected || c.AgentId != a.AgentId)
                    {
                        problems.Add($"agent {a.AgentId} ({a.Status}) holds {a.CallId} which is not its");
                    }
                    else if (!holders.TryAdd(a.CallId, a.AgentId))
                    {
                        problems.Add($"call {a.CallId} held by {holders[a.CallId]} and {a.AgentId}");
                    }
                }

                for (var s = 0; s < a.Skills.Count; s++)
                {
                    var inSet = _ready.TryGetValue(a.Skills[s].Skill, out var r) && r.Contains((ReadyScore(a, s), a.AgentId));
                    if (inSet != (a.Status == AgentStatus.Ready))
                    {
                        problems.Add($"agent {a.AgentId} ({a.Status}) ready-set membership for {a.Skills[s].Skill} is {inSet}");
                    }
                }
            }

            foreach (var id in _missed.Keys)
            {
                if (_calls.ContainsKey(id))
                {
                    problems.Add($"missed call {id} is still live");
                }
            }

            foreach (var (skill, set) in _waiting)
            {
                var byAge = _waitingByAge.GetValueOrDefault(skill);
                if ((byAge?.Count ?? 0) != set.Count || set.Any(c => byAge?.Contains((c.Call.EnqueuedAt.UtcTicks, c.Call.CallId)) != true))
                {
                    problems.Add($"waiting:{skill} and its by-age index differ");
                }
            }

            if (_reservations.Count + _connected + _waiting.Values.Sum(w => w.Count) != _calls.Count)
            {
                problems.Add("call counts do not reconcile");
            }
        }

        return problems;
    }

    private bool TryGetReservation(string agentId, string callId, out CallEntry call) =>
        _calls.TryGetValue(callId, out call!) && call.Stage == CallStage.Reserved && call.AgentId == agentId;

    private void Requeue(CallEntry call)
    {
        _reservations.Remove((call.ExpiresAt, call.Call.CallId));
        call.Stage = CallStage.Waiting;
        call.AgentId = null;
        AddWaiting(call); // same priority and enqueue time: same place
    }

    private void Bury(string callId, DateTimeOffset now)
    {
        _calls.Remove(callId);
        _tombstones[callId] = now;
        _tombstoneOrder.Enqueue((callId, now));
        while (_tombstoneOrder.TryPeek(out var oldest) && now - oldest.GoneAt > TombstoneTtl)
        {
            _tombstoneOrder.Dequeue();
            if (_tombstones.TryGetValue(oldest.CallId, out var goneAt) && goneAt == oldest.GoneAt)
            {
                _tombstones.Remove(oldest.CallId);
            }
        }
    }

    private void MakeReady(AgentEntry agent, DateTimeOffset idleSince)
    {
        agent.IdleSince = idleSince;
        agent.Set(AgentStatus.Ready, reason: null, idleSince, callId: null);
        for (var s = 0; s < agent.Skills.Count; s++)
        {
            ReadySet(agent.Skills[s].Skill).Add((ReadyScore(agent, s), agent.AgentId));
        }
    }

    private void RemoveFromReadySets(AgentEntry agent)
    {
        if (agent.Status != AgentStatus.Ready)
        {
            return;
        }

        for (var s = 0; s < agent.Skills.Count; s++)
        {
            _ready[agent.Skills[s].Skill].Remove((ReadyScore(agent, s), agent.AgentId));
        }
    }

    /// <summary>The agent's place in the ready set of its <paramref name="skill"/>-th skill, as the Redis ready ZSET scores it.</summary>
    private static long ReadyScore(AgentEntry agent, int skill) =>
        agent.ReadyOffsets[skill] + agent.IdleSince.ToUnixTimeMilliseconds();

    private void AddWaiting(CallEntry call)
    {
        WaitingSet(call.Call.Skill).Add(call);
        if (!_waitingByAge.TryGetValue(call.Call.Skill, out var byAge))
        {
            _waitingByAge.Add(call.Call.Skill, byAge = new SortedSet<(long, string)>(ByAgeOrder.Instance));
        }

        byAge.Add((call.Call.EnqueuedAt.UtcTicks, call.Call.CallId));
    }

    private void RemoveWaiting(CallEntry call)
    {
        _waiting[call.Call.Skill].Remove(call);
        _waitingByAge[call.Call.Skill].Remove((call.Call.EnqueuedAt.UtcTicks, call.Call.CallId));
    }

    private SortedSet<CallEntry> WaitingSet(string skill)
    {
        if (!_waiting.TryGetValue(skill, out var set))
        {
            _waiting.Add(skill, set = new SortedSet<CallEntry>(WaitingOrder.Instance));
        }

        return set;
    }

    private SortedSet<(long Score, string AgentId)> ReadySet(string skill)
    {
        if (!_ready.TryGetValue(skill, out var set))
        {
            _ready.Add(skill, set = new SortedSet<(long, string)>(ReadyOrder.Instance));
        }

        return set;
    }

    private sealed class CallEntry(QueuedCall call)
    {
        public QueuedCall Call { get; private set; } = call;

        public long Score { get; private set; } = CallQueueRules.WaitingScore(call.Priority, call.EnqueuedAt);

        /// <summary>Only while the entry is out of every sorted set (its order depends on the score).</summary>
        public void Reprioritize(int priority)
        {
            Call = Call with { Priority = priority };
            Score = CallQueueRules.WaitingScore(priority, Call.EnqueuedAt);
        }

        public CallStage Stage { get; set; } = CallStage.Waiting;

        /// <summary>A virtual callback entry (the caller hung up after accepting a callback).</summary>
        public bool Callback { get; set; }

        public string? AgentId { get; set; }

        public DateTimeOffset OfferedAt { get; set; }

        public DateTimeOffset ExpiresAt { get; set; }
    }

    private sealed class AgentEntry(string agentId)
    {
        public string AgentId { get; } = agentId;

        public AgentStatus Status { get; private set; } = AgentStatus.LoggedOut;

        public string? Reason { get; private set; }

        public DateTimeOffset Since { get; private set; }

        public DateTimeOffset IdleSince { get; set; }

        public string? CallId { get; private set; }

        public IReadOnlyList<AgentSkill> Skills { get; set; } = [];

        /// <summary>Per skill (same order as <see cref="Skills"/>): <see cref="CallQueueRules.ReadyOffset"/>, fixed when made ready.</summary>
        public long[] ReadyOffsets { get; set; } = [];

        public void Set(AgentStatus status, string? reason, DateTimeOffset since, string? callId)
        {
            Status = status;
            Reason = reason;
            Since = since;
            CallId = callId;
        }
    }

    /// <summary>Same order as the Redis ZSET: score (priority desc, enqueue ms asc), then call id ordinal.</summary>
    private sealed class WaitingOrder : IComparer<CallEntry>
    {
        public static readonly WaitingOrder Instance = new();

        public int Compare(CallEntry? x, CallEntry? y)
        {
            var byScore = x!.Score.CompareTo(y!.Score);
            return byScore != 0 ? byScore : string.CompareOrdinal(x.Call.CallId, y.Call.CallId);
        }
    }

    /// <summary>Oldest enqueue time first, then call id ordinal.</summary>
    private sealed class ByAgeOrder : IComparer<(long EnqueuedTicks, string CallId)>
    {
        public static readonly ByAgeOrder Instance = new();

        public int Compare((long EnqueuedTicks, string CallId) x, (long EnqueuedTicks, string CallId) y)
        {
            var byAge = x.EnqueuedTicks.CompareTo(y.EnqueuedTicks);
            return byAge != 0 ? byAge : string.CompareOrdinal(x.CallId, y.CallId);
        }
    }

    /// <summary>Lowest ready score first (longest idle, Unix ms as in Redis; in a level-first group highest level, then longest idle),
    /// then agent id ordinal.</summary>
    private sealed class ReadyOrder : IComparer<(long Score, string AgentId)>
    {
        public static readonly ReadyOrder Instance = new();

        public int Compare((long Score, string AgentId) x, (long Score, string AgentId) y)
        {
            var byScore = x.Score.CompareTo(y.Score);
            return byScore != 0 ? byScore : string.CompareOrdinal(x.AgentId, y.AgentId);
        }
    }

    private sealed class ReservationOrder : IComparer<(DateTimeOffset ExpiresAt, string CallId)>
    {
        public static readonly ReservationOrder Instance = new();

        public int Compare((DateTimeOffset ExpiresAt, string CallId) x, (DateTimeOffset ExpiresAt, string CallId) y)
        {
            var byTime = x.ExpiresAt.UtcTicks.CompareTo(y.ExpiresAt.UtcTicks);
            return byTime != 0 ? byTime : string.CompareOrdinal(x.CallId, y.CallId);
        }
    }
}
